"""Fixtures: a real mongod for the session, a fresh database per test, and the API
served by a real uvicorn on a free port, reached over HTTP with httpx."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

from api.http.app import Server, create_app, server_config
from api.search.service import SearchService
from api.settings import Settings
from loaders.load import Report, load_paths
from storage.mongod import Mongod, free_port

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
RUN_ID = uuid.uuid4().hex[:8]
_names = itertools.count()


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """MONGODB_URI when set; otherwise a throwaway mongod of our own."""
    external = os.environ.get("MONGODB_URI")
    if external:
        yield external
        return
    with Mongod(tmp_path_factory.mktemp("mongod")) as mongod:
        yield mongod.uri


@pytest.fixture(scope="session")
def mongo_client(mongo_uri: str) -> Iterator[MongoClient[dict[str, Any]]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, tz_aware=True)
    yield client
    client.close()


@pytest.fixture
def db_name(mongo_client: MongoClient[dict[str, Any]]) -> Iterator[str]:
    """A database of this test's own, dropped afterwards."""
    name = f"ngtest_{RUN_ID}_{next(_names)}"
    yield name
    mongo_client.drop_database(name)


@pytest.fixture
def db(mongo_client: MongoClient[dict[str, Any]], db_name: str) -> Database[dict[str, Any]]:
    return mongo_client[db_name]


@pytest.fixture
def load(db: Database[dict[str, Any]]) -> Callable[..., Report]:
    def run(*paths: Path) -> Report:
        return load_paths(db, list(paths))

    return run


class CommandCounter(CommandListener):
    """Counts the MongoDB commands (round trips) sent, by database."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def started(self, event: CommandStartedEvent) -> None:
        with self._lock:
            self.commands.append((event.database_name, event.command_name))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def reset(self) -> None:
        with self._lock:
            self.commands.clear()

    def count(self, database: str) -> int:
        with self._lock:
            return sum(1 for name, _ in self.commands if name == database)


# What legitimately differs between two servers' answers to the same request.
_REQUEST_ID = re.compile(rb'"requestId":"[^"]*"')


def assert_same_response(got: httpx.Response, reference: httpx.Response) -> None:
    """The differential check: the compiled path's HTTP answer is the reference
    path's, byte for byte (the request ids aside)."""
    assert got.status_code == reference.status_code, (got.text, reference.text)
    body = _REQUEST_ID.sub(b'"requestId":"-"', got.content)
    expected = _REQUEST_ID.sub(b'"requestId":"-"', reference.content)
    assert body == expected, f"compiled:  {body[:2000]!r}\nreference: {expected[:2000]!r}"
    for header in ("content-type", "cache-control", "retry-after", "etag"):
        assert got.headers.get(header) == reference.headers.get(header), header


def _errors(response: httpx.Response) -> tuple[Any, list[str]] | None:
    """A response's data, and its errors (request ids aside), when it is JSON."""
    try:
        body = json.loads(_REQUEST_ID.sub(b'"requestId":"-"', response.content))
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return body.get("data"), [json.dumps(e, sort_keys=True) for e in body.get("errors") or ()]


def errors_reordered(got: httpx.Response, reference: httpx.Response) -> bool:
    """The same data and the same errors, but not in the same order."""
    ours, theirs = _errors(got), _errors(reference)
    if ours is None or theirs is None or ours[0] != theirs[0]:
        return False
    return ours[1] != theirs[1] and sorted(ours[1]) == sorted(theirs[1])


class ServedAPI:
    """A uvicorn server running the app in a thread; `client` talks HTTP to it.

    On the compiled executor (the default), a twin on EXECUTOR=reference serves the
    same database, and every request sent with `query` or `data` goes to both: the
    answers must be byte-identical (`assert_same_response`). The twin runs in the
    same event loop and answers searches from this server's own search service:
    one index, so BM25 scores, snapshots and relevance cursors are the same for
    both, and search documents are compared like any other."""

    def __init__(
        self,
        settings: Settings,
        counter: CommandCounter,
        twin: bool = True,
        search: SearchService | None = None,
    ) -> None:
        self.counter = counter
        self.settings = settings
        self.reference: ServedAPI | None = None
        self.port = free_port()
        self.app = create_app(settings, event_listeners=[counter], search=search)
        # The production server configuration: its protocol, limits and timeouts.
        config = server_config(
            self.app, settings, host="127.0.0.1", port=self.port, log_level="warning",
            lifespan="on",
        )  # fmt: skip
        self.server = Server(config, self.app)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        if search is not None:
            return  # a twin: served by the loop of the server it checks
        with_twin = twin and settings.executor == "compiled"
        self.thread = threading.Thread(target=self._run, args=(with_twin,), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not (self.server.started and (not with_twin or self._twin_started())):
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)

    def _twin_started(self) -> bool:
        return self.reference is not None and self.reference.server.started

    def _run(self, with_twin: bool) -> None:
        with asyncio.Runner(loop_factory=self.server.config.get_loop_factory()) as runner:
            runner.run(self._serve(with_twin))

    async def _serve(self, with_twin: bool) -> None:
        serving = asyncio.ensure_future(self.server.serve())
        while not self.server.started and not serving.done():
            await asyncio.sleep(0.01)
        if not with_twin or serving.done():
            await serving
            return
        settings = dataclasses.replace(self.settings, executor="reference")
        search = self.app.state.search
        self.reference = ServedAPI(settings, CommandCounter(), twin=False, search=search)
        await asyncio.gather(serving, self.reference.server.serve())

    def query(
        self, query: str, variables: dict[str, Any] | None = None, repeat: bool = False
    ) -> dict[str, Any]:
        """POST a query (to the twin too); returns the whole response body. With
        ``repeat``, it is sent a second time, when the view's fast route may answer it
        (api.http.fast_route): that answer must be the same bytes too.

        Two differences are not the executors' and send the pair again, until one
        pair is the same: the search index changed between the two requests (the
        follower made a change visible: a new generation), or the same errors came
        in another order (graphql-core lists the errors of concurrent root fields
        as their reads return, so two runs on graphql-core may differ so)."""
        payload = {"query": query, "variables": variables}
        generation = self._search_generation()
        response = self.client.post("/graphql", json=payload)
        if self.reference is not None:
            self._same_again(payload, response, generation, self.reference.client)
        if repeat:
            self._same_again(payload, response, generation, self.client)
        body: dict[str, Any] = response.json()
        return body

    def _same_again(
        self,
        payload: dict[str, Any],
        response: httpx.Response,
        generation: int,
        other: httpx.Client,
    ) -> None:
        """``other`` answers ``payload`` with the bytes of ``response``, sent when the
        search index was at ``generation`` (see query)."""
        for attempt in range(20):
            again = other.post("/graphql", json=payload)
            try:
                assert_same_response(response, again)
                return
            except AssertionError:
                moved = self._search_generation() != generation
                if attempt == 19 or not (moved or errors_reordered(response, again)):
                    raise
                generation = self._search_generation()
                response = self.client.post("/graphql", json=payload)

    def _search_generation(self) -> int:
        search: SearchService = self.app.state.search
        return search.index.generation

    @property
    def plans(self) -> Any:
        """The app's plan cache (api.execution.cache.PlanCache), with its counts."""
        return self.server.config.app.state.plans

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a query that must succeed; returns its data."""
        body = self.query(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def ready(self, timeout: float = 10.0) -> dict[str, Any]:
        """/readyz's body once it says ready (the search index catches up after a
        load); fails with the last body after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = self.client.get("/readyz").json()
            if body["status"] == "ready" or time.monotonic() > deadline:
                assert body["status"] == "ready", body
                return body
            time.sleep(0.05)

    def close(self) -> None:
        self.client.close()
        if self.reference is not None:
            self.reference.client.close()
            self.reference.server.should_exit = True
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def serve_api(mongo_uri: str, db_name: str) -> Iterator[Callable[..., ServedAPI]]:
    """Start the API on this test's database (settings may be overridden)."""
    servers: list[ServedAPI] = []

    def start(**overrides: Any) -> ServedAPI:
        settings = Settings(**{"mongodb_uri": mongo_uri, "database": db_name, **overrides})
        served = ServedAPI(settings, CommandCounter())
        servers.append(served)
        return served

    yield start
    for served in servers:
        served.close()


@pytest.fixture
def api(serve_api: Callable[..., ServedAPI]) -> ServedAPI:
    return serve_api()


@pytest.fixture
def seeded_api(load: Callable[..., Report], api: ServedAPI) -> ServedAPI:
    report = load(SEEDS)
    assert report.errors == []
    return api
