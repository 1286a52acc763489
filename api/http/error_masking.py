"""How each GraphQL error reaches the client: errors raised on purpose and
GraphQL's own keep their message and get a code; a lost MongoDB becomes
``SERVICE_UNAVAILABLE``; anything else is masked as ``Internal server error``,
its traceback logged with the request id that the client also receives."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from pymongo.errors import ConnectionFailure

from api.http import deadline

log = logging.getLogger("newsgraph.api")

INTERNAL = "INTERNAL_SERVER_ERROR"
UNAVAILABLE = "SERVICE_UNAVAILABLE"


def present(error: GraphQLError, request_id: str) -> dict[str, Any]:
    """The error as the client sees it (``extensions.code`` always set)."""
    cause = _cause(error)
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    where = ".".join(map(str, error.path or ())) or "-"
    if cause is None or isinstance(cause, GraphQLError):
        if "code" not in extensions:
            syntax = isinstance(cause or error, GraphQLSyntaxError)
            extensions["code"] = "GRAPHQL_PARSE_FAILED" if syntax else "GRAPHQL_VALIDATION_FAILED"
    elif deadline.is_deadline_error(cause):
        # MongoDB gave up at the request's deadline: the same answer as when the
        # deadline cancels the request itself.
        expired = deadline.exceeded()
        formatted["message"] = expired.message
        extensions = {**(expired.extensions or {}), "requestId": request_id}
    elif isinstance(cause, ConnectionFailure):
        log.warning("request %s: MongoDB unavailable at %s: %s", request_id, where, cause)
        formatted["message"] = "The database is unavailable; retry in a few seconds."
        extensions = {"code": UNAVAILABLE, "requestId": request_id}
    else:
        log.error("request %s: unexpected error at %s", request_id, where, exc_info=cause)
        formatted["message"] = "Internal server error"
        extensions = {"code": INTERNAL, "requestId": request_id}
    formatted["extensions"] = extensions
    return formatted


def as_graphql_error(error: Exception) -> GraphQLError:
    return (
        error if isinstance(error, GraphQLError) else GraphQLError(str(error), original_error=error)
    )


def _cause(error: GraphQLError) -> BaseException | None:
    """The exception behind a GraphQL error: None for GraphQL's own errors."""
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError) and cause.original_error is not None:
        cause = cause.original_error
    return cause
