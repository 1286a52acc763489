"""One change stream on ``articles`` per process, fanned out to every subscriber.

The stream is opened with the first subscriber and read by one task, so events
reach each subscriber in commit order. Each subscriber has a bounded buffer (the
documents in it are shared by all subscribers). When one is full the stream is
held back, not buffered further: MongoDB's oplog keeps the events not yet read, so
a burst (a bulk load) reaches every subscriber that keeps reading. A subscriber
that takes no event for ``grace_s`` seconds while the stream waits for it is cut
off (its connection is told, see ``api.live.transport``): memory stays bounded and
a stuck client delays the others by at most that. A client that reads, however
slowly, is never cut off: the stream goes at its pace. The resume token of the last
event read is kept; when the stream fails (an election, a lost connection) it is
reopened after that token, so no event is lost or delivered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure, PyMongoError

from api.errors import ServiceUnavailable, SubscriptionLimit
from api.live.matcher import matches
from api.live.metrics import LiveMetrics
from api.store.filters import ArticleConditions, Document

log = logging.getLogger("newsgraph.live")

# How long to wait before reopening a failed stream, and the server-side wait of an
# idle getMore (a short one lets the task notice a close promptly).
RETRY_SECONDS = 0.5
MAX_AWAIT_MS = 500
# How often a held-back stream checks whether its slow subscribers caught up.
HOLD_POLL_S = 0.01
# ChangeStreamHistoryLost: the resume token has left the oplog.
HISTORY_LOST = 286

PIPELINE: list[Document] = [
    {"$match": {"operationType": {"$in": ["insert", "update", "replace"]}}},
    {"$project": {"updateDescription": 0}},
]


class Change(Enum):
    ADDED = "added"
    UPDATED = "updated"


def change_of(event: Document) -> Change:
    return Change.ADDED if event["operationType"] == "insert" else Change.UPDATED


class _Closed:
    """Put in a subscriber's queue when the hub closes: its subscription completes."""


CLOSED = _Closed()


@dataclass(eq=False)
class Subscriber:
    change: Change
    where: ArticleConditions
    buffer: int
    on_overflow: Callable[[], None]
    # One slot more than the buffer, kept for CLOSED.
    queue: asyncio.Queue[Document | _Closed] = field(init=False)
    # When it last took an event (event-loop time).
    last_taken: float = 0.0

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.buffer + 1)

    def full(self) -> bool:
        return self.queue.qsize() >= self.buffer

    async def next(self) -> Document | None:
        """The next matching article, or None once the subscription is over."""
        item = await self.queue.get()
        self.last_taken = asyncio.get_running_loop().time()
        return None if isinstance(item, _Closed) else item


class ChangeHub:
    def __init__(
        self,
        collection: AsyncCollection[Document],
        metrics: LiveMetrics,
        *,
        buffer: int,
        grace_s: float,
        max_subscribers: int,
        open_timeout_s: float,
    ) -> None:
        self.collection = collection
        self.metrics = metrics
        self.buffer = buffer
        self.grace_s = grace_s
        self.max_subscribers = max_subscribers
        self.open_timeout_s = open_timeout_s
        self.subscribers: set[Subscriber] = set()
        self.resume_token: Any = None
        self.closing = False
        self._opened = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def subscribe(
        self, change: Change, where: ArticleConditions, on_overflow: Callable[[], None]
    ) -> Subscriber:
        """Register a subscriber; returns once the stream is open, so every change
        committed from then on reaches it."""
        if self.closing:
            raise ServiceUnavailable("The server is shutting down; reconnect in a moment.")
        self._check_room()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="articles change stream")
        try:
            async with asyncio.timeout(self.open_timeout_s):
                await self._opened.wait()
        except TimeoutError:
            raise ServiceUnavailable(
                "The database is unavailable; retry in a few seconds."
            ) from None
        self._check_room()  # again: others may have subscribed while this one waited
        subscriber = Subscriber(change, where, self.buffer, on_overflow)
        self.subscribers.add(subscriber)
        self.metrics.active.set(len(self.subscribers))
        return subscriber

    def _check_room(self) -> None:
        if len(self.subscribers) >= self.max_subscribers:
            raise SubscriptionLimit(
                f"This server has {self.max_subscribers} subscriptions open, its limit "
                "(MAX_SUBSCRIPTIONS); retry later or on another instance.",
                limit=self.max_subscribers,
            )

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        self.metrics.active.set(len(self.subscribers))

    async def close(self) -> None:
        """Complete every subscription (what each has buffered is still delivered)
        and stop reading the stream."""
        self.closing = True
        for subscriber in self.subscribers:
            subscriber.queue.put_nowait(CLOSED)
        self.subscribers.clear()
        self.metrics.active.set(0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._read()
            except OperationFailure as exc:
                self._reopen_later(exc)
                if exc.code == HISTORY_LOST:
                    log.error(
                        "the articles change stream cannot resume: its resume token is no "
                        "longer in the oplog, so changes since then are not delivered; "
                        "enlarge the oplog if this repeats"
                    )
                    self.resume_token = None
                await asyncio.sleep(RETRY_SECONDS)
            except PyMongoError as exc:
                self._reopen_later(exc)
                await asyncio.sleep(RETRY_SECONDS)

    def _reopen_later(self, exc: Exception) -> None:
        self._opened.clear()
        self.metrics.resumes.inc()
        log.warning("articles change stream failed (%s); reopening from its resume token", exc)

    async def _read(self) -> None:
        stream = await self.collection.watch(
            PIPELINE,
            full_document="updateLookup",
            resume_after=self.resume_token,
            max_await_time_ms=MAX_AWAIT_MS,
        )
        async with stream:
            self.resume_token = stream.resume_token
            self._opened.set()
            while True:
                event = await stream.try_next()
                if event is not None:
                    await self._dispatch(event)
                # After an event, its own token; after an empty batch, the server's
                # latest, so a quiet stream does not fall behind the oplog.
                self.resume_token = stream.resume_token

    async def _dispatch(self, event: Document) -> None:
        doc = event.get("fullDocument")
        if doc is None:  # updated, then deleted before the lookup
            return
        change = change_of(event)
        targets = [
            subscriber
            for subscriber in self.subscribers
            if subscriber.change is change and self._wants(subscriber, doc)
        ]
        await self._deliver(targets, doc)

    async def _deliver(self, targets: list[Subscriber], doc: Document) -> None:
        """Queue ``doc`` for each target. A full buffer holds the stream back (the
        oplog keeps what is not read yet, so a burst is delivered, not dropped) while
        its subscriber takes events; one that takes none for ``grace_s`` while the
        stream waits for it is cut off."""
        waiting = []
        for subscriber in targets:
            if subscriber.full():
                waiting.append(subscriber)
            else:
                subscriber.queue.put_nowait(doc)
        loop = asyncio.get_running_loop()
        since = loop.time()
        while waiting:
            await asyncio.sleep(HOLD_POLL_S)
            still = []
            for subscriber in waiting:
                if subscriber not in self.subscribers:
                    continue  # it left meanwhile
                if not subscriber.full():
                    subscriber.queue.put_nowait(doc)
                elif loop.time() - max(since, subscriber.last_taken) >= self.grace_s:
                    self._cut_off(subscriber)
                else:
                    still.append(subscriber)
            waiting = still

    def _wants(self, subscriber: Subscriber, doc: Document) -> bool:
        try:
            return matches(subscriber.where, doc)
        except Exception:  # a document of a shape the matcher did not foresee
            log.exception("could not match article %s against a filter", doc.get("_id"))
            return False

    def _cut_off(self, subscriber: Subscriber) -> None:
        """Too slow: drop what it has waiting and tell its connection, which sends the
        error and closes (ending this subscription with it)."""
        dropped = 1 + subscriber.queue.qsize()
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait()
        self.unsubscribe(subscriber)
        self.metrics.dropped.inc(dropped)
        subscriber.on_overflow()
