"""Riding out a replica-set election: every MongoDB operation of a load goes through
``Failover.call``, which retries it while the set has no primary, up to a limit.

Each operation retried here is idempotent (upserts by id, index builds, recounts
from `articles`), and ``write_articles`` keeps the outcomes it decided before the
first attempt, so a run that waited ends with the same counts as one that did not.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure, PyMongoError
from pymongo.monitoring import (
    TopologyClosedEvent,
    TopologyDescriptionChangedEvent,
    TopologyListener,
    TopologyOpenedEvent,
)

T = TypeVar("T")

DEFAULT_PRIMARY_WAIT = 60.0  # seconds; an election usually takes about 10
PRIMARY_WAIT_ENV = "LOADER_PRIMARY_WAIT"
RETRY_EVERY = 0.5

# Server errors that mean "no primary right now" (a step-down, an election, a
# shutdown), not "this operation is wrong".
NO_PRIMARY_CODES = frozenset(
    {
        6,  # HostUnreachable
        7,  # HostNotFound
        89,  # NetworkTimeout
        91,  # ShutdownInProgress
        189,  # PrimarySteppedDown
        276,  # IndexBuildAborted (by a step-down)
        9001,  # SocketException
        10107,  # NotWritablePrimary
        11600,  # InterruptedAtShutdown
        11602,  # InterruptedDueToReplStateChange
        13435,  # NotPrimaryNoSecondaryOk
        13436,  # NotPrimaryOrSecondary
    }
)


class NoPrimary(PyMongoError):
    """The replica set had no primary for longer than the wait allowed."""

    def __init__(self, waited: float, last: PyMongoError) -> None:
        super().__init__(f"no primary for {waited:.0f} s; last error: {short_reason(last)}")
        self.waited = waited


def short_reason(exc: BaseException) -> str:
    """The first sentence of a driver error, without the topology dump that pymongo
    appends to a server selection timeout."""
    text = str(exc)
    for cut in (", Timeout: ", " (configured timeouts", ", Topology Description"):
        text = text.split(cut, 1)[0]
    return re.sub(r"\s+", " ", text).strip() or type(exc).__name__


def no_primary(exc: PyMongoError) -> bool:
    """Whether ``exc`` says only that there is no primary to talk to just now."""
    if isinstance(exc, ConnectionFailure):  # includes server selection and NotPrimary
        return True
    if exc.has_error_label("RetryableWriteError"):
        return True
    if isinstance(exc, BulkWriteError):
        details = exc.details
        codes = [e.get("code") for e in details.get("writeConcernErrors", [])]
        codes += [e.get("code") for e in details.get("writeErrors", [])]
        return bool(codes) and all(code in NO_PRIMARY_CODES for code in codes)
    return isinstance(exc, OperationFailure) and exc.code in NO_PRIMARY_CODES


class Failover:
    """Retries operations while MongoDB has no primary, for at most ``wait`` seconds
    from the first failure; says once that it is waiting, and when it resumes."""

    def __init__(
        self, wait: float = DEFAULT_PRIMARY_WAIT, say: Callable[[str], None] | None = None
    ) -> None:
        self.wait = wait
        self.say = say or _to_stderr
        self._lock = threading.Lock()
        self._waiting = False
        self._done = False
        self.outages = 0

    def call(self, operation: Callable[[], T]) -> T:
        deadline: float | None = None
        while True:
            try:
                result = operation()
            except PyMongoError as exc:
                if not no_primary(exc) or self.wait <= 0:
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self.wait
                if now >= deadline:
                    raise NoPrimary(self.wait, exc) from exc
                self.lost(short_reason(exc))
                time.sleep(RETRY_EVERY)
                continue
            if deadline is not None:
                self.found()
            return result

    def lost(self, reason: str) -> None:
        """Say (once an outage) that the load waits for a primary."""
        with self._lock:
            if self._waiting or self._done:
                return
            self._waiting = True
            self.outages += 1
        self.say(
            f"MongoDB has no primary ({reason}): waiting up to {self.wait:g} s for one "
            f"(an election?), then resuming; --primary-wait or {PRIMARY_WAIT_ENV} sets "
            "the limit"
        )

    def done(self) -> None:
        """The load is over: a client closing is no outage to speak of."""
        with self._lock:
            self._done = True

    def found(self) -> None:
        """Say that a primary is back, if the load was waiting for one."""
        with self._lock:
            if not self._waiting:
                return
            self._waiting = False
        self.say("MongoDB has a primary again: resuming the load")


class PrimaryWatch(TopologyListener):
    """Tells ``failover`` when the driver sees the primary go and come back, also when
    the driver's own retry of a write rides out the election unseen by ``call``."""

    def __init__(self, failover: Failover) -> None:
        self.failover = failover

    def opened(self, event: TopologyOpenedEvent) -> None:
        pass

    def description_changed(self, event: TopologyDescriptionChangedEvent) -> None:
        had = event.previous_description.has_writable_server()
        has = event.new_description.has_writable_server()
        if had and not has:
            self.failover.lost("the primary stopped answering")
        elif has and not had:
            self.failover.found()

    def closed(self, event: TopologyClosedEvent) -> None:
        pass


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
