"""Fixtures: a real mongod for the session, a fresh database per test, and the API
served by a real uvicorn on a free port, reached over HTTP with httpx."""

from __future__ import annotations

import itertools
import os
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


class ServedAPI:
    """A uvicorn server running the app in a thread; `client` talks HTTP to it."""

    def __init__(self, settings: Settings, counter: CommandCounter) -> None:
        self.counter = counter
        self.settings = settings
        port = free_port()
        self.port = port
        self.app = create_app(settings, event_listeners=[counter])
        # The production server configuration: its protocol, limits and timeouts.
        config = server_config(
            self.app, settings, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = Server(config, self.app)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        self.port = port
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a query; returns the whole response body (data and errors)."""
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a query that must succeed; returns its data."""
        body = self.query(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def close(self) -> None:
        self.client.close()
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
