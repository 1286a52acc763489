"""Connection hygiene, in uvicorn's httptools HTTP protocol (uvicorn has no such
timeouts: its only one is the keep-alive timeout, between requests).

- A request's head must arrive within ``HEADER_TIMEOUT_MS`` of the connection's
  opening, or of the request's first byte on a kept-alive connection; its body
  within ``BODY_TIMEOUT_MS`` of the head. Otherwise the client gets 408 and the
  connection is closed: a slowloris client cannot hold connections open.
- At most ``MAX_CONNECTIONS`` connections are open at once; a connection past that
  is answered 503 with ``Retry-After`` and closed as it opens, and the connections
  already open are served as before. WebSocket connections count: uvicorn keeps
  them in the same set as HTTP ones.
- Idle keep-alive connections close after ``KEEP_ALIVE_TIMEOUT`` (uvicorn's own).
- Shedding's cheap path: while the admission gate (api.http.admission) is full,
  counting the requests already on their way to it, a GraphQL request is answered
  503 here, from bytes made once, before any task or middleware exists (and before
  uvicorn builds its request: its head is only collected until it is known to be
  refused); and nothing more a shed connection sends is parsed for a pause (it is
  held meanwhile; api.http.shed_pause says how long). A client that retries at once
  in a loop would otherwise take the CPU the admitted requests need: under overload
  most requests are refused, and each costs the event loop a read, a parse and a write.
  Such a client sends the same bytes each time: a connection keeps the bytes of its
  last refused request when they were that request alone, and the same bytes again,
  while the gate is still full, are refused without parsing them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, cast

import httptools
import orjson
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.http.admission import ARRIVAL, RETRY_AFTER_S, SHED, Arrival, Gate, overloaded_body
from api.http.load_metrics import LoadMetrics
from api.http.shed_pause import ShedPause
from api.settings import Settings

ADMITTED_PATHS = frozenset({b"/graphql"})  # those AdmissionMiddleware admits
# How often the deadlines are checked: a connection is closed up to this late.
SWEEP_S = 0.25
# The longest refused request a connection keeps to recognise its repetition.
REPEAT_MAX_BYTES = 16 * 1024


def _error(code: str, message: str) -> bytes:
    error = {"message": message, "extensions": {"code": code}}
    return orjson.dumps({"data": None, "errors": [error]})


def _response(status: str, body: bytes, *headers: str) -> bytes:
    head = [
        f"HTTP/1.1 {status}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "cache-control: no-store",
        *headers,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on each request's head and body
    and a bound on open connections. Configured by ``guarded_protocol``."""

    header_timeout: float
    body_timeout: float
    shed_pause: ShedPause
    max_connections: int
    metrics: LoadMetrics
    timed_out: dict[str, bytes]
    refused: bytes

    gate: Gate
    overloaded: bytes
    overloaded_close: bytes

    phase: str | None = None  # "header_timeout" or "body_timeout" while one runs
    phase_since = 0.0  # loop.time() when it began
    shedding: bool = False  # the current request is refused: read it, then 503
    # The raw headers of a request begun while the gate was full (on_message_begin).
    deferred: list[tuple[bytes, bytes]] | None = None
    arrival: Arrival | None = None  # the last request, until it reaches the gate
    # While a shed connection's pause runs: the bytes it sends, parsed when it ends.
    held: list[bytes] | None = None
    held_size = 0
    held_paused = False  # reading paused: the client sent more than HIGH_WATER_LIMIT
    paused_at = 0.0  # loop.time() when the last pause began
    # The bytes of the last refused request, when an idle parser fed them parsed that
    # one request and nothing more: fed again, they would be refused again.
    repeat: bytes | None = None
    in_message = False  # between a message's first byte and its end
    completed = 0  # messages ended while the current data was fed
    refused_here = False  # one of them was refused, the connection kept open
    sweeping: bool = False  # set on the class bound to one server (guarded_protocol)
    pauses: Pauses  # set on the class bound to one server, with sweeping

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        connections = self.connections
        if not type(self).sweeping:
            type(self).sweeping = True
            type(self).pauses = Pauses(self.loop, self.shed_pause)
            self.metrics.connections.set_function(lambda: len(connections))
            self.loop.call_later(SWEEP_S, _sweep, self.loop, connections)
        if len(connections) > self.max_connections:
            self.metrics.connection_closed("refused")
            self.transport.write(self.refused)
            self.transport.close()
            return
        self._watch("header_timeout")

    def connection_lost(self, exc: Exception | None) -> None:
        self._watch(None)
        self._arrived()
        self.held = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        held = self.held
        if held is None:
            if data == self.repeat and self._may_shed():
                self._refuse()
            else:
                self._parse(data)
            return
        held.append(data)
        self.held_size += len(data)
        if self.held_size > HIGH_WATER_LIMIT and not self.flow.read_paused:
            self.held_paused = True
            self.flow.pause_reading()

    def _parse(self, data: bytes) -> None:
        """uvicorn's data_received, noting whether ``data`` was one refused request."""
        idle = not self.in_message
        self.completed = 0
        self.refused_here = False
        super().data_received(data)
        # Idle before and after, one message ended: ``data`` was that message, whole.
        whole = idle and not self.in_message and self.completed == 1
        if whole and self.refused_here and len(data) <= REPEAT_MAX_BYTES:
            self.repeat = data
        else:
            self.repeat = None

    # The parser's callbacks: a message begins at its first byte.
    def on_message_begin(self) -> None:
        self.in_message = True
        self._watch("header_timeout")  # the first request's keeps the connection's start
        if self._may_shed():
            # Likely to be refused: keep the raw URL and headers, and build uvicorn's
            # request (the scope, lowercased headers) from them only if it is not.
            self.url = b""
            self.deferred = []
            return
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        deferred = self.deferred
        if deferred is None:
            super().on_header(name, value)
        else:
            deferred.append((name, value))

    def on_headers_complete(self) -> None:
        self._watch("body_timeout")
        deferred, self.deferred = self.deferred, None
        if self._should_shed():
            self.shedding = True
            return
        if deferred is not None:
            self._replay(deferred)
        previous = self.cycle
        super().on_headers_complete()
        if (
            self.cycle is not previous
            and (previous is None or previous.response_complete)  # its task starts now
            and self._gated()
        ):
            self.arrival = Arrival(self.gate)
            cast("dict[str, Any]", self.scope)[ARRIVAL] = self.arrival

    def _replay(self, headers: list[tuple[bytes, bytes]]) -> None:
        """uvicorn's callbacks for a request whose head was only collected."""
        url = self.url
        super().on_message_begin()
        self.url = url
        for name, value in headers:
            super().on_header(name, value)

    def on_body(self, body: bytes) -> None:
        if not self.shedding:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self.in_message = False
        self.completed += 1
        self._watch(None)
        if self.shedding:
            self.shedding = False
            self._shed()
            return
        super().on_message_complete()

    def _may_shed(self) -> bool:
        """The gate is full, counting the requests on their way to it, and nothing of
        this connection's is still being answered (so a 503 cannot overtake an
        earlier response)."""
        return (
            self.gate.full_ahead()
            and (self.cycle is None or self.cycle.response_complete)
            and not self.pipeline
        )

    def _should_shed(self) -> bool:
        """Shed here, before any task or middleware exists: _may_shed(), for a
        GraphQL request (not a CORS preflight or a WebSocket upgrade)."""
        return self._may_shed() and not self.parser.should_upgrade() and self._gated()

    def _gated(self) -> bool:
        """A request AdmissionMiddleware admits (OPTIONS: CORS answers preflights)."""
        url = self.url
        return self.parser.get_method() != b"OPTIONS" and (
            url in ADMITTED_PATHS or httptools.parse_url(url).path in ADMITTED_PATHS
        )

    def _arrived(self) -> None:
        """This connection's last request has reached the middleware, or never will."""
        if self.arrival is not None:
            self.arrival.done()
            self.arrival = None

    def _shed(self) -> None:
        if not self.parser.should_keep_alive():
            self.metrics.request_shed("queue_full")
            self.transport.write(self.overloaded_close)
            self.transport.close()
            return
        self.refused_here = True
        self._refuse()

    def _refuse(self) -> None:
        """503 on a connection kept open, then its pause."""
        self.metrics.request_shed("queue_full")
        self.transport.write(self.overloaded)
        self._pause_after_shedding()

    def handle_websocket_upgrade(self) -> None:
        self._watch(None)  # the WebSocket protocol owns the connection from here
        super().handle_websocket_upgrade()

    def on_response_complete(self) -> None:
        self._arrived()
        super().on_response_complete()
        if self.scope.get(SHED) and not self.transport.is_closing():
            self._pause_after_shedding()

    def _pause_after_shedding(self) -> None:
        """Parse nothing more from this connection for the pause. Its reader stays
        registered and what arrives meanwhile is held, not parsed: pausing and resuming
        reads through the selector, with a timer of its own, cost as much again as
        the refusal. The keep-alive timer starts only if the pause ends idle."""
        self._unset_keepalive_if_required()
        if self.shed_pause.seconds <= 0:
            self._keep_alive(self.timeout_keep_alive)
        elif self.held is None:
            self.held = []
            self.held_size = 0
            self.paused_at = self.loop.time()
            self.pauses.add(self, self.paused_at)

    def end_pause(self) -> None:
        """The pause is over: parse what arrived during it, or wait idle."""
        held, self.held = self.held, None
        if held is None or self.transport.is_closing():
            return
        if self.held_paused:
            self.held_paused = False
            self.flow.resume_reading()
        if held:
            self.data_received(b"".join(held))
        else:  # idle since the 503: the keep-alive timeout counts from it
            self._keep_alive(self.timeout_keep_alive - (self.loop.time() - self.paused_at))

    def _keep_alive(self, delay: float) -> None:
        self.timeout_keep_alive_task = self.loop.call_later(
            max(delay, 0.0), self.timeout_keep_alive_handler
        )

    def sweep(self, now: float) -> None:
        """The sweeper's visit: end an expired phase."""
        if self.phase is not None:
            limit = self.header_timeout if self.phase == "header_timeout" else self.body_timeout
            if now - self.phase_since >= limit:
                self._expired(self.phase)

    def timeout_keep_alive_handler(self) -> None:
        if not self.transport.is_closing():
            self.metrics.connection_closed("idle")
        super().timeout_keep_alive_handler()

    def _watch(self, phase: str | None) -> None:
        """Time ``phase`` from now; a phase already running keeps its start."""
        if phase != self.phase:
            self.phase = phase
            self.phase_since = self.loop.time()

    def _expired(self, phase: str) -> None:
        self.phase = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            return
        self.metrics.connection_closed(phase)
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self.transport.write(self.timed_out[phase])
        self.transport.close()


class Pauses:
    """The shed connections whose pause runs, in the order they began, under one
    timer: the head's end. Each is ended at its time or, on a busy loop, as soon after
    as the loop gets to it, together with the others due then. A pause is never ended
    early; when the pause has just shortened (api.http.shed_pause), the pauses begun
    since end with the longer ones before them, which cost them at most the
    difference."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pause: ShedPause) -> None:
        self.loop = loop
        self.pause = pause
        self.running: deque[tuple[float, GuardedProtocol]] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self.ending = False  # in _due: a pause begun by end_pause() must not add a timer

    def add(self, protocol: GuardedProtocol, since: float) -> None:
        """Pause ``protocol`` from ``since`` (loop.time(), now or just before)."""
        self.running.append((since + self.pause.seconds, protocol))
        if self.timer is None and not self.ending:
            self.timer = self.loop.call_at(self.running[0][0], self._due)

    def _due(self) -> None:
        self.timer = None
        self.ending = True
        running = self.running
        now = self.loop.time()
        try:
            while running and running[0][0] <= now:
                running.popleft()[1].end_pause()
        finally:
            self.ending = False
            if running:
                self.timer = self.loop.call_at(running[0][0], self._due)


def _sweep(loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
    """Visit every open connection, then again in SWEEP_S: one timer for all of them
    instead of one per request and phase."""
    now = loop.time()
    for protocol in list(connections):
        if isinstance(protocol, GuardedProtocol):
            protocol.sweep(now)
    loop.call_later(SWEEP_S, _sweep, loop, connections)


def guarded_protocol(
    settings: Settings, metrics: LoadMetrics, gate: Gate, shed_pause: ShedPause
) -> type[GuardedProtocol]:
    """The protocol class for uvicorn's ``http`` option, bound to these settings."""
    header_s = settings.header_timeout_ms / 1000
    body_s = settings.body_timeout_ms / 1000
    attributes: dict[str, Any] = {
        "header_timeout": header_s,
        "body_timeout": body_s,
        "shed_pause": shed_pause,
        "max_connections": settings.max_connections,
        "metrics": metrics,
        "gate": gate,
        "timed_out": {
            "header_timeout": _response(
                "408 Request Timeout",
                _error(
                    "REQUEST_TIMEOUT",
                    f"The request's headers did not arrive within {header_s:g} s; the "
                    "connection is closed. Send the whole request at once.",
                ),
                "connection: close",
            ),
            "body_timeout": _response(
                "408 Request Timeout",
                _error(
                    "REQUEST_TIMEOUT",
                    f"The request's body did not arrive within {body_s:g} s of its headers; "
                    "the connection is closed. Send the whole request at once.",
                ),
                "connection: close",
            ),
        },
        "refused": _response(
            "503 Service Unavailable",
            _error(
                "SERVICE_UNAVAILABLE",
                f"The server has {settings.max_connections} connections open, its limit; "
                "retry in a few seconds.",
            ),
            "retry-after: 5",
            "connection: close",
        ),
        "overloaded": _response(
            "503 Service Unavailable", overloaded_body(gate), f"retry-after: {RETRY_AFTER_S}"
        ),
        "overloaded_close": _response(
            "503 Service Unavailable",
            overloaded_body(gate),
            f"retry-after: {RETRY_AFTER_S}",
            "connection: close",
        ),
    }
    return type("GuardedProtocol", (GuardedProtocol,), attributes)
