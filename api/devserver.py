"""``make serve``: the API on the seed articles, with a private mongod when
``MONGODB_URI`` is not set (stopped again when the server stops).

With ``MONGODB_URI`` set, that server is used as it is: no mongod, nothing loaded.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from pymongo import MongoClient

from api import logs
from api.http.app import serve as serve_app
from api.http.cors import DEV_ORIGINS
from api.settings import Settings, SettingsError
from storage.contract import ARTICLES
from storage.mongod import MongodError, PrivateServer, private_data_dir, private_mongod

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


class Stopped(SystemExit):
    """SIGTERM or SIGHUP (the terminal closed): unwind, so the private mongod stops."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(128 + signum)


def _hang_up(signum: int, frame: FrameType | None) -> None:
    # While uvicorn serves, SIGTERM is its graceful shutdown, after which it raises
    # SIGTERM again, into _stop; before it serves, SIGTERM is _stop directly.
    signal.raise_signal(signal.SIGTERM)


def stop_on_signals() -> None:
    """Stop on SIGTERM and SIGHUP as on Ctrl-C: the `with` around the private mongod
    unwinds, so no mongod is left running."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _hang_up)


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port (checked before any data is
    touched: a second `make serve` must fail before it changes the first's data)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def load_seeds(uri: str, database: str) -> None:
    """Load seeds/ into an empty database only: never over what the user loaded."""
    # The loader is the only writer; the API itself never imports it.
    from loaders.load import load_paths

    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    try:
        db = client[database]
        if db[ARTICLES].find_one({}, {"_id": 1}) is not None:
            count = db[ARTICLES].estimated_document_count()
            print(f"seeds: not loaded, the database {database} already holds {count} articles")
            return
        report = load_paths(db, [SEEDS])
    finally:
        client.close()
    for error in report.errors:
        print(error, file=sys.stderr)
    print(f"seeds: {report.summary()}")


def serve(settings: Settings) -> None:
    print(f"GraphiQL: http://{settings.host}:{settings.port}/graphql", flush=True)
    if settings.web_dist is not None:
        print(f"Web app: http://{settings.host}:{settings.port}/", flush=True)
    serve_app(settings)


SEARCH_DIR = ROOT / ".data" / "search"


def dev_settings() -> Settings:
    """The environment's settings; CORS allows localhost pages unless CORS_ORIGINS says,
    and the search index is kept in .data/search (so a restart catches up instead of
    rebuilding) unless SEARCH_INDEX_DIR says."""
    settings = Settings.from_env()
    if not os.environ.get("CORS_ORIGINS"):
        settings = replace(settings, cors_origins=DEV_ORIGINS)
    if settings.search_index_dir is None:
        settings = replace(settings, search_index_dir=SEARCH_DIR)
    return settings


def main() -> int:
    logs.configure()
    try:
        settings = dev_settings()
    except SettingsError as exc:
        print(
            f"error: {exc}. Fix the variable (README: Configuration) and start again.",
            file=sys.stderr,
        )
        return 2
    if port_in_use(settings.host, settings.port):
        print(
            f"error: port {settings.port} on {settings.host} is already in use (another "
            f"`make serve`?). Stop it, or choose another port: make serve PORT={settings.port + 1}",
            file=sys.stderr,
        )
        return 2
    stop_on_signals()
    if os.environ.get("MONGODB_URI"):
        serve(settings)
        return 0
    return serve_private(settings)


def serve_private(settings: Settings) -> int:
    """Serve from the checkout's private mongod, started (and stopped) here unless
    one is already running on its data directory."""
    data_dir = private_data_dir()
    server: PrivateServer | None = None
    try:
        with private_mongod(data_dir) as server:
            if server.reaped:
                print(f"stopped an orphaned mongod (pid {server.reaped}) left by a killed run")
            how = "started" if server.started else "already running"
            print(f"private mongod {how} on {server.uri} (data in {data_dir})", flush=True)
            settings = replace(settings, mongodb_uri=server.uri)
            load_seeds(server.uri, settings.database)
            serve(settings)
    except MongodError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            stopped = "private mongod stopped" if server.started else "private mongod left running"
            print(stopped, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
