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


def test_children_look_each_labelled_series_up_once_and_count_into_it() -> None:
    from prometheus_client import CollectorRegistry, Counter

    from api.metric_set import Children

    registry = CollectorRegistry()
    counter = Counter("t_requests", "test", ["operation", "outcome"], registry=registry)
    children = Children(counter)
    assert children("home", "ok") is children("home", "ok")
    assert children("home", "ok") is not children("home", "BAD_CURSOR")
    children("home", "ok").inc()
    children("home", "ok").inc()
    children("home", "BAD_CURSOR").inc()
    value = registry.get_sample_value
    assert value("t_requests_total", {"operation": "home", "outcome": "ok"}) == 2
    assert value("t_requests_total", {"operation": "home", "outcome": "BAD_CURSOR"}) == 1


def test_the_apps_database_hands_out_one_collection_object_per_name(api: Any) -> None:
    from pymongo.asynchronous.collection import AsyncCollection

    db = api.server.config.app.state.db
    articles = db["articles"]
    assert isinstance(articles, AsyncCollection)
    assert db["articles"] is articles
    assert db["topics"] is not articles and db["topics"].full_name.endswith(".topics")
    assert articles.codec_options.tz_aware  # the client's options, as pymongo's own
