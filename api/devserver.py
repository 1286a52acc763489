"""``make serve``: the API on the seed articles, with a private mongod when
``MONGODB_URI`` is not set (stopped again when the server stops).

With ``MONGODB_URI`` set, that server is used as it is: no mongod, nothing loaded.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from api.http.app import serve as serve_app
from api.http.cors import DEV_ORIGINS
from api.settings import Settings, SettingsError
from storage.mongod import MongodError, private_data_dir, private_mongod

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def load_seeds(uri: str, database: str) -> None:
    # The loader is the only writer; the API itself never imports it.
    from loaders.load import load_paths

    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    try:
        report = load_paths(client[database], [SEEDS])
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


def dev_settings() -> Settings:
    """The environment's settings; CORS allows localhost pages unless CORS_ORIGINS says."""
    settings = Settings.from_env()
    if not os.environ.get("CORS_ORIGINS"):
        settings = replace(settings, cors_origins=DEV_ORIGINS)
    return settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = dev_settings()
    except SettingsError as exc:
        print(
            f"error: {exc}. Fix the variable (README: Configuration) and start again.",
            file=sys.stderr,
        )
        return 2
    if os.environ.get("MONGODB_URI"):
        serve(settings)
        return 0
    data_dir = private_data_dir()
    try:
        with private_mongod(data_dir) as server:
            how = "started" if server.started else "already running"
            print(f"private mongod {how} on {server.uri} (data in {data_dir})", flush=True)
            settings = replace(settings, mongodb_uri=server.uri)
            load_seeds(server.uri, settings.database)
            serve(settings)
    except MongodError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("private mongod stopped" if server.started else "private mongod left running", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
