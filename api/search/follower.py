"""Keeps the index equal to MongoDB's ``articles``: a full build when there is no
resume token (first start, an emptied directory, a token fallen off the oplog),
then the collection's change stream, from the stored token.

Engine work runs in a worker thread, so requests keep being served; its results
are made visible (``SearchIndex.refresh``) on the event loop, between requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure, PyMongoError

from api.search.fields import PROJECTION
from api.search.index import SearchIndex

log = logging.getLogger("newsgraph.search")

Document = dict[str, Any]

# MongoDB's codes for a resume token it can no longer resume from.
HISTORY_LOST = {286, 280}  # ChangeStreamHistoryLost, ChangeStreamFatalError
# Changes are made visible at least this often while they arrive...
COMMIT_SECONDS = 0.5
# ...or after this many, whichever comes first.
COMMIT_CHANGES = 5_000
# How long one wait on the change stream may block when nothing changes.
AWAIT_MS = 200
# Behind by more than this, the process is not ready (/readyz answers 503).
READY_LAG_SECONDS = 10.0
# Articles read and indexed at a time by a build: small, so that the batch, the
# cursor's next one and the writer's heap stay small beside each other.
BUILD_BATCH = 500
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)
# After an error that is not MongoDB's (a bug), retry less eagerly: a build reads
# every article.
UNEXPECTED_RETRY_SECONDS = 10.0


@dataclass
class Progress:
    """What /readyz and /metrics report."""

    state: str = "starting"  # building, catching-up, current, retrying
    built: bool = False  # the index holds a whole build (now or before a restart)
    indexed: int = 0  # articles written by the current build
    to_index: int = 0  # articles in MongoDB when the build started
    # None until the change stream has been read once since the start (a restarted
    # process does not know how far behind its stored token is until then).
    behind_seconds: float | None = None
    last_error: str | None = None
    rebuilds: int = 0
    changes: int = 0

    @property
    def ready(self) -> bool:
        behind = self.behind_seconds
        return self.built and behind is not None and behind <= READY_LAG_SECONDS

    def report(self) -> dict[str, Any]:
        body: dict[str, Any] = {"state": self.state, "ready": self.ready}
        if self.state == "building":
            body["indexed"], body["toIndex"] = self.indexed, self.to_index
        behind = self.behind_seconds
        body["behindSeconds"] = None if behind is None else round(behind, 3)
        if self.last_error:
            body["lastError"] = self.last_error
        return body


class HistoryLost(Exception):
    """The stored resume token is no longer in the oplog (or the stream ended)."""


class Follower:
    def __init__(self, index: SearchIndex, articles: AsyncCollection[Document]) -> None:
        self.index = index
        self.articles = articles
        self.progress = Progress(built=index.token is not None)
        self.built = asyncio.Event()
        if self.progress.built:
            self.built.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="search-follower")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # The worker thread may still hold the writer: close it there, after it.
        await asyncio.to_thread(self.index.close)

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                source = await self._source()
                if self.index.token is not None and source != self.index.source:
                    raise HistoryLost("the index was built from another articles collection")
                if self.index.token is None:
                    self.index.source = source
                    await self.build()
                await self.follow()
            except HistoryLost as exc:
                log.warning("search: %s; rebuilding the index from MongoDB", exc)
                self.index.forget()
                self.progress.rebuilds += 1
            except PyMongoError as exc:
                # An election, a restart, a lost connection: resume from the token.
                log.warning("search: change stream interrupted (%s); retrying", exc)
                await self._pause(failures, exc)
                failures += 1
                continue
            except Exception as exc:
                # A bug must not leave the index silently stale: say so, then retry
                # from the token (last_error shows it on /readyz).
                log.exception("search: the follower failed; retrying from its token")
                await self._pause(failures, exc, at_least=UNEXPECTED_RETRY_SECONDS)
                failures += 1
                continue
            failures = 0

    async def _pause(self, failures: int, exc: Exception, at_least: float = 0.0) -> None:
        self.progress.state, self.progress.last_error = "retrying", str(exc)
        delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
        await asyncio.sleep(max(delay, at_least))

    async def _source(self) -> str | None:
        """The articles collection's UUID (None until the loader first creates it)."""
        database = self.articles.database
        async for info in await database.list_collections(filter={"name": self.articles.name}):
            uuid = info.get("info", {}).get("uuid")
            return str(uuid) if uuid is not None else None
        return None

    async def build(self) -> None:
        """Every article, read after opening a change stream whose first token is
        kept: whatever changes during the read is replayed from that token."""
        progress = self.progress
        progress.state, progress.indexed = "building", 0
        async with await self.articles.watch(max_await_time_ms=AWAIT_MS) as stream:
            await stream.try_next()  # the server's resume token for "now"
            token = stream.resume_token
        if token is None:
            raise HistoryLost("MongoDB gave no resume token")  # never on a replica set
        progress.to_index = await self.articles.estimated_document_count()
        started = time.monotonic()
        await asyncio.to_thread(self.index.clear)
        batch: list[Document] = []
        async for article in self.articles.find({}, PROJECTION, batch_size=BUILD_BATCH):
            batch.append(article)
            if len(batch) >= BUILD_BATCH:
                progress.indexed += await asyncio.to_thread(self.index.add, batch)
                batch = []
        progress.indexed += await asyncio.to_thread(self.index.add, batch)
        await asyncio.to_thread(self.index.commit, dict(token))
        self.index.refresh()
        progress.built = True
        self.built.set()
        log.info(
            "search: indexed %d articles in %.1f s", progress.indexed, time.monotonic() - started
        )

    async def follow(self) -> None:
        token = self.index.token
        progress = self.progress
        progress.state = "catching-up"
        try:
            stream = await self.articles.watch(
                full_document="updateLookup",
                resume_after=token,
                max_await_time_ms=AWAIT_MS,
                batch_size=COMMIT_CHANGES,
            )
        except OperationFailure as exc:
            if exc.code in HISTORY_LOST:
                raise HistoryLost(f"the resume token is no longer in the oplog ({exc})") from exc
            raise
        async with stream:
            while True:
                upserts: dict[str, Document] = {}
                deletes: set[str] = set()
                latest: datetime | None = None
                change: Document | None = None
                deadline = time.monotonic() + COMMIT_SECONDS
                while len(upserts) + len(deletes) < COMMIT_CHANGES and time.monotonic() < deadline:
                    try:
                        change = await stream.try_next()
                    except OperationFailure as exc:
                        if exc.code in HISTORY_LOST:
                            raise HistoryLost(f"the change stream was lost ({exc})") from exc
                        raise
                    if change is None:
                        break
                    latest = change.get("wallTime") or latest
                    _collect(change, upserts, deletes)
                new_token = _plain(stream.resume_token)
                changed = upserts or deletes
                if changed:
                    if self.index.source is None:  # the loader has just created it
                        self.index.source = await self._source()
                    await asyncio.to_thread(self._write, list(upserts.values()), deletes, new_token)
                    self.index.refresh()
                    progress.changes += len(upserts) + len(deletes)
                elif new_token != self.index.token:
                    await asyncio.to_thread(self.index.save_token, new_token)
                progress.last_error = None
                if latest is not None and changed and change is not None:
                    # Stopped by the batch's bounds, not by an empty stream: more waits.
                    progress.behind_seconds = _age(latest)
                    progress.state = "catching-up"
                else:
                    progress.behind_seconds = 0.0
                    progress.state = "current"

    def _write(
        self, upserts: list[Document], deletes: set[str], token: dict[str, Any] | None
    ) -> None:
        self.index.apply(upserts, deletes)
        self.index.commit(token)


def _collect(change: Document, upserts: dict[str, Document], deletes: set[str]) -> None:
    """Folds one change into the pending ones: the last change of a key wins."""
    operation = change.get("operationType")
    if operation in ("insert", "replace", "update"):
        key = str(change["documentKey"]["_id"])
        article = change.get("fullDocument")
        if article is None:  # updated, then deleted before the lookup
            upserts.pop(key, None)
            deletes.add(key)
        else:
            deletes.discard(key)
            upserts[key] = article
    elif operation == "delete":
        key = str(change["documentKey"]["_id"])
        upserts.pop(key, None)
        deletes.add(key)
    elif operation in ("drop", "rename", "dropDatabase", "invalidate"):
        raise HistoryLost(f"the articles collection was {operation}")


def _age(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())


def _plain(token: Any) -> dict[str, Any] | None:
    return dict(token) if token is not None else None
