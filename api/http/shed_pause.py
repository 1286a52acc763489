"""How long a shed connection's pause lasts (api.http.connections).

Under overload, a client that ignores ``Retry-After`` is refused at most once per
pause, and every response it gets has waited about that long. So the pause trades
refusals a second (each one CPU that the admitted requests lose) against the latency
of every response. Where the trade is best depends on how fast this machine answers:
a fixed pause is too short on a slow machine, which then refuses more than it needs
to, and too long on a fast one, where it puts the p99 latency at many times the
admitted requests'. So the pause follows the admitted requests' own execution time:
``SHED_PAUSE_FACTOR`` times the p99 of the last ``WINDOW`` of them, never below
``SHED_PAUSE_MS`` and never past ``Retry-After`` (a client that honours it waits
that long anyway).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

WINDOW = 256  # executions the p99 is taken over
EVERY = 32  # executions between two updates of the pause


class ShedPause:
    """The current pause, in ``seconds``; ``record()`` each admitted request's
    execution time (from its slot to its answer)."""

    def __init__(self, least_s: float, factor: float, most_s: float) -> None:
        self.least = least_s
        self.factor = factor
        self.most = max(most_s, least_s)
        self.seconds = least_s
        self._samples: deque[float] = deque(maxlen=WINDOW)
        self._since = 0  # samples since the last update

    def record(self, seconds: float) -> None:
        if not self.factor:
            return
        self._samples.append(seconds)
        self._since += 1
        if self._since >= EVERY:
            self._since = 0
            self.seconds = min(max(self.factor * p99(self._samples), self.least), self.most)


def p99(samples: Iterable[float]) -> float:
    """The 99th percentile (nearest rank) of a non-empty list."""
    ordered = sorted(samples)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]
