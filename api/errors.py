"""Errors the API raises on purpose, each with a code in ``extensions.code``."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class ApiError(GraphQLError):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class BadCursor(ApiError):
    code = "BAD_CURSOR"


class BadRequest(ApiError):
    """The HTTP request itself is unusable (not JSON, a batch, a wrong APQ hash...)."""

    code = "BAD_REQUEST"


class QueryTooLarge(ApiError):
    code = "QUERY_TOO_LARGE"


class TooManyTokens(ApiError):
    code = "TOO_MANY_TOKENS"


class QueryTooDeep(ApiError):
    code = "QUERY_TOO_DEEP"


class TooManyAliases(ApiError):
    code = "TOO_MANY_ALIASES"


class CostExceeded(ApiError):
    code = "COST_EXCEEDED"


class PersistedQueryNotFound(ApiError):
    """Apollo Client's persisted-queries link retries with the full query when it
    sees this message or code, so both are Apollo's exact spelling."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class PrimaryUnavailable(ApiError):
    """A write (registering a persisted query) found no MongoDB primary, though reads
    may still be served by secondaries. Answered with HTTP 503 and Retry-After."""

    code = "SERVICE_UNAVAILABLE"


class PersistedQueryNotAllowed(ApiError):
    """Safelist mode: the query is not one of the registered ones."""

    code = "PERSISTED_QUERY_NOT_IN_SAFELIST"


class SubscriptionLimit(ApiError):
    """A per-connection or per-process subscription limit is reached."""

    code = "SUBSCRIPTION_LIMIT"


class ServiceUnavailable(ApiError):
    code = "SERVICE_UNAVAILABLE"


class DatabaseNotLoaded(ApiError):
    """The database lacks what the loader creates (collections, indexes): the
    operator runs the loader, the client retries later. Answered with HTTP 503."""

    code = "DATABASE_NOT_LOADED"
