"""Metrics and logs of overload and connection hygiene: requests shed, the queue, the
requests running, deadlines expired, connections refused or closed for idling or
dawdling. Registered on the app's registry (api.http.metrics), served at /metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from api.metric_set import Children, MetricSet, counter, gauge

log = logging.getLogger("newsgraph.load")

# Under overload a line per shed request would flood the log and cost the CPU that
# the admitted requests need: one summary line per this many seconds at most.
LOG_EVERY_S = 10.0


class LoadMetrics(MetricSet):
    shed = counter(
        "newsgraph_requests_shed",
        "GraphQL requests answered 503 without running: queue_full (no slot and the "
        "queue was full) or queue_timeout (waited in the queue until the deadline).",
        ["reason"],
    )
    in_flight = gauge("newsgraph_requests_in_flight", "GraphQL requests executing now.")
    queued = gauge("newsgraph_requests_queued", "GraphQL requests waiting for a slot to execute.")
    deadlines = counter(
        "newsgraph_request_deadlines_expired",
        "GraphQL requests cancelled at the request deadline (REQUEST_DEADLINE_MS).",
    )
    pause = gauge(
        "newsgraph_shed_pause_seconds",
        "How long a connection whose request was shed is paused now "
        "(SHED_PAUSE_MS, SHED_PAUSE_FACTOR).",
    )
    connections = gauge(
        "newsgraph_connections_open", "Open client connections (HTTP and WebSocket)."
    )
    closed = counter(
        "newsgraph_connections_closed",
        "Connections the server closed on its own: idle (keep-alive timeout), "
        "header_timeout, body_timeout, or refused (over MAX_CONNECTIONS).",
        ["reason"],
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry)
        self._shed_by_reason = Children(self.shed)
        self._shed_log = _Summary("shed %d requests with 503 since the last such line (%s)")
        self._closed_log = _Summary("closed %d connections since the last such line (%s)")

    def watch(
        self, in_flight: Callable[[], int], queued: Callable[[], int], pause: Callable[[], float]
    ) -> None:
        """Read the gauges from the gate and the pause at scrape time: nothing to do
        per request."""
        self.in_flight.set_function(in_flight)
        self.queued.set_function(queued)
        self.pause.set_function(pause)

    def request_shed(self, reason: str) -> None:
        self._shed_by_reason(reason).inc()
        self._shed_log.add(reason)

    def deadline_expired(self) -> None:
        self.deadlines.inc()

    def connection_closed(self, reason: str) -> None:
        self.closed.labels(reason).inc()
        if reason != "idle":
            self._closed_log.add(reason)


class _Summary:
    """Counts events by reason and logs the counts at most once per LOG_EVERY_S."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.counts: dict[str, int] = {}
        self.last = 0.0

    def add(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        now = time.monotonic()
        if now - self.last >= LOG_EVERY_S:
            total = sum(self.counts.values())
            reasons = ", ".join(f"{name}: {count}" for name, count in sorted(self.counts.items()))
            log.warning(self.template, total, reasons)
            self.counts.clear()
            self.last = now
