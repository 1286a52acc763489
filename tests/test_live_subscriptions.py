"""Subscriptions over graphql-transport-ws, from the loader's writes, with a Python
client (websockets) against the real server and a real mongod replica set."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from websockets.exceptions import ConnectionClosed, InvalidStatus

from loaders.load import Report
from tests.articles import article, write_article
from tests.conftest import ServedAPI
from tests.live import Client, metric, until_active, ws_url

ADDED = """subscription($f: ArticleFilter) { articleAdded(filter: $f) {
  id title provider { name domain } topics { name } leadImage { url } } }"""
UPDATED = "subscription($f: ArticleFilter) { articleUpdated(filter: $f) { id title } }"

Load = Callable[..., Report]


def run(scenario: Any) -> None:
    asyncio.run(asyncio.wait_for(scenario, 60))


async def load_later(load: Load, *paths: Path) -> float:
    """Load in a thread (the client keeps reading); returns when the write ended."""
    report = await asyncio.to_thread(load, *paths)
    assert report.errors == []
    return time.monotonic()


def test_added_articles_arrive_filtered_with_nested_fields(
    api: ServedAPI, load: Load, tmp_path: Path
) -> None:
    climate = write_article(tmp_path / "a", "1.txt", article(1, topics=["Climate"]))
    sport = write_article(tmp_path / "b", "2.txt", article(2, topics=["Sport"]))

    async def scenario() -> None:
        client = await Client.open(api)
        on_climate = await client.subscribe(ADDED, {"f": {"topics": ["climate"]}})
        on_sport = await client.subscribe(ADDED, {"f": {"anyTopics": ["Sport"]}})
        await until_active(api, 2)
        written = await load_later(load, climate.parent)
        message = await client.receive()
        assert time.monotonic() - written < 2
        assert message["id"] == on_climate, message
        added = message["payload"]["data"]["articleAdded"]
        assert added["title"] == "Article number 1"
        assert added["provider"] == {"name": "Example News", "domain": "example.com"}
        assert added["topics"] == [{"name": "Climate"}]
        assert added["leadImage"] is None
        # The Climate article never reached the Sport subscription: its first
        # message is the Sport article.
        await load_later(load, sport.parent)
        message = await client.receive()
        assert message["id"] == on_sport
        assert message["payload"]["data"]["articleAdded"]["title"] == "Article number 2"
        await client.close()

    run(scenario())


def test_a_reload_that_changes_an_article_is_an_update(
    api: ServedAPI, load: Load, tmp_path: Path
) -> None:
    path = write_article(tmp_path, "1.txt", article(1))
    assert load(tmp_path).errors == []

    async def scenario() -> None:
        client = await Client.open(api)
        updated = await client.subscribe(UPDATED, {"f": {"providerDomain": "www.example.com"}})
        added = await client.subscribe(ADDED)
        await until_active(api, 2)
        write_article(tmp_path, path.name, article(1, title="Corrected title"))
        write_article(tmp_path, "2.txt", article(2))
        await load_later(load, tmp_path)
        got = [await client.receive(), await client.receive()]
        by_id = {m["id"]: m["payload"]["data"] for m in got}
        assert by_id[updated]["articleUpdated"]["title"] == "Corrected title"
        assert by_id[added]["articleAdded"]["title"] == "Article number 2"
        # An unchanged re-load writes nothing, so nothing is sent.
        await load_later(load, tmp_path)
        with pytest.raises(TimeoutError):
            await client.receive(timeout=1)
        await client.close()

    run(scenario())


def test_events_arrive_once_in_commit_order(
    serve_api: Callable[..., ServedAPI], load: Load, tmp_path: Path
) -> None:
    """200 articles in one bulk write, to a subscriber with a buffer of 10: the
    stream is held back while it reads, and nothing is dropped."""
    api = serve_api(subscription_buffer=10)
    numbers = range(200)
    for n in numbers:
        write_article(tmp_path, f"{n:04}.txt", article(n))

    async def scenario() -> None:
        client = await Client.open(api)
        await client.subscribe("subscription { articleAdded { webUrl } }")
        await until_active(api, 1)
        await load_later(load, tmp_path)
        urls = [(await client.data())["articleAdded"]["webUrl"] for _ in numbers]
        # The loader inserts in input order; each article once.
        assert urls == [f"https://www.example.com/news/{n}" for n in numbers]
        with pytest.raises(TimeoutError):
            await client.receive(timeout=0.5)
        assert (
            await asyncio.to_thread(metric, api, "newsgraph_subscription_events_dropped_total") == 0
        )
        await client.close()

    run(scenario())


def test_an_election_and_a_killed_cursor_lose_and_repeat_nothing(
    api: ServedAPI, load: Load, tmp_path: Path, mongo_client: MongoClient[dict[str, Any]]
) -> None:
    """A real election on the single-node replica set: replSetStepDown (forced, as
    there is no other member), then replSetFreeze 0, which makes the node stand for
    election again at once. MongoDB 6 keeps open cursors across a step-down, so the
    stream is then interrupted for real: its cursor is killed, and it must resume
    from its token."""
    parts = [tmp_path / str(part) for part in range(3)]
    for n in range(150):
        write_article(parts[n // 50], f"{n:04}.txt", article(n))

    async def scenario() -> None:
        client = await Client.open(api)
        await client.subscribe("subscription { articleAdded { webUrl } }")
        await until_active(api, 1)
        await load_later(load, parts[0])
        await asyncio.to_thread(step_down, mongo_client)
        await load_later(load, parts[1])
        opened = streams_opened(api)
        await asyncio.to_thread(kill_change_streams, mongo_client, api.settings.database)
        await load_later(load, parts[2])
        urls = [(await client.data())["articleAdded"]["webUrl"] for _ in range(150)]
        assert urls == [f"https://www.example.com/news/{n}" for n in range(150)]
        with pytest.raises(TimeoutError):
            await client.receive(timeout=1)
        assert streams_opened(api) > opened, "the stream was never interrupted and resumed"
        await client.close()

    run(scenario())


def kill_change_streams(client: MongoClient[dict[str, Any]], database: str) -> None:
    ops = client.admin.aggregate([{"$currentOp": {"idleCursors": True}}])
    ids = [
        op["cursor"]["cursorId"]
        for op in ops
        if op.get("ns") == f"{database}.articles"
        and "cursor" in op
        and "$changeStream" in str(op["cursor"].get("originatingCommand", {}))
    ]
    assert ids, "no change stream cursor found"
    client[database].command("killCursors", "articles", cursors=ids)


def streams_opened(api: ServedAPI) -> int:
    """aggregate commands the server sent: the change stream, opened or resumed."""
    with api.counter._lock:
        return sum(1 for _, name in api.counter.commands if name == "aggregate")


def step_down(client: MongoClient[dict[str, Any]]) -> None:
    client.admin.command("replSetStepDown", 5, force=True)
    client.admin.command("replSetFreeze", 0)
    deadline = time.monotonic() + 20
    while not client.admin.command("hello").get("isWritablePrimary"):
        assert time.monotonic() < deadline, "no primary after the step-down"
        time.sleep(0.05)


def test_limits_refuse_subscriptions(serve_api: Callable[..., ServedAPI]) -> None:
    api = serve_api(max_subscriptions_per_connection=2, max_subscriptions=3, max_cost=30)

    async def scenario() -> None:
        one, two = await Client.open(api), await Client.open(api)
        query = "subscription { articleAdded { id } }"
        for _ in range(2):
            await one.subscribe(query)
        error = await one.error(await one.subscribe(query))
        assert error["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        assert "MAX_SUBSCRIPTIONS_PER_CONNECTION" in error["message"]
        await two.subscribe(query)
        await until_active(api, 3)
        error = await two.error(await two.subscribe(query))
        assert error["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        assert "(MAX_SUBSCRIPTIONS)" in error["message"]
        # The query limits and the cost apply to subscription documents.
        costly = await two.subscribe(
            "subscription { articleAdded { related { provider { articles(first: 50) "
            "{ nodes { id } } } } } }"
        )
        assert (await two.error(costly))["extensions"]["code"] == "COST_EXCEEDED"
        too_many = await two.subscribe(
            "subscription($f: ArticleFilter) { articleAdded(filter: $f) { id } }",
            {"f": {"topics": [f"t{n}" for n in range(21)]}},
        )
        assert (await two.error(too_many))["extensions"]["code"] == "BAD_USER_INPUT"
        await one.close()
        await two.close()

    run(scenario())


def test_connection_init_must_come_in_time_and_pings_keep_alive(
    serve_api: Callable[..., ServedAPI],
) -> None:
    from websockets.asyncio.client import connect

    api = serve_api(connection_init_timeout_s=1, keepalive_interval_s=1)

    async def scenario() -> None:
        silent = await connect(ws_url(api), subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(silent.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
        assert time.monotonic() - started < 3
        client = await Client.open(api)
        with pytest.raises(TimeoutError):
            await client.receive(timeout=2.5)
        assert client.pings >= 2
        await client.close()

    run(scenario())


def test_the_origin_of_a_websocket_is_checked(serve_api: Callable[..., ServedAPI]) -> None:
    from websockets.asyncio.client import connect

    api = serve_api(cors_origins=("https://news.example", "http://localhost:*"))

    async def scenario() -> None:
        for origin in ("https://evil.example", "http://localhost.evil.example:80"):
            with pytest.raises(InvalidStatus) as refused:
                await connect(
                    ws_url(api),
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    origin=origin,  # type: ignore[arg-type]
                )
            assert refused.value.response.status_code == 403, origin
        for origin in ("https://news.example", "http://localhost:5173"):
            client = await Client.open(api, origin=origin)
            await client.close()
        # Same origin (GraphiQL served by the API itself) is always allowed.
        client = await Client.open(api, origin=f"http://127.0.0.1:{api.port}")
        await client.close()

    run(scenario())


def test_a_slow_consumer_is_cut_off(
    serve_api: Callable[..., ServedAPI], load: Load, tmp_path: Path
) -> None:
    """The client stops reading; the server's socket buffers fill, its send blocks,
    the subscriber's buffer (5 events) fills, it takes no event for the grace (1 s)
    while the stream waits, and is cut off: its events are dropped, not kept, and
    the socket closed."""
    api = serve_api(subscription_buffer=5, slow_consumer_grace_s=1)
    excerpt = "x" * 9000
    for n in range(120):
        write_article(tmp_path, f"{n:04}.txt", article(n, excerpt=excerpt))
    # 30 aliased excerpts: about 270 kB an event, 32 MB in all.
    fields = " ".join(f"e{i}: excerpt" for i in range(29))
    query = f"subscription {{ articleAdded {{ excerpt {fields} }} }}"

    async def scenario() -> None:
        # A small, fixed receive buffer (loopback's autotuning would take 32 MB).
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.connect(("127.0.0.1", api.port))
        sock.setblocking(False)
        # No permessage-deflate: the repeated excerpts would shrink to nothing.
        client = await Client.open(api, sock=sock, max_queue=1, max_size=2**22, compression=None)
        operation = await client.subscribe(query)
        await until_active(api, 1)
        await load_later(load, tmp_path)
        dropped = 0.0
        deadline = time.monotonic() + 20
        hub = api.app.state.live.hub
        while dropped == 0:
            assert time.monotonic() < deadline, "the slow consumer was never cut off"
            # Memory stays flat: what waits for this client is the bounded buffer.
            assert all(s.queue.qsize() <= 5 for s in list(hub.subscribers))
            await asyncio.sleep(0.1)
            dropped = await asyncio.to_thread(
                metric, api, "newsgraph_subscription_events_dropped_total"
            )
        assert await asyncio.to_thread(metric, api, "newsgraph_subscriptions_active") == 0
        # Now read: what was already in the socket, then the end.
        messages = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                messages.append(await client.receive(timeout=10))
        assert all(message["id"] == operation for message in messages)
        events = [message for message in messages if message["type"] == "next"]
        assert len(events) < 120
        assert len(events) + dropped <= 120
        code = closed.value.rcvd.code if closed.value.rcvd else None
        # A socket that still takes the error and the close frame gets both; one that
        # stays full for a second is dropped without them.
        if code is not None:
            assert code == 1008
            assert messages[-1]["type"] == "error"
            assert messages[-1]["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        delivered = await asyncio.to_thread(
            metric, api, "newsgraph_subscription_events_delivered_total"
        )
        assert delivered < 120

    run(scenario())


def test_shutdown_completes_subscriptions_and_closes_with_1001(
    serve_api: Callable[..., ServedAPI],
) -> None:
    api = serve_api()

    async def scenario() -> None:
        client = await Client.open(api)
        operations = {await client.subscribe(ADDED), await client.subscribe(UPDATED)}
        await until_active(api, 2)
        stopping = asyncio.create_task(asyncio.to_thread(api.close))
        completed = set()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                message = await client.receive(timeout=10)
                assert message["type"] == "complete", message
                completed.add(message["id"])
        assert completed == operations
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        await stopping

    run(scenario())


def test_subscriptions_over_http_are_sent_to_the_websocket(api: ServedAPI) -> None:
    query = "subscription Live { articleAdded { id } }"
    posted = api.client.post("/graphql", json={"query": query})
    got = api.client.get("/graphql", params={"query": query})
    streamed = api.client.post(
        "/graphql", json={"query": query}, headers={"Accept": "multipart/mixed"}
    )
    for response in (posted, got, streamed):
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "graphql-transport-ws" in error["message"]


def test_a_lost_server_is_resumed_from_the_token(tmp_path: Path) -> None:
    """mongod stops and comes back (same data, same port) mid-stream: pymongo's own
    single resume attempt fails while it is away, so the hub reopens the stream from
    the token it kept; nothing written before or after is lost or repeated."""
    from api.settings import Settings
    from loaders.load import load_paths
    from storage.mongod import Mongod
    from tests.conftest import CommandCounter

    parts = [tmp_path / "before", tmp_path / "after"]
    for n in range(40):
        write_article(parts[n // 20], f"{n:04}.txt", article(n))
    mongod = Mongod(tmp_path / "mongod").start()
    served = ServedAPI(Settings(mongodb_uri=mongod.uri, database="live"), CommandCounter())

    def write(path: Path) -> None:
        client: MongoClient[dict[str, Any]] = MongoClient(mongod.uri)
        try:
            assert load_paths(client["live"], [path]).errors == []
        finally:
            client.close()

    async def scenario() -> None:
        client = await Client.open(served)
        await client.subscribe("subscription { articleAdded { webUrl } }")
        await until_active(served, 1)
        await asyncio.to_thread(write, parts[0])
        first = [(await client.data())["articleAdded"]["webUrl"] for _ in range(20)]
        await asyncio.to_thread(mongod.stop)
        await asyncio.sleep(3)  # longer than the driver's 2 s server selection
        await asyncio.to_thread(mongod.start)
        await asyncio.to_thread(write, parts[1])
        second = [(await client.data(timeout=20))["articleAdded"]["webUrl"] for _ in range(20)]
        assert first + second == [f"https://www.example.com/news/{n}" for n in range(40)]
        with pytest.raises(TimeoutError):
            await client.receive(timeout=1)
        resumes = await asyncio.to_thread(metric, served, "newsgraph_change_stream_resumes_total")
        assert resumes >= 1
        await client.close()

    try:
        run(scenario())
    finally:
        served.close()
        mongod.stop()


def test_an_unexpected_error_in_an_event_is_masked(
    api: ServedAPI, db: Any, load: Load, tmp_path: Path
) -> None:
    """As over HTTP: the client sees "Internal server error" and an id to quote,
    never the exception's text."""
    assert load(write_article(tmp_path, "1.txt", article(1)).parent).errors == []
    broken = {**db.articles.find_one({}), "_id": "broken", "canonicalUrl": "x"}
    del broken["provider"]  # the validator forbids this; only a bypass can store it

    async def scenario() -> None:
        client = await Client.open(api)
        await client.subscribe("subscription { articleAdded { title provider { name } } }")
        await until_active(api, 1)
        await asyncio.to_thread(db.articles.insert_one, broken, bypass_document_validation=True)
        message = await client.receive()
        assert message["type"] == "next"
        error = message["payload"]["errors"][0]
        assert error["message"] == "Internal server error"
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert len(error["extensions"]["requestId"]) == 32
        assert "provider" not in json.dumps(error["extensions"])
        await client.close()

    run(scenario())


def test_persisted_queries_and_the_safelist_hold_over_websocket(
    serve_api: Callable[..., ServedAPI], load: Load, tmp_path: Path
) -> None:
    """APQ_SAFELIST covers subscriptions too (else a socket would run any document),
    and a registered subscription runs from its hash alone."""
    import hashlib

    query = "subscription { articleAdded { title } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    apq = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    registered = serve_api().client.post("/graphql", json={"query": query, "extensions": apq})
    # Registered (then refused: subscriptions go over WebSocket).
    assert registered.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    api = serve_api(apq_safelist=True)

    async def scenario() -> None:
        client = await Client.open(api)
        other = await client.subscribe("subscription { articleUpdated { title } }")
        error = await client.error(other)
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_SAFELIST"
        operation = str(next(client.ids))
        payload = {"extensions": apq}
        await client.send({"id": operation, "type": "subscribe", "payload": payload})
        await until_active(api, 1)
        await load_later(load, write_article(tmp_path, "1.txt", article(1)).parent)
        message = await client.receive()
        assert message["id"] == operation
        assert message["payload"]["data"] == {"articleAdded": {"title": "Article number 1"}}
        await client.close()

    run(scenario())
