"""Search inside an API process: its index, the follower that keeps it current, and
what /readyz and /metrics say about them."""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pymongo.asynchronous.database import AsyncDatabase

from api.errors import ApiError
from api.search.child import BuildCommand
from api.search.follower import Follower
from api.search.index import SearchIndex, private_directory
from api.search.query import Parsed, parse
from api.search.searcher import Search
from api.store.filters import ArticleConditions
from storage.contract import ARTICLES

# How long a search waits for the first build of the index before it is answered
# SERVICE_UNAVAILABLE.
FIRST_BUILD_WAIT_SECONDS = 2.0


class SearchUnavailable(ApiError):
    code = "SERVICE_UNAVAILABLE"


class SearchService:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        directory: Path | None,
        heap_bytes: int,
        mongodb_uri: str,
        timeout_ms: int,
        thread_postings: int,
    ) -> None:
        # Without a directory of its own the process indexes into a temporary one,
        # removed when it stops: it rebuilds at every start.
        self.private = directory is None
        self.directory = directory or private_directory()
        self.heap_bytes = heap_bytes
        self.thread_postings = thread_postings  # pages over this many: a worker thread
        self.index = SearchIndex(self.directory, db.name, heap_bytes)
        command = BuildCommand(mongodb_uri, db.name, self.directory, heap_bytes, timeout_ms)
        self.follower = Follower(self.index, db[ARTICLES], command)

    def start(self) -> None:
        self.follower.start()

    async def stop(self) -> None:
        await self.follower.stop()
        if self.private:
            shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def ready(self) -> bool:
        return self.follower.progress.ready

    async def search(self, text: str, where: ArticleConditions, order: str) -> Search:
        parsed = parse(text)  # bad input is the client's, whatever the index's state
        if not self.follower.progress.built:
            # A process just started: a small index is built in moments.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.follower.built.wait(), FIRST_BUILD_WAIT_SECONDS)
        return self._search(text, parsed, where, order)

    def search_built(self, text: str, where: ArticleConditions, order: str) -> Search:
        """As ``search``, without waiting for the first build: SearchUnavailable at once
        while it runs (the compiled path then leaves the request to the reference
        path, which waits, so that a request never waits twice)."""
        return self._search(text, parse(text), where, order)

    def _search(self, text: str, parsed: Parsed, where: ArticleConditions, order: str) -> Search:
        progress = self.follower.progress
        if not progress.built:
            raise SearchUnavailable(
                f"the search index is being built ({progress.indexed} of about "
                f"{progress.to_index} articles): retry in a few seconds",
                retryable=True,
            )
        return Search(self.index, text, parsed, where, order, self.thread_postings)

    def report(self) -> dict[str, Any]:
        return {
            **self.follower.progress.report(),
            "documents": self.index.documents,
            "segments": self.index.segments,
            "diskBytes": self.index.disk_bytes(),
            "writerHeapBytes": self.heap_bytes,
        }

    def collector(self) -> Collector:
        return _SearchMetrics(self)


class _SearchMetrics(Collector):
    """Read at each scrape, so the figures cost nothing between scrapes."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    def collect(self) -> Iterable[GaugeMetricFamily]:
        service, progress = self.service, self.service.follower.progress
        figures = [
            (
                "ready",
                "1 when search is ready to serve (built, and at most 10 s behind).",
                float(progress.ready),
            ),
            (
                "documents",
                "Articles in the search index (visible to searches).",
                float(service.index.documents),
            ),
            (
                "segments",
                "Segments of the index searches read (each search visits every one).",
                float(service.index.segments),
            ),
            ("index_bytes", "Size of the search index on disk.", float(service.index.disk_bytes())),
            (
                "writer_heap_bytes",
                "Memory the index writer may use before it flushes.",
                float(service.heap_bytes),
            ),
            (
                "behind_seconds",
                "How far the index is behind MongoDB's articles (NaN: not known yet).",
                math.nan if progress.behind_seconds is None else progress.behind_seconds,
            ),
            (
                "changes",
                "Article changes applied from the change stream since start.",
                float(progress.changes),
            ),
            (
                "rebuilds",
                "Full rebuilds after the change stream's history was lost.",
                float(progress.rebuilds),
            ),
            (
                "build_peak_rss_bytes",
                "Peak resident memory of the last build process (0: none since start).",
                float(progress.build_peak_rss_bytes),
            ),
        ]
        for name, help_text, value in figures:
            family = GaugeMetricFamily(f"newsgraph_search_{name}", help_text)
            family.add_metric([], value)
            yield family
