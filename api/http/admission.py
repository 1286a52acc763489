"""Admission control for GraphQL requests (an ASGI middleware).

At most ``MAX_CONCURRENT_REQUESTS`` requests execute at once; up to
``ADMISSION_QUEUE`` more wait, in arrival order, for one to finish; any request
beyond those is answered at once with 503 ``SERVICE_UNAVAILABLE`` and
``Retry-After``, so the admitted ones keep their latency under any load and the
excess knows immediately to come back later. A request that waits in the queue
until its deadline (``REQUEST_DEADLINE_MS``, whose clock starts here) is shed too.

The body is read before a request queues (api.http.connections times its
arrival): a slow upload holds a connection, never an execution slot. Only
``/graphql`` is admitted this way; ``/healthz``, ``/readyz`` and ``/metrics`` are
never queued behind queries.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError
from api.http import deadline
from api.http.load_metrics import LoadMetrics
from api.http.shed_pause import ShedPause
from api.store.time_limit import seconds_left

RETRY_AFTER_S = 1
# Set in the scope of a shed request, for the connection's protocol (api.http.connections).
SHED = "newsgraph.shed"
# Set by the protocol in the scope of a request on its way to the gate (an Arrival).
ARRIVAL = "newsgraph.arrival"


class Gate:
    """A counting semaphore with a bounded FIFO queue that refuses instead of
    queueing past its bound."""

    def __init__(self, limit: int, queue: int) -> None:
        self.limit = limit
        self.queue = queue
        self.running = 0
        self.waiters: deque[asyncio.Future[None]] = deque()
        # Requests whose task the protocol started but that have not reached the
        # middleware yet: many can complete their headers in one turn of the loop.
        self.arriving = 0

    def full(self) -> bool:
        return self.running >= self.limit and len(self.waiters) >= self.queue

    def full_ahead(self) -> bool:
        """Full once the requests already on their way have taken their places (the
        same as full() when none are): the protocol's test, so that it refuses those
        the middleware would, instead of passing them all while no task has run."""
        return self.running + len(self.waiters) + self.arriving >= self.limit + self.queue

    async def enter(self, timeout: float) -> str | None:
        """Take a slot, waiting at most ``timeout`` seconds; else why not."""
        if self.running < self.limit and not self.waiters:
            self.running += 1
            return None
        if len(self.waiters) >= self.queue:
            return "queue_full"
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except TimeoutError:
            self._forget(waiter)
            return "queue_timeout"
        except BaseException:
            self._forget(waiter)
            raise
        return None

    def leave(self) -> None:
        """Free a slot: handed straight to the longest waiter, if any."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.running -= 1

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done() and not waiter.cancelled():
            self.leave()  # handed a slot just as the wait ended: pass it on
        elif waiter in self.waiters:
            self.waiters.remove(waiter)


class Arrival:
    """One request counted in ``Gate.arriving`` until ``done()``, called once it
    reaches the middleware (or, failing that, by its protocol when the connection
    moves on or closes); later calls do nothing. Held in the scope by reference, so
    a middleware that copies the scope does not count it twice."""

    __slots__ = ("gate",)

    def __init__(self, gate: Gate) -> None:
        self.gate: Gate | None = gate
        gate.arriving += 1

    def done(self) -> None:
        gate = self.gate
        if gate is not None:
            self.gate = None
            gate.arriving -= 1


class ServiceOverloaded(ApiError):
    code = "SERVICE_UNAVAILABLE"


class AdmissionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        gate: Gate,
        deadline_ms: int,
        max_body_bytes: int,
        metrics: LoadMetrics,
        shed_pause: ShedPause,
        paths: frozenset[str] = frozenset({"/graphql"}),
    ) -> None:
        self.app = app
        self.gate = gate
        self.shed_pause = shed_pause
        self.deadline_ms = deadline_ms
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.paths = paths
        metrics.watch(
            lambda: self.gate.running, lambda: len(self.gate.waiters), lambda: shed_pause.seconds
        )
        self.overloaded = overloaded_body(gate)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrival: Arrival | None = scope.get(ARRIVAL)
        if arrival is not None:
            arrival.done()
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        if self.gate.full():  # the cheap way out, before reading anything
            await self.shed(scope, send, "queue_full")
            return
        messages = await _read_body(receive, self.max_body_bytes)
        if messages[-1]["type"] == "http.disconnect":
            return  # the client left (or dawdled and was cut off): nobody to answer
        deadline.start(self.deadline_ms)
        refused = await self.gate.enter(max(seconds_left() or 0.0, 0.0))
        if refused:
            await self.shed(scope, send, refused)
            return
        started = time.monotonic()
        try:
            await self.app(scope, _replay(messages, receive), send)
        finally:
            self.shed_pause.record(time.monotonic() - started)
            self.gate.leave()

    async def shed(self, scope: Scope, send: Send, reason: str) -> None:
        self.metrics.request_shed(reason)
        scope[SHED] = True
        headers = [(b"retry-after", str(RETRY_AFTER_S).encode())]
        await _respond(send, 503, self.overloaded, headers)


def overloaded_body(gate: Gate) -> bytes:
    """The body of a shed request's 503 (the usual GraphQL error shape)."""
    return _error_body(
        ServiceOverloaded(
            f"The server is at capacity ({gate.limit} requests running, {gate.queue} "
            f"waiting); retry in {RETRY_AFTER_S} s."
        )
    )


async def _read_body(receive: Receive, max_bytes: int) -> list[Message]:
    """The request's messages up to the end of its body, or up to just past
    ``max_bytes`` (the view then refuses it as too large)."""
    messages: list[Message] = []
    received = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        received += len(message.get("body", b""))
        if not message.get("more_body", False) or received > max_bytes:
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = deque(messages)

    async def replayed() -> Message:
        if pending:
            return pending.popleft()
        return await receive()

    return replayed


def _error_body(error: ApiError) -> bytes:
    formatted = {"message": error.message, "extensions": error.extensions}
    return orjson.dumps({"data": None, "errors": [formatted]})


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
