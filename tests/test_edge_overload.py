"""Overload and hostile connections over real sockets: half-sent headers and slow
bodies are cut off at their deadlines while other clients are served, a full queue
sheds with 503 and Retry-After at once, and a query past the request deadline is
cancelled together with its MongoDB operation (seen gone in ``$currentOp``).

A mongod of this module's own runs with test commands enabled, for failpoints that
hold the API's MongoDB operations as long as a test needs."""

from __future__ import annotations

import asyncio
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.http.admission import Gate
from api.http.connections import GuardedProtocol, Pauses
from api.http.shed_pause import EVERY, WINDOW, ShedPause, p99
from api.settings import Settings, SettingsError
from loaders.load import load_paths
from storage.mongod import Mongod
from tests.conftest import ROOT, SEEDS, ServedAPI
from tests.live import Client

DATABASE = "overload"
PAGE = "{ articles(first: 1) { nodes { title } } }"
APP_NAME = "newsgraph-api"


@pytest.fixture(scope="module")
def failpoint_mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoClient[Any]]:
    """A seeded mongod that accepts configureFailPoint; yields a client to it."""
    dbpath = tmp_path_factory.mktemp("failpoint-mongod")
    with Mongod(dbpath, parameters={"enableTestCommands": "1"}) as mongod:
        client: MongoClient[Any] = MongoClient(mongod.uri)
        assert load_paths(client[DATABASE], [SEEDS]).errors == []
        yield client
        client.close()


def hold_finds(client: MongoClient[Any], hold: bool) -> None:
    """While held, the API's finds on articles wait in mongod, interruptibly (so
    maxTimeMS or a killOp ends them), until released."""
    client.admin.command(
        {
            "configureFailPoint": "waitInFindBeforeMakingBatch",
            "mode": "alwaysOn" if hold else "off",
            "data": {"shouldCheckForInterrupt": True, "nss": f"{DATABASE}.articles"},
        }
    )


def api_finds(client: MongoClient[Any]) -> list[dict[str, Any]]:
    """The API's find operations on articles running in mongod now."""
    return list(
        client.admin.aggregate(
            [
                {"$currentOp": {"allUsers": True}},
                {"$match": {"appName": APP_NAME, "ns": f"{DATABASE}.articles"}},
            ]
        )
    )


def metric(api: ServedAPI, name: str) -> float:
    text = api.client.get("/metrics").text
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def open_socket(api: ServedAPI) -> socket.socket:
    return socket.create_connection(("127.0.0.1", api.port), timeout=5)


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when."""
    sock.settimeout(timeout)
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return received, time.monotonic()
        received += chunk


def test_half_open_connections_are_closed_at_the_header_deadline(serve_api: Any, load: Any) -> None:
    load(SEEDS)
    api = serve_api(header_timeout_ms=600)
    silent = [open_socket(api) for _ in range(10)]
    half = [open_socket(api) for _ in range(30)]
    opened = time.monotonic()
    for sock in half:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl")
    # Meanwhile an ordinary client is served, MongoDB and all.
    served = api.client.post("/graphql", json={"query": PAGE})
    assert served.status_code == 200
    (node,) = served.json()["data"]["articles"]["nodes"]
    assert node["title"]

    for sock in [*silent, *half]:
        received, closed = read_until_closed(sock, timeout=5)
        sock.close()
        assert received.startswith(b"HTTP/1.1 408 "), received[:80]
        assert b'"code":"REQUEST_TIMEOUT"' in received
        # Not before the deadline; within it and the sweep interval (0.25 s) after.
        assert 0.55 <= closed - opened < 2.5, closed - opened
    closed_total = 'newsgraph_connections_closed_total{reason="header_timeout"}'
    assert metric(api, closed_total) == 40


def test_a_header_sent_a_byte_at_a_time_is_still_cut_off(serve_api: Any) -> None:
    api = serve_api(header_timeout_ms=600)
    sock = open_socket(api)
    started = time.monotonic()
    sock.settimeout(0.1)
    head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 100
    sent = 0
    try:
        for byte in head:
            sock.sendall(bytes([byte]))
            sent += 1
            time.sleep(0.05)
    except OSError:
        pass  # the server closed the connection while we were still sending
    received, closed = read_until_closed(sock, timeout=5)
    sock.close()
    assert sent < len(head)
    assert received.startswith(b"HTTP/1.1 408 ")
    assert closed - started < 2.5


def test_a_slow_body_upload_is_cut_off(serve_api: Any) -> None:
    api = serve_api(body_timeout_ms=600)
    sock = open_socket(api)
    body = b'{"query": "{ __typename }"}' + b" " * 1000
    sock.sendall(
        b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:20]
    )
    started = time.monotonic()
    sock.settimeout(0.1)
    try:
        for offset in range(20, len(body), 10):  # 100 bytes a second
            sock.sendall(body[offset : offset + 10])
            time.sleep(0.1)
    except OSError:
        pass
    received, closed = read_until_closed(sock, timeout=5)
    sock.close()
    assert received.startswith(b"HTTP/1.1 408 "), received[:80]
    assert b"body did not arrive" in received
    assert 0.55 <= closed - started < 2.5
    assert metric(api, 'newsgraph_connections_closed_total{reason="body_timeout"}') == 1
    # The request never ran: no GraphQL request was counted.
    assert "newsgraph_graphql_requests_total{" not in api.client.get("/metrics").text


def test_connections_past_the_bound_are_refused_and_the_rest_served(serve_api: Any) -> None:
    api = serve_api(max_connections=5)
    held = [open_socket(api) for _ in range(4)]  # with httpx's own, 5 are open
    assert api.client.get("/healthz").status_code == 200
    extra = open_socket(api)
    received, _ = read_until_closed(extra, timeout=5)
    extra.close()
    assert received.startswith(b"HTTP/1.1 503 ")
    assert b"retry-after: 5" in received
    assert api.client.get("/healthz").status_code == 200  # kept alive, still served
    for sock in held:
        sock.close()
    assert metric(api, 'newsgraph_connections_closed_total{reason="refused"}') == 1


def post_in_thread(api: ServedAPI, results: list[httpx.Response]) -> threading.Thread:
    base = str(api.client.base_url)

    def run() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            results.append(client.post("/graphql", json={"query": PAGE}))

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_a_full_queue_sheds_at_once_with_503_and_retry_after(
    failpoint_mongo: MongoClient[Any], serve_api: Any
) -> None:
    host, port = failpoint_mongo.address
    api = serve_api(
        mongodb_uri=f"mongodb://{host}:{port}/?directConnection=true",
        database=DATABASE,
        max_concurrent_requests=1,
        admission_queue=1,
        request_deadline_ms=20_000,
        shed_pause_ms=300,
    )
    results: list[httpx.Response] = []
    hold_finds(failpoint_mongo, True)
    try:
        running = post_in_thread(api, results)
        wait_for(lambda: len(api_finds(failpoint_mongo)) == 1)  # it holds the only slot
        queued = post_in_thread(api, results)
        wait_for(lambda: metric(api, "newsgraph_requests_queued") == 1)

        started = time.monotonic()
        shed = api.client.post("/graphql", json={"query": PAGE})
        elapsed = time.monotonic() - started
        assert shed.status_code == 503
        assert shed.headers["retry-after"] == "1"
        assert shed.headers["cache-control"] == "no-store"
        error = shed.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "at capacity (1 requests running, 1 waiting)" in error["message"]
        assert elapsed < 0.5
        # Cheap endpoints are never queued behind the queries; but what the shed
        # connection sends next is not parsed before SHED_PAUSE_MS.
        # (/readyz may say the search index is not built yet: the held finds hold its
        # scan too; what matters is that it answers while the slot is held.)
        started = time.monotonic()
        assert api.client.get("/healthz").status_code == 200
        assert time.monotonic() - started >= 0.29
        assert api.client.get("/readyz").json()["status"] in {"ready", "unavailable"}
        assert metric(api, "newsgraph_requests_in_flight") == 1
    finally:
        hold_finds(failpoint_mongo, False)
    running.join(30)
    queued.join(30)
    assert [response.status_code for response in results] == [200, 200]
    assert metric(api, 'newsgraph_requests_shed_total{reason="queue_full"}') >= 1


def test_a_query_past_the_deadline_is_cancelled_with_its_mongodb_operation(
    failpoint_mongo: MongoClient[Any], serve_api: Any
) -> None:
    host, port = failpoint_mongo.address
    api = serve_api(
        mongodb_uri=f"mongodb://{host}:{port}/?directConnection=true",
        database=DATABASE,
        request_deadline_ms=1000,
    )
    assert api.data(PAGE)["articles"]["nodes"]  # warm: connections open, nothing held
    results: list[httpx.Response] = []
    hold_finds(failpoint_mongo, True)
    try:
        started = time.monotonic()
        request = post_in_thread(api, results)
        wait_for(lambda: len(api_finds(failpoint_mongo)) == 1)  # the find waits in mongod
        [held] = api_finds(failpoint_mongo)
        # MongoDB was given the time left too, so it stops even if the driver cannot
        # tell it (a lost connection).
        assert 0 < held["command"]["maxTimeMS"] <= 1000
        request.join(10)
        elapsed = time.monotonic() - started
        # Answered at the deadline, and MongoDB stops working on it (its maxTimeMS,
        # the time left, ends a few ms after the driver gives up), though the
        # failpoint would hold it for ever.
        wait_for(lambda: api_finds(failpoint_mongo) == [], timeout=0.5)
    finally:
        hold_finds(failpoint_mongo, False)
    [response] = results
    assert response.status_code == 504
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "DEADLINE_EXCEEDED"
    assert error["extensions"]["deadlineMs"] == 1000
    assert "within its deadline of 1000 ms" in error["message"]
    assert 0.9 <= elapsed < 3, elapsed
    assert metric(api, "newsgraph_request_deadlines_expired_total") == 1


OVERLOAD_VARIABLES = {
    "MAX_CONCURRENT_REQUESTS": ("max_concurrent_requests", 8),
    "ADMISSION_QUEUE": ("admission_queue", 8),
    "REQUEST_DEADLINE_MS": ("request_deadline_ms", 5000),
    "HEADER_TIMEOUT_MS": ("header_timeout_ms", 10_000),
    "BODY_TIMEOUT_MS": ("body_timeout_ms", 20_000),
    "SHED_PAUSE_MS": ("shed_pause_ms", 120),
    "SHED_PAUSE_FACTOR": ("shed_pause_factor", 2.0),
    "MAX_CONNECTIONS": ("max_connections", 1000),
    "KEEP_ALIVE_TIMEOUT": ("keep_alive_timeout", 5),
}


def test_overload_settings_have_the_documented_defaults_and_variables() -> None:
    defaults = Settings.from_env({})
    given = Settings.from_env({name: str(100 + i) for i, name in enumerate(OVERLOAD_VARIABLES)})
    readme = (ROOT / "README.md").read_text()
    for i, (name, (field, default)) in enumerate(OVERLOAD_VARIABLES.items()):
        assert getattr(defaults, field) == default, name
        assert getattr(given, field) == 100 + i, name
        assert f"| `{name}` | `{default}` |" in readme, name
    with pytest.raises(SettingsError, match="MAX_CONCURRENT_REQUESTS='0' is not valid"):
        Settings.from_env({"MAX_CONCURRENT_REQUESTS": "0"})


@contextmanager
def gate_held_full(
    failpoint_mongo: MongoClient[Any], serve_api: Any, **settings: Any
) -> Iterator[ServedAPI]:
    """An API whose one execution slot is held by a query (its find held in mongod)
    and whose queue is empty, ADMISSION_QUEUE=0 unless given: full until released."""
    host, port = failpoint_mongo.address
    api: ServedAPI = serve_api(
        mongodb_uri=f"mongodb://{host}:{port}/?directConnection=true",
        database=DATABASE,
        request_deadline_ms=20_000,
        **{"max_concurrent_requests": 1, "admission_queue": 0, **settings},
    )
    results: list[httpx.Response] = []
    hold_finds(failpoint_mongo, True)
    try:
        running = post_in_thread(api, results)
        wait_for(lambda: len(api_finds(failpoint_mongo)) == 1)
        yield api
    finally:
        hold_finds(failpoint_mongo, False)
    running.join(30)
    assert [response.status_code for response in results] == [200]


def exchange(api: ServedAPI, request: bytes) -> bytes:
    """One request on a connection of its own; the response's head and body."""
    with open_socket(api) as sock:
        sock.sendall(request)
        return read_response(sock)


def read_response(sock: socket.socket) -> bytes:
    """One response's head and body."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, rest = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


def test_while_the_gate_is_full_only_graphql_requests_are_refused_and_others_keep_their_headers(
    failpoint_mongo: MongoClient[Any], serve_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # How often uvicorn's request state is built: a refused request should not
    # cost it (its head is collected raw and dropped), any other gets it in full.
    built: list[bytes] = []
    begin = HttpToolsProtocol.on_message_begin

    def counted(protocol: HttpToolsProtocol) -> None:
        built.append(b"")
        begin(protocol)

    monkeypatch.setattr(HttpToolsProtocol, "on_message_begin", counted)
    origin = "https://news.example"
    with gate_held_full(failpoint_mongo, serve_api, cors_origins=(origin,)) as api:
        before = len(built)
        shed = exchange(
            api,
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 15\r\n\r\n{"query":"{a}"}',
        )
        by_get = exchange(api, b"GET /graphql?query=%7Ba%7D HTTP/1.1\r\nHost: x\r\n\r\n")
        for response in (shed, by_get):
            # Refused by the protocol: no task ran, so no middleware added an id.
            assert response.startswith(b"HTTP/1.1 503 "), response[:80]
            assert b"x-request-id" not in response.lower()
        assert len(built) == before

        # Header names as sent, in upper case: uvicorn's lowercasing must be replayed.
        healthz = exchange(api, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-REQUEST-ID: kept-1\r\n\r\n")
        assert healthz.startswith(b"HTTP/1.1 200 "), healthz[:80]
        assert b"x-request-id: kept-1\r\n" in healthz
        preflight = api.client.options(
            "/graphql",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-request-id",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "x-request-id" in preflight.headers["access-control-allow-headers"].lower()

        async def subscribe() -> None:  # the upgrade's headers, its subprotocol included
            client = await Client.open(api)
            await client.ws.close()

        asyncio.run(asyncio.wait_for(subscribe(), 10))
        assert len(built) >= before + 3
        shed_total = 'newsgraph_requests_shed_total{reason="queue_full"}'
        assert metric(api, shed_total) == 2


def test_what_a_shed_connection_sends_during_its_pause_is_answered_after_it(
    failpoint_mongo: MongoClient[Any], serve_api: Any
) -> None:
    request = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n"
    )
    big = b'{"query":"{a}"}' + b" " * 100_000  # past uvicorn's high-water mark
    with (
        gate_held_full(failpoint_mongo, serve_api, shed_pause_ms=300) as api,
        open_socket(api) as sock,
    ):
        sock.sendall(request % 15 + b'{"query":"{a}"}')
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 503 ")
        # Sent at once, but held until the pause is over: then parsed and refused too.
        sock.sendall(request % len(big) + big + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        sock.settimeout(10)
        while received.count(b"HTTP/1.1 ") < 2:
            received += sock.recv(65536)
        assert received.startswith(b"HTTP/1.1 503 "), received[:80]
        assert b"HTTP/1.1 200 " in received
        assert metric(api, 'newsgraph_requests_shed_total{reason="queue_full"}') == 2


def test_a_shed_connection_left_idle_closes_at_the_keep_alive_timeout(
    failpoint_mongo: MongoClient[Any], serve_api: Any
) -> None:
    with (
        gate_held_full(failpoint_mongo, serve_api, shed_pause_ms=300, keep_alive_timeout=1) as api,
        open_socket(api) as sock,
    ):
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 15\r\n\r\n{"query":"{a}"}'
        )
        answered = time.monotonic()
        received, closed = read_until_closed(sock, timeout=10)
        assert received.startswith(b"HTTP/1.1 503 ")
        # The keep-alive timeout counts from the 503, not from the end of the pause.
        assert closed - answered >= 0.9
        assert metric(api, 'newsgraph_connections_closed_total{reason="idle"}') == 1


def test_a_burst_within_capacity_is_admitted_and_what_exceeds_it_refused_in_the_protocol(
    failpoint_mongo: MongoClient[Any], serve_api: Any
) -> None:
    # One slot (held) and a queue of 4: of a burst of 8 sent at once, 4 wait and 4
    # are refused, by the protocol even when all 8 heads are read in one turn of the
    # loop, before any of their tasks has reached the gate.
    query = b'{"query":"{ __typename }"}'
    request = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(query), query)
    )
    with gate_held_full(failpoint_mongo, serve_api, admission_queue=4) as api:
        socks = [open_socket(api) for _ in range(8)]
        for sock in socks:
            sock.sendall(request)
        wait_for(lambda: metric(api, "newsgraph_requests_queued") == 4)
        wait_for(lambda: metric(api, 'newsgraph_requests_shed_total{reason="queue_full"}') == 4)
        gate: Gate = api.app.state.gate
        assert gate.arriving == 0
        refused = [sock for sock in socks if select.select([sock], [], [], 0.2)[0]]
        assert len(refused) == 4
        for sock in refused:
            response, _ = read_until_closed(sock, timeout=5)
            assert response.startswith(b"HTTP/1.1 503 "), response[:80]
            assert b"x-request-id" not in response.lower()
    for sock in socks:
        if sock not in refused:  # queued, then run once the slot was free
            response, _ = read_until_closed(sock, timeout=10)
            assert response.startswith(b"HTTP/1.1 200 "), response[:80]
    for sock in socks:
        sock.close()
    assert gate.arriving == 0


class _CountingLoop:
    """The loop, as Pauses sees it, counting the timers it has pending."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending = 0
        self.most = 0

    def time(self) -> float:
        return self.loop.time()

    def call_at(self, when: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        self.pending += 1
        self.most = max(self.most, self.pending)

        def fire() -> None:
            self.pending -= 1
            callback()

        return self.loop.call_at(when, fire)


def test_pauses_end_in_order_never_early_under_one_timer() -> None:
    # Each connection is refused again as its pause ends (as under overload), which
    # begins its next pause from within the timer's callback.
    async def scenario() -> tuple[_CountingLoop, list[float]]:
        loop = _CountingLoop(asyncio.get_running_loop())
        pauses = Pauses(loop, ShedPause(0.01, 0, 0.01))  # type: ignore[arg-type]
        lateness: list[float] = []
        done = asyncio.Event()

        class Refused:
            left = 5
            since = 0.0

            def pause(self) -> None:
                self.since = loop.time()
                pauses.add(self, self.since)  # type: ignore[arg-type]

            def end_pause(self) -> None:
                lateness.append(loop.time() - self.since - 0.01)
                self.left -= 1
                if self.left:
                    self.pause()
                elif all(c.left == 0 for c in connections):
                    done.set()

        connections = [Refused() for _ in range(20)]
        for connection in connections:
            connection.pause()
        await asyncio.wait_for(done.wait(), 10)
        return loop, lateness

    loop, lateness = asyncio.run(scenario())
    assert len(lateness) == 100
    assert min(lateness) >= -1e-6  # never before SHED_PAUSE_MS
    assert loop.most == 1 and loop.pending == 0


def test_a_retry_of_the_same_bytes_is_refused_unparsed_until_the_gate_has_room(
    failpoint_mongo: MongoClient[Any], serve_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[bytes] = []
    parse = GuardedProtocol._parse

    def counted(protocol: GuardedProtocol, data: bytes) -> None:
        parsed.append(data)
        parse(protocol, data)

    monkeypatch.setattr(GuardedProtocol, "_parse", counted)
    query = b'{"query":"{ __typename }"}'
    request = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(query), query)
    )

    def answer(sock: socket.socket, *parts: bytes) -> bytes:
        for part in parts:
            sock.sendall(part)
            time.sleep(0.05)
        return read_response(sock)

    with gate_held_full(failpoint_mongo, serve_api, shed_pause_ms=50) as api:
        parsed.clear()  # the query holding the slot
        sock = open_socket(api)
        sock.settimeout(10)
        assert answer(sock, request).startswith(b"HTTP/1.1 503 ")
        assert parsed == [request]
        for _ in range(3):  # the same bytes: refused as before, without a parse
            assert answer(sock, request).startswith(b"HTTP/1.1 503 ")
        assert parsed == [request]
        # Split in two, the request is parsed (neither part alone is a request); and
        # so is the whole request after it, since the last one parsed was not whole.
        half = len(request) // 2
        assert answer(sock, request[:half], request[half:]).startswith(b"HTTP/1.1 503 ")
        assert answer(sock, request).startswith(b"HTTP/1.1 503 ")
        assert parsed == [request, request[:half], request[half:], request]
        shed_total = 'newsgraph_requests_shed_total{reason="queue_full"}'
        assert metric(api, shed_total) == 6
    # The slot is free: the same bytes are parsed, and admitted.
    with sock:
        assert answer(sock, request).startswith(b"HTTP/1.1 200 ")
    assert parsed[-1] == request


def test_the_pause_follows_the_p99_of_the_executions_within_its_bounds() -> None:
    pause = ShedPause(0.1, 2.5, 1.0)
    for _ in range(EVERY - 1):
        pause.record(0.08)
    assert pause.seconds == 0.1  # not measured yet: the least
    pause.record(0.08)
    assert pause.seconds == pytest.approx(0.2)  # 2.5 x the p99
    # The p99 of the last WINDOW (256): two slow executions are past it, three are not.
    for _ in range(WINDOW - 2):
        pause.record(0.06)
    for _ in range(2):
        pause.record(0.3)
    assert pause.seconds == pytest.approx(0.15)  # 2.5 x 0.06
    for _ in range(EVERY - 1):
        pause.record(0.06)
    pause.record(0.3)  # the third
    assert pause.seconds == pytest.approx(0.75)
    for _ in range(EVERY):
        pause.record(5.0)  # never past Retry-After
    assert pause.seconds == 1.0
    for _ in range(WINDOW):
        pause.record(0.001)  # never below SHED_PAUSE_MS
    assert pause.seconds == 0.1
    constant = ShedPause(0.12, 0, 1.0)  # SHED_PAUSE_FACTOR=0
    for _ in range(WINDOW):
        constant.record(0.5)
    assert constant.seconds == 0.12
    assert p99([3.0, 1.0, 2.0]) == 3.0
    assert p99([float(i) for i in range(1, 201)]) == 198.0  # nearest rank


def test_the_pause_in_use_is_served_in_metrics(serve_api: Any) -> None:
    api = serve_api(shed_pause_ms=70)
    assert metric(api, "newsgraph_shed_pause_seconds") == 0.07
    assert Settings.from_env({"SHED_PAUSE_FACTOR": "0"}).shed_pause_factor == 0
    for wrong in ("-1", "nan", "inf", "two"):
        with pytest.raises(SettingsError, match="expected a number, 0 or more"):
            Settings.from_env({"SHED_PAUSE_FACTOR": wrong})
