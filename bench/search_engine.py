"""The search engine alone, without MongoDB or HTTP: how long tantivy takes to answer
each query of the bench's pool (bench.operations.search_queries) as the API builds it
(api.search.query), on indexes of N articles built straight from bench.corpus:

    python -m bench.search_engine --sizes 100000 1000000

Each query is timed as api.search.searcher answers a page of 20 (the top 21, no
count, the keys of the hits read): a first page of relevance, with a filter, a deep
page (through a cursor), newest first and its deep page; the last column is the
ratio of the largest size's time to the smallest's, what issue 12 bounds. An index is
built once per size and seed under bench/corpus/ (git-ignored), with the server's
writer heap, so its segments are the server's."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import tantivy

from api.search import fields as f
from api.search.index import Snapshot
from api.search.query import parse
from api.search.searcher import NEWEST, RELEVANCE, Search
from api.settings import Settings
from api.store.filters import ArticleConditions
from api.store.pagination import Window
from bench.corpus import CACHE, DEFAULT_SEED, Corpus
from bench.operations import search_queries
from loaders.normalise import normalise_article

PAGE = 20
DEEP = 1000  # matches before the deep page: page 51
REPEATS = 30
CHUNK = 2000
# Filters the bench's corpus has: broad (3 in 7 articles), one category in 7, a year.
FILTERS: dict[str, dict[str, Any]] = {
    "category news": {"categories": ["news"]},
    "category sport": {"categories": ["sport"]},
    "2024": {
        "published_after": datetime(2024, 1, 1, tzinfo=UTC),
        "published_before": datetime(2025, 1, 1, tzinfo=UTC),
    },
}

_STORED = ("_id", *{name.split(".")[0] for name in f.PROJECTION})
Case = Callable[["_Index", str], Callable[[], Any]]


_corpus: Corpus | None = None


def _open_corpus(n: int, seed: int) -> None:
    global _corpus
    _corpus = Corpus(n, seed)


def _stored(span: tuple[int, int]) -> list[dict[str, Any]]:
    """Articles start..end of the corpus as MongoDB stores them, projected to what
    the index reads (in a worker process: generating is the slow part)."""
    assert _corpus is not None, "each worker opens the corpus first"
    out = []
    for i in range(*span):
        doc = normalise_article(_corpus.article(i))
        out.append({k: doc[k] for k in _STORED if k in doc})
    return out


def _spans(n: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, CHUNK):
        yield start, min(n, start + CHUNK)


def build(n: int, seed: int) -> tantivy.Searcher:
    """The index of the corpus of n articles, built once (as api.search.build does:
    one indexing thread, the server's writer heap, merges waited for)."""
    directory = CACHE / f"search-{n}-{seed}-v{f.SCHEMA_VERSION}"
    marker = directory / ".complete"
    if not marker.exists():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        index = tantivy.Index(f.SCHEMA, path=str(directory))
        writer = index.writer(heap_size=Settings().search_writer_heap_mb * 2**20, num_threads=1)
        started = time.monotonic()
        with Pool(2, _open_corpus, (n, seed)) as pool:
            for batch in pool.imap(_stored, _spans(n)):
                for article in batch:
                    writer.add_document(f.to_document(article))
        writer.commit()
        writer.wait_merging_threads()
        marker.write_text(f"{n} {seed}")
        print(f"built {n:,} articles in {time.monotonic() - started:.0f} s", flush=True)
    index = tantivy.Index(f.SCHEMA, path=str(directory))
    index.reload()
    return index.searcher()


class _Index:
    """What a Search reads of api.search.index.SearchIndex: one snapshot."""

    instance = "bench"

    def __init__(self, searcher: tantivy.Searcher) -> None:
        self.current = Snapshot(1, searcher, time.monotonic())

    def snapshot(self, generation: int) -> Snapshot | None:
        return self.current if generation == self.current.generation else None


def _case(where: ArticleConditions, order: str, skip: int = 0) -> Case:
    """A page of 20 as the API answers it (the query built, the hits' keys read),
    after the first ``skip`` matches (through the cursor of the last of them)."""

    def prepare(index: _Index, text: str) -> Callable[[], Any]:
        threshold = Settings().search_thread_postings

        def search() -> Search:
            return Search(index, text, parse(text), where, order, threshold)  # type: ignore[arg-type]

        after = None
        if skip:
            hits = search().page(Window(skip)).hits
            after = hits[-1].cursor if len(hits) == skip else None
        return lambda: search().page(Window(PAGE, after=after))

    return prepare


def cases() -> dict[str, Case]:
    everything = ArticleConditions()
    timed = {"first page": _case(everything, RELEVANCE)}
    for name, where in FILTERS.items():
        timed[f"filter {name}"] = _case(ArticleConditions(**where), RELEVANCE)
    timed[f"page {DEEP // PAGE + 1}"] = _case(everything, RELEVANCE, DEEP)
    timed["newest first"] = _case(everything, NEWEST)
    timed[f"newest, page {DEEP // PAGE + 1}"] = _case(everything, NEWEST, DEEP)
    return timed


def time_ms(run: Callable[[], Any], repeats: int) -> float:
    """The median of ``repeats`` runs (after one to warm)."""
    run()
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def measure(sizes: list[int], seed: int, repeats: int) -> dict[str, Any]:
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for n in sizes:
        index = _Index(build(n, seed))
        for case, prepare in cases().items():
            for text in search_queries():
                row = figures.setdefault(case, {}).setdefault(text, {})
                row[str(n)] = round(time_ms(prepare(index, text), repeats), 3)
    return {"sizes": sizes, "seed": seed, "ms": figures}


def table(result: dict[str, Any]) -> str:
    sizes = [str(n) for n in result["sizes"]]
    head = " | ".join(f"ms at {int(n):,}" for n in sizes)
    lines = [f"| case | query | {head} | ratio |", "| --- | --- |" + " ---: |" * (len(sizes) + 1)]
    for case, rows in result["ms"].items():
        for text, ms in rows.items():
            ratio = ms[sizes[-1]] / max(ms[sizes[0]], 1e-9)
            cells = " | ".join(f"{ms[n]:.2f}" for n in sizes)
            lines.append(f"| {case} | `{text}` | {cells} | {ratio:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search_engine", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = measure(sorted(args.sizes), args.seed, args.repeats)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))


if __name__ == "__main__":
    main()
