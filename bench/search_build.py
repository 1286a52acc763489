"""How long newsgraph takes to build its search index from MongoDB, and how big it
is, on the benchmark's corpus of N articles (loaded once, as for bench.api_bench):

    python -m bench.search_build --n 100000

The build is the follower's own (api.search.follower), with the default writer heap.
Prints one JSON line: articles, seconds, articles/s, index bytes, bytes an article,
peak RSS of this process."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from api.search.follower import Follower
from api.search.index import SearchIndex
from api.settings import Settings
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, loaded_mongod
from storage.contract import ARTICLES


async def build(uri: str, directory: Path) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    heap = Settings().search_writer_heap_mb * 2**20
    index = SearchIndex(directory, DATABASE, heap)
    follower = Follower(index, client[DATABASE][ARTICLES])
    started = time.monotonic()
    await follower.build()
    seconds = time.monotonic() - started
    await asyncio.to_thread(index.close)  # merges finished: the size at rest
    size = index.disk_bytes()
    await client.close()
    articles = index.documents
    return {
        "articles": articles,
        "seconds": round(seconds, 1),
        "articles_per_s": round(articles / seconds),
        "index_bytes": size,
        "bytes_per_article": round(size / max(articles, 1)),
        "writer_heap_bytes": heap,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search_build", description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    with loaded_mongod(args.n, args.seed) as uri, tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(asyncio.run(build(uri, Path(tmp)))))


if __name__ == "__main__":
    main()
