"""What the API remembers about the request it is answering, and the one log line
it writes per GraphQL request.

The record lives in a context variable: resolvers, the query guard and the
MongoDB command listener all run in this request's task (or tasks copied from
it), so they update the same record without passing it around.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

log = logging.getLogger("newsgraph.request")

# What a client may send as X-Request-Id: anything else is replaced, so a
# request id can never forge a log line.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass
class RequestRecord:
    request_id: str
    method: str = ""
    operation: str | None = None
    outcome: str = "ok"
    status: int = 200
    duration_ms: float = 0.0
    cost: int | None = None
    mongo_round_trips: int = 0
    apq: str | None = None  # hit, miss or registered, when the request used APQ
    graphql: bool = False  # a GraphQL response was produced (not the IDE page)

    def as_line(self) -> str:
        cost = "-" if self.cost is None else self.cost
        return (
            f"request_id={self.request_id} method={self.method} "
            f"operation={self.operation or '-'} outcome={self.outcome} status={self.status} "
            f"duration_ms={self.duration_ms:.1f} cost={cost} "
            f"mongo_round_trips={self.mongo_round_trips} apq={self.apq or '-'}"
        )


current_request_id: ContextVar[str] = ContextVar("newsgraph_request_id", default="-")
current_record: ContextVar[RequestRecord | None] = ContextVar("newsgraph_request", default=None)


def request_id_from(header: str | None) -> str:
    """The client's X-Request-Id when it is a sane token, else a new one."""
    if header and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def log_request(record: RequestRecord) -> None:
    """One line per request, as key=value pairs; the same fields ride along as
    ``record.request`` for a JSON formatter."""
    level = logging.ERROR if record.outcome == "internal_server_error" else logging.INFO
    # vars(), not asdict(): the fields are flat, and asdict's deep copy is dearer.
    log.log(level, "%s", record.as_line(), extra={"request": dict(vars(record))})
