"""GraphQL over WebSocket (``graphql-transport-ws``, the protocol of the graphql-ws
library and Apollo's ``GraphQLWsLink``) on /graphql, with the safety around it:
origins, subscription limits, keepalive pings, slow consumers and shutdown.

Strawberry runs the protocol; ``LiveHandler`` adds to it, and ``Live`` holds the
process's change stream hub and open connections so a shutdown can complete every
subscription and close every socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Mapping
from contextlib import aclosing
from contextvars import ContextVar
from typing import Any

import orjson
from graphql import GraphQLError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types.execution import ExecutionResult, PreExecutionError

from api.errors import ApiError, SubscriptionLimit
from api.http.cors import origin_pattern
from api.http.error_masking import as_graphql_error, present
from api.live.hub import ChangeHub
from api.live.metrics import LiveMetrics
from api.schema.context import Context
from api.settings import Settings
from api.store.filters import Document

log = logging.getLogger("newsgraph.live")

# Close codes: 1001 the server is going away (graphql-ws clients reconnect), 1008 a
# policy was broken (here: the client read too slowly).
GOING_AWAY = 1001
POLICY_VIOLATION = 1008
# How long a message or close may wait on a socket that does not drain.
SEND_TIMEOUT_S = 1.0

# The graphql-transport-ws operation the current task runs (set per operation task).
current_operation: ContextVar[str | None] = ContextVar("current_operation", default=None)


class Live:
    """The process's subscriptions: the change stream hub and the open sockets."""

    def __init__(self, settings: Settings, metrics: LiveMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.hub: ChangeHub | None = None
        self.connections: set[LiveHandler] = set()
        self.draining = False

    def start(self, articles: AsyncCollection[Document]) -> None:
        self.hub = ChangeHub(
            articles,
            self.metrics,
            buffer=self.settings.subscription_buffer,
            grace_s=self.settings.slow_consumer_grace_s,
            max_subscribers=self.settings.max_subscriptions,
            open_timeout_s=self.settings.mongo_timeout_ms / 1000,
        )

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Graceful shutdown: complete every subscription, then close every socket
        with 1001 (going away), so clients know to reconnect elsewhere or later."""
        self.draining = True
        if self.hub is not None:
            await self.hub.close()
        connections = list(self.connections)
        if connections:
            await asyncio.wait(
                [asyncio.create_task(c.finish(timeout_s)) for c in connections],
                timeout=timeout_s + SEND_TIMEOUT_S,
            )


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Sends JSON as text frames: the view encodes JSON to bytes (orjson), which
    Strawberry would send as binary frames, and browsers' graphql-ws expects text."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        await self.ws.send_text(orjson.dumps(message).decode())


class LiveHandler(BaseGraphQLTransportWSHandler[Context, None]):
    live: Live
    closing: asyncio.Task[None] | None = None

    async def handle(self) -> None:
        self.live = self.view.live  # type: ignore[attr-defined]
        self.connection_id = uuid.uuid4().hex
        self.context.connection = self
        self.cut = asyncio.Event()
        self.keepalive: asyncio.Task[None] | None = None
        self.live.connections.add(self)
        protocol = asyncio.create_task(super().handle())
        cut = asyncio.create_task(self.cut.wait())
        try:
            await asyncio.wait({protocol, cut}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cut.cancel()
            if not protocol.done():
                # Cut off: stop reading; Strawberry's shutdown cancels the operations.
                protocol.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await protocol
            if self.keepalive is not None:
                self.keepalive.cancel()
            self.live.connections.discard(self)

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        interval = self.live.settings.keepalive_interval_s
        if self.connection_acknowledged and self.keepalive is None and interval:
            self.keepalive = asyncio.create_task(self.ping_every(interval))

    async def ping_every(self, interval: float) -> None:
        """graphql-transport-ws pings: keep proxies from closing an idle socket (the
        client answers pong); uvicorn's WebSocket pings find dead peers."""
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)  # Strawberry closes with 4401
            return
        refusal = self.refusal()
        if refusal is None:
            try:
                message = await self.persisted(message)
            except (ApiError, PyMongoError) as error:
                refusal = self.masked(as_graphql_error(error))
        if refusal is not None:
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [refusal.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def persisted(self, message: SubscribeMessage) -> SubscribeMessage:
        """The message with its query resolved as over HTTP: APQ (a hash alone runs a
        registered query) and, with APQ_SAFELIST, only registered queries."""
        payload = message.get("payload") or {}
        query, _ = await self.view.persisted.resolve(  # type: ignore[attr-defined]
            self.context.db, payload.get("query"), payload.get("extensions")
        )
        return {**message, "payload": {**payload, "query": query}}

    def refusal(self) -> GraphQLError | None:
        if self.live.draining:
            return SubscriptionLimit("The server is shutting down; reconnect in a moment.")
        limit = self.live.settings.max_subscriptions_per_connection
        if len(self.operations) >= limit:
            return SubscriptionLimit(
                f"This connection has {limit} operations open, its limit "
                "(MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first.",
                limit=limit,
            )
        return None

    async def _send_result_stream(
        self, operation: Operation[Context, None], result_source: Any
    ) -> None:
        # Strawberry's loop, with each event's errors shown as over HTTP: unexpected
        # ones masked (logged with this connection's id), MongoDB's as unavailable.
        first = True
        async for result in result_source:
            if first and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            if result.errors:
                result.errors = [self.masked(error) for error in result.errors]
            await operation.send_next(result)
            first = False

    def masked(self, error: GraphQLError) -> GraphQLError:
        formatted = present(error, self.connection_id)
        return GraphQLError(
            formatted["message"], error.nodes, path=error.path, extensions=formatted["extensions"]
        )

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        current_operation.set(operation.id)
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
        except _OperationStreamClosed:
            return
        except ApiError as error:
            # A limit (api.limits.guard) refused the document before it ran: over
            # HTTP Strawberry answers it; over WebSocket it escapes the stream.
            await operation.send_initial_errors([error])
            return
        except Exception as error:
            await self.handle_task_exception(error)
        await operation.send_operation_message({"id": operation.id, "type": "complete"})

    def slow_consumer(self, operation_id: str | None) -> None:
        """A subscription of this connection fell a whole buffer behind: tell the
        client (if the socket still takes anything) and close."""
        buffer = self.live.settings.subscription_buffer
        grace = self.live.settings.slow_consumer_grace_s
        reason = f"slow consumer: {buffer} events waiting, none taken for {grace} s"
        log.warning("closing a WebSocket: %s", reason)
        error = SubscriptionLimit(
            f"This client stopped reading: {buffer} events were waiting "
            f"(SUBSCRIPTION_BUFFER) and none was taken for {grace} s "
            "(SLOW_CONSUMER_GRACE), so the subscription was stopped and the connection "
            "closed. Read the socket continuously, or subscribe with a narrower filter.",
            limit=buffer,
        )
        message = {"id": operation_id, "type": "error", "payload": [error.formatted]}
        self.closing = asyncio.create_task(self.close_after(message, POLICY_VIOLATION, reason))

    async def close_after(self, message: Any, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(SEND_TIMEOUT_S):
                if message["id"] is not None:
                    await self.send_message(message)
                await self.websocket.close(code=code, reason=reason)
        self.cut.set()

    async def finish(self, timeout_s: float) -> None:
        """Shutdown: wait for the operations to complete (the hub has ended their
        streams, so each sends ``complete``), then close with 1001."""
        tasks = [op.task for op in self.operations.values() if op.task]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await self.websocket.close(code=GOING_AWAY, reason="server shutting down")
        self.cut.set()


def origin_allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    """Whether a page on ``origin`` may open a WebSocket: the same rule as CORS
    (``CORS_ORIGINS``, with ``:*`` for any port and ``*`` for any origin)."""
    if "*" in allowed or origin.rstrip("/") in allowed:
        return True
    pattern = origin_pattern(allowed)
    return pattern is not None and re.match(pattern, origin) is not None
