"""Keeps the index equal to MongoDB's ``articles``: a full build when there is no
resume token (first start, an emptied directory, a token fallen off the oplog), in
a child process of its own (``api.search.build``), then the collection's change
stream, from the stored token, in this process.

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

from api.search.child import BuildCommand, BuildFailed, run_build
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
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)
# After an error that is not MongoDB's (a bug), retry less eagerly: a build reads
# every article.
UNEXPECTED_RETRY_SECONDS = 10.0
# After a build process failed or died: it may have read for minutes.
BUILD_RETRY_SECONDS = 5.0


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
    build_peak_rss_bytes: int = 0  # of the last build process

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
    def __init__(
        self, index: SearchIndex, articles: AsyncCollection[Document], command: BuildCommand
    ) -> None:
        self.index = index
        self.articles = articles
        self.command = command
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
                self._mark_built()
                await self.follow()
            except HistoryLost as exc:
                log.warning("search: %s; rebuilding the index from MongoDB", exc)
                self.index.forget()
                self.progress.rebuilds += 1
            except BuildFailed as exc:
                # The old index, if any, still answers; /readyz shows the error until
                # a build succeeds. MongoDB away: retried as a stream would be.
                wait = 0.0 if exc.mongodb else BUILD_RETRY_SECONDS
                log.log(
                    logging.WARNING if exc.mongodb else logging.ERROR,
                    "search: %s; retrying in %.1f s",
                    exc,
                    _delay(failures, wait),
                )
                await self._pause(failures, exc, at_least=wait)
                failures += 1
                continue
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
        await asyncio.sleep(_delay(failures, at_least))

    async def _source(self) -> str | None:
        """The articles collection's UUID (None until the loader first creates it)."""
        database = self.articles.database
        async for info in await database.list_collections(filter={"name": self.articles.name}):
            uuid = info.get("info", {}).get("uuid")
            return str(uuid) if uuid is not None else None
        return None

    async def build(self) -> None:
        """A whole index from MongoDB: in a child process (``api.search.build``),
        which records the token it read from; an empty collection is built here."""
        progress = self.progress
        progress.state, progress.indexed, progress.to_index = "building", 0, 0
        token = await self._token_now()
        if await self.articles.find_one({}, {"_id": 1}) is None:
            # Nothing to read: what is inserted from now on is replayed from the token.
            await asyncio.to_thread(self._empty, token)
            log.info("search: the articles collection is empty; following it")
        else:
            await asyncio.to_thread(self.index.release_writer)
            try:
                built = await run_build(self.command, self._on_build_progress)
            finally:
                self.index.reload_meta()
            log.info(
                "search: indexed %d articles in %.1f s in a build process (its peak RSS %.1f MiB)",
                built.indexed,
                built.seconds,
                built.peak_rss_bytes / 2**20,
            )
            progress.build_peak_rss_bytes = built.peak_rss_bytes
        self.index.refresh()

    async def _token_now(self) -> dict[str, Any]:
        """The change stream's resume token for "now"."""
        async with await self.articles.watch(max_await_time_ms=AWAIT_MS) as stream:
            await stream.try_next()
            token = stream.resume_token
        if token is None:
            raise HistoryLost("MongoDB gave no resume token")  # never on a replica set
        return dict(token)

    def _on_build_progress(self, message: dict[str, Any]) -> None:
        if "toIndex" in message:
            self.progress.to_index = int(message["toIndex"])
        if "indexed" in message:
            self.progress.indexed = int(message["indexed"])

    def _mark_built(self) -> None:
        """The index holds a whole build whenever it has a token (a token is only
        recorded with a build's commit, or after it)."""
        self.progress.built = True
        self.built.set()

    async def follow(self) -> None:
        token = self.index.token
        progress = self.progress
        progress.state = "catching-up"
        await asyncio.to_thread(self.index.open_writer)  # released by a build process
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

    def _empty(self, token: dict[str, Any]) -> None:
        self.index.open_writer()  # released if a build process failed before
        self.index.clear()
        self.index.commit(token)


def _delay(failures: int, at_least: float = 0.0) -> float:
    """Seconds before the next attempt after ``failures`` failures in a row."""
    return max(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)], at_least)


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
