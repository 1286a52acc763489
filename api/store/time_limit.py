"""The time a MongoDB read is given: what is left of the current request's deadline
(api.http.deadline starts the clock at admission), sent as ``maxTimeMS`` with every
read (api.store.database) so that MongoDB itself stops working on a request that has
run out of time.

An explicit ``maxTimeMS`` per read, not ``pymongo.timeout()``: under the driver's
client-side timeout every message it sends runs under ``asyncio.wait_for`` (a task
and a timer per send), measured at about 0.3 ms of CPU on the home page's three
reads, a tenth of the request. The request itself is still cancelled at its
deadline (``asyncio.timeout`` in api.http.deadline), its reads included."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Clock:
    at: float  # time.monotonic() when the deadline falls
    ms: int  # the deadline the request was given


current_clock: ContextVar[Clock | None] = ContextVar("newsgraph_deadline", default=None)


def seconds_left() -> float | None:
    """What is left of the current request's deadline; None outside a request."""
    clock = current_clock.get()
    return None if clock is None else clock.at - time.monotonic()


def max_time_ms() -> int | None:
    """The ``maxTimeMS`` of a read now: at least 1 (MongoDB reads 0 as no limit)."""
    left = seconds_left()
    return None if left is None else max(int(left * 1000), 1)


def max_time() -> dict[str, Any]:
    """``maxTimeMS`` as the keyword of ``aggregate``, ``count_documents`` and
    ``estimated_document_count``; none outside a request."""
    ms = max_time_ms()
    return {} if ms is None else {"maxTimeMS": ms}
