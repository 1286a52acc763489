"""A full build of the search index, in a process of its own, so that the API
process never holds what a build needs (the writer's heap, its merges, the batches
read from MongoDB) beside what it serves with:

    python -m api.search.build < one JSON line: {uri, database, directory, heapBytes, timeoutMs}

It opens a change stream first and keeps its resume token, reads every article
(projected to the indexed fields) in batches, indexes them, and commits the index
with that token and the collection's UUID beside it (``newsgraph-search.json``):
the API process then opens the index and follows the change stream from the token,
so whatever changed during the read is replayed. Progress goes to stdout, one JSON
object a line (``toIndex``, then ``indexed`` after each batch, then ``done``); an
error goes to stderr and the exit code is not 0. It stops when its stdin closes:
an API process that dies takes its build with it."""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import PyMongoError

from api.search.fields import PROJECTION
from api.search.index import IndexInUse, SearchIndex
from storage.contract import ARTICLES

# Articles read and indexed at a time: small, so that the batch, the cursor's next
# one and the writer's heap stay small beside each other.
BUILD_BATCH = 500
# How long the first wait on the change stream may block (it returns at once with
# the server's token for "now").
AWAIT_MS = 200
EXIT_FAILED = 1
EXIT_MONGODB = 2  # MongoDB unreachable or the read interrupted: retried like a stream
EXIT_ORPHANED = 3  # stdin closed: the API process is gone

Document = dict[str, Any]


def emit(**message: Any) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def collection_uuid(articles: Collection[Document]) -> str | None:
    for info in articles.database.list_collections(filter={"name": articles.name}):
        uuid = info.get("info", {}).get("uuid")
        return str(uuid) if uuid is not None else None
    return None


def build(articles: Collection[Document], index: SearchIndex) -> int:
    """Every article, read after opening a change stream whose first token is
    recorded with the commit; returns how many were indexed."""
    index.source = collection_uuid(articles)
    with articles.watch(max_await_time_ms=AWAIT_MS) as stream:
        stream.try_next()  # the server's resume token for "now"
        token = stream.resume_token
    if token is None:  # never on a replica set
        raise RuntimeError("MongoDB gave no resume token: is it a replica set?")
    emit(toIndex=articles.estimated_document_count())
    index.clear()
    indexed = 0
    batch: list[Document] = []
    for article in articles.find({}, PROJECTION, batch_size=BUILD_BATCH):
        batch.append(article)
        if len(batch) >= BUILD_BATCH:
            indexed += index.add(batch)
            batch = []
            emit(indexed=indexed)
    indexed += index.add(batch)
    index.commit(dict(token))
    index.close()  # merges finished, the lock released: the API process writes next
    return indexed


def peak_rss_bytes() -> int:
    """This process's peak resident memory (VmHWM; getrusage's ru_maxrss would
    count the API process's, from before the exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux


def _exit_when_orphaned() -> None:
    sys.stdin.read()  # returns at EOF: the API process closed its end, or died
    os._exit(EXIT_ORPHANED)


def main() -> int:
    config = json.loads(sys.stdin.readline())
    threading.Thread(target=_exit_when_orphaned, daemon=True).start()
    started = time.monotonic()
    client: MongoClient[Document] = MongoClient(
        config["uri"],
        tz_aware=True,
        serverSelectionTimeoutMS=config["timeoutMs"],
        connectTimeoutMS=config["timeoutMs"],
        appname="newsgraph-search-build",
    )
    try:
        index = SearchIndex(Path(config["directory"]), config["database"], config["heapBytes"])
        indexed = build(client[config["database"]][ARTICLES], index)
    except PyMongoError as exc:
        print(f"MongoDB: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_MONGODB
    except (IndexInUse, RuntimeError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        client.close()
    emit(done=indexed, seconds=round(time.monotonic() - started, 3), peakRssBytes=peak_rss_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
