"""Running a plan: the root fields build what they can at once and ask for reads;
each round of reads fills in its fields and asks for the next, until none is left."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from graphql.execution.values import VariableValues

from api.execution.fused import Builder, compile_builder
from api.execution.plan import Fields
from api.execution.rounds import Round, Seen
from api.store.reads import Database

if TYPE_CHECKING:
    from api.search.service import SearchService


class Run:
    """One request on the compiled path."""

    def __init__(
        self, db: Database, variables: VariableValues, search: SearchService | None = None
    ) -> None:
        self.db = db
        self.variables = variables
        self.search = search  # the app's (api.search), for ``search``
        self.seen = Seen()
        self.round = Round(self.seen)  # where the fields being built ask for their reads


def build(run: Run, fields: Fields, source: Any) -> dict[str, Any]:
    """The response object for ``source``: every key in selection order, those that
    wait for a read set to None until their round fills them in."""
    return (fields.builder or _compiled(fields))(run, source)


def build_all(run: Run, fields: Fields, sources: Iterable[Any]) -> list[dict[str, Any]]:
    """``build`` of each of ``sources``, in order."""
    builder = fields.builder or _compiled(fields)
    return [builder(run, source) for source in sources]


def _compiled(fields: Fields) -> Builder:
    builder = fields.builder = compile_builder(fields)
    return builder


async def execute(run: Run, fields: Fields) -> dict[str, Any]:
    data = build(run, fields, None)
    while run.round:
        current, run.round = run.round, Round(run.seen)
        await current.run(run.db)
    return data
