"""``python -m loaders PATH...``: load article files into MongoDB."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from loaders.load import load_paths
from storage.contract import database_name

DEFAULT_URI = "mongodb://127.0.0.1:27017/"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loaders",
        description="Load news article files (YAML front matter) into MongoDB.",
        epilog="MONGODB_URI (default mongodb://127.0.0.1:27017/) and NEWSGRAPH_DB "
        "(default newsgraph) choose where the articles go.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="files or directories")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    uri = os.environ.get("MONGODB_URI") or DEFAULT_URI
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
    try:
        report = load_paths(client[database_name()], args.paths)
    except PyMongoError as exc:
        print(f"error: MongoDB at {uri} failed: {exc}", file=sys.stderr)
        return 2
    finally:
        client.close()
    for error in report.errors:
        print(error, file=sys.stderr)
    print(report.summary())
    return 1 if report.errors else 0
