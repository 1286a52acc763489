"""The request deadline: every GraphQL request is answered within
``REQUEST_DEADLINE_MS`` of its admission (the time it queued included), give or
take ``GRACE_S``; a resolver is cancelled at its next ``await``.

The clock starts in the admission middleware; the view runs the request under
``asyncio.timeout`` (which cancels the resolvers and the MongoDB reads they await),
and every read is sent with the time left as ``maxTimeMS`` (api.store.time_limit),
so the server stops working on it too. With MongoDB away, the driver waits
``MONGO_TIMEOUT_MS`` for a server, then the field that waited fails with
``SERVICE_UNAVAILABLE``; a deadline shorter than that answers the same code at the
deadline (``timed_out`` in api.http.view)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pymongo.common
from pymongo.errors import PyMongoError, ServerSelectionTimeoutError

from api.errors import ApiError
from api.store.time_limit import Clock, current_clock, seconds_left

# MongoDB's error for a read's maxTimeMS (the time left) arrives just after the
# deadline, or a little before it when the clocks differ: it still counts as the deadline.
SLACK_S = 0.05
# The request itself is cancelled this much after the deadline, so that a request
# waiting on MongoDB gets MongoDB's or the driver's own error (which says whether
# MongoDB was slow or unreachable, and names the field that waited) rather than a
# bare cancellation: a read's maxTimeMS ends with the deadline, and a wait for a
# server that ends near it goes in steps of MIN_HEARTBEAT_INTERVAL (0.5 s). The grace
# covers one step, plus a margin for answering, or else the two timers race and an
# outage's answer would name the field or not by chance.
GRACE_S = pymongo.common.MIN_HEARTBEAT_INTERVAL + 0.25


class DeadlineExceeded(ApiError):
    """Answered with HTTP 504: the request ran out of time; it may succeed when the
    server is less busy, or asks for less."""

    code = "DEADLINE_EXCEEDED"

    def __init__(self, deadline_ms: int) -> None:
        super().__init__(
            f"The request did not finish within its deadline of {deadline_ms} ms and was "
            "cancelled. Ask for less (smaller pages, fewer nested connections) or retry later.",
            deadlineMs=deadline_ms,
        )


def start(ms: int) -> Clock:
    """Start the current request's clock (once; a later call keeps the first)."""
    clock = current_clock.get()
    if clock is None:
        clock = Clock(time.monotonic() + ms / 1000, ms)
        current_clock.set(clock)
    return clock


def exceeded() -> DeadlineExceeded:
    """The error of the current request's expired deadline."""
    clock = current_clock.get()
    return DeadlineExceeded(0 if clock is None else clock.ms)


def expired() -> bool:
    left = seconds_left()
    return left is not None and left <= SLACK_S


def is_deadline_error(error: BaseException) -> bool:
    """A MongoDB timeout caused by the request's deadline. Not finding a server at all
    is an outage (SERVICE_UNAVAILABLE), whenever it is noticed."""
    return (
        isinstance(error, PyMongoError)
        and not isinstance(error, ServerSelectionTimeoutError)
        and error.timeout
        and expired()
    )


@asynccontextmanager
async def within(ms: int) -> AsyncIterator[None]:
    """Run the block within the request's deadline (started now if not yet);
    raises TimeoutError when it passes."""
    start(ms)
    left = max(seconds_left() or 0.0, 0.001)
    loop = asyncio.get_running_loop()
    async with asyncio.timeout_at(loop.time() + left + GRACE_S):
        yield
