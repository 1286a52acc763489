"""The fast route: a request for a document the compiled path has answered before is
run straight from the view, without Strawberry's HTTP view and ``Schema.execute``
(about 0.7 ms a request).

Such a document was parsed, validated and measured once already, and answered by a
plan; what the schema extensions do per request is done here, in their order: the
query guard's size check (passed: same text, same limits) and measure (cached per
variables, ``api.limits.shapes``), the loaded-database check (passed for good, see
``api.store.readiness``), then the plan. Anything else, or anything that would not
end in a compiled answer (bad variables, a limit exceeded, a MongoDB read for a
persisted query, the plan declining), takes the Strawberry path, which answers
exactly as before; so the response is the same bytes either way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from cross_web import HTTPException
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode
from graphql.execution.values import VariableValues, get_variable_values
from starlette.requests import Request
from starlette.responses import Response
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from api.execution.cache import PlanCache
from api.execution.hook import DECLINED, counted, run_plan
from api.http.persisted import PersistedQueries
from api.http.request_log import current_record
from api.limits.guard import SHAPES, limits_of
from api.limits.measure import enforce
from api.lru import LRU
from api.settings import Settings
from api.store.readiness import Readiness


@dataclass(frozen=True)
class Known:
    """A document the compiled path has answered, and how the plan cache names it."""

    document: DocumentNode
    operation: OperationDefinitionNode
    name: str | None


@dataclass(frozen=True)
class Call:
    """A GraphQL request as Strawberry reads it off HTTP, its fields well typed."""

    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


class View(Protocol):
    """What of the GraphQL view the fast route uses (api.http.view.NewsGraphQL)."""

    schema: BaseSchema
    settings: Settings
    persisted: PersistedQueries

    def parse_json(self, data: str | bytes) -> Any: ...

    def should_render_graphql_ide(self, request: Any) -> bool: ...

    def _get_stream_transport_from_headers(self, headers: Any) -> Any: ...

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse: ...


class KnownDocuments:
    """Documents answered by the compiled path, by query text and the operation name
    the request gave, in a bounded LRU."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: LRU[tuple[str, str | None], Known] = LRU(size)

    def remember(self, query: str, operation_name: str | None, known: Known) -> None:
        self.entries.put((query, operation_name), known)

    def get(self, query: str, operation_name: str | None) -> Known | None:
        return self.entries.touch((query, operation_name))


def media_type(header: str) -> str:
    """The media type of a Content-Type header, as Strawberry's ``parse_content_type``
    reads it, without building an ``email.message.Message`` for it (about 20 µs a
    request under cProfile).
    Anything unusual (a quote, which may hide a ``;``, or an ``=`` before the first
    ``;``) is left to Strawberry's parser."""
    media = header.partition(";")[0]
    if '"' in header or "=" in media:
        return parse_content_type(header)[0]
    return media.strip()


class FastRoute:
    def __init__(self, view: View) -> None:
        self.view = view
        self.known = KnownDocuments(view.settings.plan_cache_size)

    async def answer(self, request: Request) -> Response | None:
        """The response, or None: the Strawberry path is to answer."""
        view = self.view
        state = request.app.state
        plans: PlanCache = state.plans
        readiness: Readiness = state.readiness
        if view.settings.executor != "compiled" or not readiness.loaded:
            return None
        call = await self.read(request)
        if call is None:
            return None
        resolved = view.persisted.resolve_cached(call.query, call.extensions)
        if resolved is None:
            return None
        query, apq = resolved
        known = self.known.get(query, call.operation_name)
        if known is None:
            return None
        record = current_record.get()
        assert record is not None
        record.operation = call.operation_name
        record.apq = apq
        schema = view.schema._schema  # type: ignore[attr-defined]
        operation = known.operation
        variables = get_variable_values(
            schema, operation.variable_definitions or (), call.variables or {}
        )
        if not isinstance(variables, VariableValues):
            return None
        shape = SHAPES.shape(schema, query, known.document, operation, variables.coerced)
        record.cost = shape.cost
        record.operation = operation.name.value if operation.name else record.operation
        try:
            enforce(shape, limits_of(view.settings))
        except GraphQLError:
            return None
        db = state.db
        search = getattr(state, "search", None)
        answer = run_plan(
            plans, db, search, schema, known.document, operation, known.name, variables
        )
        result = await counted(plans, answer)
        if result is None:
            request.scope[DECLINED] = True  # counted: the reference path answers
            return None
        plans.fast += 1
        cost = {"requested": shape.cost, "limit": view.settings.max_cost}
        done = ExecutionResult(data=result.data, errors=result.errors, extensions={"cost": cost})
        body = await view.process_result(request, done)
        return Response(orjson.dumps(body), status_code=200, media_type="application/json")

    async def read(self, request: Request) -> Call | None:
        """The request's GraphQL fields, when Strawberry would run them as one
        operation over plain HTTP; None for anything else (the IDE page, a batch,
        multipart, a streamed subscription, a malformed request)."""
        view = self.view
        if view._get_stream_transport_from_headers(request.headers) is not None:
            return None
        if request.method == "GET":
            if view.should_render_graphql_ide(request):
                return None
            data: Any = dict(request.query_params)
            for name in ("variables", "extensions"):
                if data.get(name):
                    data[name] = self.parse(data[name])
                    if data[name] is None:
                        return None
        elif request.method == "POST":
            if "application/json" not in media_type(request.headers.get("content-type") or ""):
                return None
            data = self.parse(await request.body())
        else:
            return None
        if not isinstance(data, dict):
            return None
        query, variables = data.get("query"), data.get("variables")
        extensions, operation_name = data.get("extensions"), data.get("operationName")
        if not (
            isinstance(query, str | None)
            and isinstance(variables, dict | None)
            and isinstance(extensions, dict | None)
            and isinstance(operation_name, str | None)
        ):
            return None
        return Call(query, variables, operation_name, extensions)

    def parse(self, text: str | bytes) -> Any:
        try:
            return self.view.parse_json(text)
        except HTTPException:
            return None
