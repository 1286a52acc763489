"""The GraphQL endpoint: Strawberry's ASGI view plus the production edge around
each request: persisted queries, error masking, status codes, HTTP caching, the
request record (log line and metrics)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError, ServerSelectionTimeoutError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from api.errors import ApiError, BadRequest, PersistedQueryNotFound
from api.execution.hook import ANSWERED
from api.http import deadline, graphiql
from api.http.body_limit import BodyTooLarge, limit_body
from api.http.caching import apply_caching
from api.http.error_masking import UNAVAILABLE, as_graphql_error, present
from api.http.fast_route import FastRoute, Known
from api.http.metrics import Metrics
from api.http.persisted import PersistedQueries
from api.http.request_log import RequestRecord, current_record, current_request_id, log_request
from api.limits.measure import parse_document
from api.live.transport import Live, LiveHandler, TextWebSocketAdapter, origin_allowed
from api.schema.context import Context
from api.settings import Settings
from api.store import reads

# The HTTP status a response gets when its first error has this code; 200 otherwise,
# as GraphQL over HTTP answers errors in the body.
STATUS_BY_CODE = {
    "SERVICE_UNAVAILABLE": 503,
    "DATABASE_NOT_LOADED": 503,
    "BAD_REQUEST": 400,
    "DEADLINE_EXCEEDED": 504,
}
# Strawberry's refusals of malformed HTTP requests, said so the client can act.
CLEARER_REASONS = {
    "Batching is not enabled": "Batched requests are not supported: send one operation "
    "per request.",
    "Unsupported content type": "POST requests must have Content-Type: application/json.",
}


OVER_WEBSOCKET = (
    "Subscriptions are served over WebSocket: connect to /graphql with the "
    "graphql-transport-ws protocol (graphql-ws, Apollo's GraphQLWsLink)."
)


def is_subscription(query: str | None, operation_name: str | None, max_tokens: int) -> bool:
    """Whether the operation to run is a subscription (False when the document does
    not parse or names no operation: execution reports those)."""
    if not query or "subscription" not in query:
        return False
    try:
        operation = get_operation_ast(parse_document(query, max_tokens), operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation is OperationType.SUBSCRIPTION


class NewsGraphQL(GraphQL[Context, None]):
    # Subscriptions over graphql-transport-ws only (api.live.transport adds the limits).
    graphql_transport_ws_handler_class = LiveHandler
    websocket_adapter_class = TextWebSocketAdapter

    def __init__(
        self,
        schema: BaseSchema,
        settings: Settings,
        persisted: PersistedQueries,
        metrics: Metrics,
        live: Live,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.connection_init_timeout_s),
            max_subscriptions_per_connection=None,
        )
        self.settings = settings
        self.persisted = persisted
        self.metrics = metrics
        self.live = live
        self.fast = FastRoute(self)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(db=request.app.state.db, request=request, response=response)

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        # Browsers apply no CORS to WebSockets: without this check any site could
        # open one with its visitors' cookies (cross-site WebSocket hijacking).
        return origin_allowed(origin, self.settings.cors_origins)

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page_response()

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET carrying a persisted-query hash and no text is a query, not a browser.
        return (
            super().should_render_graphql_ide(request)
            and request.query_params.get("extensions") is None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, limit_body(receive, self.settings.max_body_bytes))
        record = RequestRecord(request_id=current_request_id.get(), method=request.method)
        token = current_record.set(record)
        started = time.perf_counter()
        try:
            response = await self.answer(request, record)
        finally:
            current_record.reset(token)
        record.duration_ms = (time.perf_counter() - started) * 1000
        record.status = response.status_code
        self.metrics.observe(record)
        log_request(record)
        await response(scope, receive, send)

    async def answer(self, request: Request, record: RequestRecord) -> Response:
        try:
            async with deadline.within(self.settings.request_deadline_ms):
                response = await self.fast.answer(request)
                if response is None:
                    response = await self.run(request)
        except TimeoutError:
            response = self.timed_out(request, record)
        except BodyTooLarge as exc:
            response = self.error_response(exc, 413, record)
        except HTTPException as exc:
            reason = CLEARER_REASONS.get(exc.reason, exc.reason)
            response = self.error_response(BadRequest(reason), exc.status_code, record)
        except Exception as exc:  # the edge: nothing escapes as a 500 page
            response = self.error_response(as_graphql_error(exc), 500, record)
        else:
            code = record.outcome.upper()
            response.status_code = STATUS_BY_CODE.get(code, response.status_code)
        if record.outcome == UNAVAILABLE.lower():
            response.headers["Retry-After"] = "5"
        cacheable = record.graphql and record.outcome == "ok"
        return apply_caching(request, response, cacheable, self.settings.cache_max_age)

    def timed_out(self, request: Request, record: RequestRecord) -> Response:
        """The deadline cancelled the request: DEADLINE_EXCEEDED, unless it was
        waiting for a MongoDB that cannot be reached (SERVICE_UNAVAILABLE)."""
        client: AsyncMongoClient[reads.Document] = request.app.state.mongo
        if not client.topology_description.has_readable_server():
            unreachable = ServerSelectionTimeoutError("no MongoDB server is reachable")
            return self.error_response(as_graphql_error(unreachable), 503, record)
        return self.error_response(deadline.exceeded(), 504, record)

    def parse_json(self, data: str | bytes) -> Any:
        # The body, and GET's variables and extensions, must be JSON objects
        # (a list is a batch, refused later with its own message). orjson refuses
        # nesting deeper than 1,024 levels with an error, where json recurses until
        # RecursionError.
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, f"The request is not valid JSON: {exc}.") from None
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "Expected a JSON object (a GraphQL request).")
        return parsed

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        # Strawberry checks the types of query, variables and extensions, not this one.
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise HTTPException(
                400, "The GraphQL operation's `operationName` must be a string or null."
            )
        return data

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        # Strawberry would stream a subscription over HTTP (multipart) outside the
        # WebSocket's limits; they are served over WebSocket only.
        if isinstance(request_data, GraphQLRequestData) and request_data.protocol != "http":
            raise HTTPException(400, OVER_WEBSOCKET)
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        record = current_record.get()
        if record is not None:
            record.operation = request_data.operation_name
        try:
            query, apq = await self.persisted.resolve(
                context.db, request_data.query, request_data.extensions
            )
        except (ApiError, PyMongoError) as error:
            if record is not None and isinstance(error, PersistedQueryNotFound):
                record.apq = "miss"
            return ExecutionResult(data=None, errors=[as_graphql_error(error)])
        if record is not None:
            record.apq = apq
        if is_subscription(query, request_data.operation_name, self.settings.max_tokens):
            return ExecutionResult(data=None, errors=[BadRequest(OVER_WEBSOCKET)])
        request_data.query = query
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        answered = request.scope.pop(ANSWERED, None)
        if answered is not None and query is not None:
            self.fast.known.remember(query, request_data.operation_name, Known(*answered))
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        record = current_record.get()
        assert record is not None
        record.graphql = True
        errors: list[object] = [self.present(error, record) for error in result.errors or ()]
        extensions = dict(result.extensions or {})
        extensions.setdefault("cost", self.no_cost())
        response: GraphQLHTTPResponse = {"data": result.data}
        if errors:
            response["errors"] = errors
        response["extensions"] = extensions
        return response

    def present(self, error: GraphQLError, record: RequestRecord) -> dict[str, Any]:
        formatted = present(error, record.request_id)
        if record.outcome == "ok":
            record.outcome = str(formatted["extensions"]["code"]).lower()
        return formatted

    def error_response(self, error: GraphQLError, status: int, record: RequestRecord) -> Response:
        """A request refused or failed outside GraphQL execution, as a GraphQL response."""
        body = {
            "data": None,
            "errors": [self.present(error, record)],
            "extensions": {"cost": self.no_cost()},
        }
        return Response(orjson.dumps(body), status_code=status, media_type="application/json")

    def no_cost(self) -> dict[str, int]:
        return {"requested": 0, "limit": self.settings.max_cost}
