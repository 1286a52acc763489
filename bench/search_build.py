"""How long newsgraph takes to build its search index from MongoDB, and how big it
is, on the benchmark's corpus of N articles (loaded once, as for bench.api_bench):

    python -m bench.search_build --n 100000

The build is the API's own (the build process api.search.build), with the default
writer heap. Prints one JSON line: articles, seconds, articles/s, index bytes, bytes
an article, peak RSS of the build process."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from api.search.child import BuildCommand, run_build
from api.search.index import SearchIndex
from api.settings import Settings
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, loaded_mongod


async def build(uri: str, directory: Path) -> dict[str, Any]:
    heap = Settings().search_writer_heap_mb * 2**20
    built = await run_build(BuildCommand(uri, DATABASE, directory, heap, 30_000), lambda _: None)
    index = SearchIndex(directory, DATABASE, heap)  # what the build process committed
    size, articles = index.disk_bytes(), index.documents
    index.close()
    return {
        "articles": articles,
        "seconds": round(built.seconds, 1),
        "articles_per_s": round(articles / built.seconds),
        "index_bytes": size,
        "bytes_per_article": round(size / max(articles, 1)),
        "writer_heap_bytes": heap,
        "peak_rss_mib": round(built.peak_rss_bytes / 2**20, 1),
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
