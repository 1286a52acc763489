"""The search index on disk: releasing its writer keeps the merges tantivy was doing,
and drops only what was never committed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.search.index import SearchIndex

HEAP = 20 * 2**20
COMMITS = 8  # tantivy's log merge policy merges 8 segments of a size into one
PER_COMMIT = 1000  # enough that the merge is still running when the writer is released


def stored(n: int) -> dict[str, Any]:
    return {
        "_id": f"article-{n}",
        "title": f"Canal lock {n}",
        "excerpt": "Barges wait for the water to rise.",
        "publishedDateTime": datetime(2026, 1, 1, tzinfo=UTC),
    }


def committed_in_batches(directory: Path) -> SearchIndex:
    index = SearchIndex(directory, "db", HEAP)
    for batch in range(COMMITS):
        index.add(stored(batch * PER_COMMIT + n) for n in range(PER_COMMIT))
        index.commit(None)
    return index


def test_releasing_the_writer_keeps_the_merges_in_progress(tmp_path: Path) -> None:
    index = committed_in_batches(tmp_path)
    index.release_writer()
    index.refresh()
    searcher = index.current.searcher
    assert searcher.num_docs == COMMITS * PER_COMMIT
    # Rolled back, the writer would drop the merge and leave one segment per commit.
    assert searcher.num_segments == 1


def test_releasing_the_writer_drops_what_was_not_committed(tmp_path: Path) -> None:
    index = committed_in_batches(tmp_path)
    index.add([stored(10**6)])
    index.release_writer()
    index.refresh()
    assert index.current.searcher.num_docs == COMMITS * PER_COMMIT
