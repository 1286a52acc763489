"""Subscription metrics, on the app's own registry (``api.http.metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class LiveMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.active = Gauge(
            "newsgraph_subscriptions_active",
            "Subscriptions currently open in this process.",
            registry=registry,
        )
        self.delivered = Counter(
            "newsgraph_subscription_events_delivered",
            "Events sent to subscribers.",
            registry=registry,
        )
        self.dropped = Counter(
            "newsgraph_subscription_events_dropped",
            "Events not sent: a slow subscriber's buffer was full, so it was cut off.",
            registry=registry,
        )
        self.resumes = Counter(
            "newsgraph_change_stream_resumes",
            "Times the articles change stream was reopened from its resume token.",
            registry=registry,
        )
