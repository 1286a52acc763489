"""Subscription metrics, on the app's own registry (``api.http.metrics``)."""

from __future__ import annotations

from api.metric_set import MetricSet, counter, gauge


class LiveMetrics(MetricSet):
    active = gauge(
        "newsgraph_subscriptions_active",
        "Subscriptions currently open in this process.",
    )
    delivered = counter(
        "newsgraph_subscription_events_delivered",
        "Events sent to subscribers.",
    )
    dropped = counter(
        "newsgraph_subscription_events_dropped",
        "Events not sent: a slow subscriber's buffer was full, so it was cut off.",
    )
    resumes = counter(
        "newsgraph_change_stream_resumes",
        "Times the articles change stream was reopened from its resume token.",
    )
