"""The load and subscription metrics (api.metric_set declarations) are on /metrics
with their types, and two apps in one process each have their own."""

from __future__ import annotations

from typing import Any

DECLARED = {
    "newsgraph_requests_shed_total": "counter",
    "newsgraph_requests_in_flight": "gauge",
    "newsgraph_requests_queued": "gauge",
    "newsgraph_request_deadlines_expired_total": "counter",
    "newsgraph_connections_open": "gauge",
    "newsgraph_connections_closed_total": "counter",
    "newsgraph_subscriptions_active": "gauge",
    "newsgraph_subscription_events_delivered_total": "counter",
    "newsgraph_subscription_events_dropped_total": "counter",
    "newsgraph_change_stream_resumes_total": "counter",
}


def test_the_declared_metrics_are_served_on_each_apps_registry(serve_api: Any) -> None:
    first, second = serve_api(), serve_api()
    for api in (first, second):
        text = api.client.get("/metrics").text
        for name, kind in DECLARED.items():
            assert f"# TYPE {name} {kind}\n" in text, name
        assert "\nnewsgraph_subscriptions_active 0.0\n" in text
        assert "\nnewsgraph_request_deadlines_expired_total 0.0\n" in text
