"""Prometheus metrics at ``/metrics``: requests, latency, cost, MongoDB command
durations and APQ lookups. Each app has its own registry, so several apps in one
process (the tests) do not collide."""

from __future__ import annotations

import re

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)
from starlette.requests import Request
from starlette.responses import Response

from api import garbage
from api.http.load_metrics import LoadMetrics
from api.http.request_log import RequestRecord, current_record
from api.metric_set import Children

# Operation names come from clients: only this many distinct ones get a label of
# their own, the rest share "other", so a client cannot blow up the series count.
MAX_OPERATION_LABELS = 100
GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")

COST_BUCKETS = (1, 10, 50, 100, 500, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # Labelled metrics as Children: each series is looked up once.
        self.requests = Children(
            Counter(
                "newsgraph_graphql_requests",
                "GraphQL requests by operation name and outcome (ok or the error code).",
                ["operation", "outcome"],
                registry=self.registry,
            )
        )
        self.latency = Children(
            Histogram(
                "newsgraph_graphql_request_duration_seconds",
                "Time to answer a GraphQL request, by operation name.",
                ["operation"],
                registry=self.registry,
            )
        )
        self.cost = Histogram(
            "newsgraph_graphql_query_cost",
            "Calculated cost (nodes the query can return) of the queries that were costed.",
            buckets=COST_BUCKETS,
            registry=self.registry,
        )
        self.mongo = Children(
            Histogram(
                "newsgraph_mongodb_command_duration_seconds",
                "MongoDB command durations, by command name and outcome.",
                ["command", "outcome"],
                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
                registry=self.registry,
            )
        )
        self.apq = Children(
            Counter(
                "newsgraph_apq_lookups",
                "Automatic persisted query requests: hit, miss or registered.",
                ["result"],
                registry=self.registry,
            )
        )
        self.load = LoadMetrics(self.registry)
        garbage.watch()
        self.registry.register(garbage.GarbageMetrics())
        self.operations: set[str] = set()

    def observe(self, record: RequestRecord) -> None:
        operation = self.operation_label(record.operation)
        self.requests(operation, record.outcome).inc()
        self.latency(operation).observe(record.duration_ms / 1000)
        if record.cost is not None:
            self.cost.observe(record.cost)
        if record.apq is not None:
            self.apq(record.apq).inc()
        if record.outcome == "deadline_exceeded":
            self.load.deadline_expired()

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not isinstance(name, str) or not GRAPHQL_NAME.fullmatch(name):
            return "invalid"
        if name in self.operations:
            return name
        if len(self.operations) < MAX_OPERATION_LABELS:
            self.operations.add(name)
            return name
        return "other"

    def listener(self) -> CommandListener:
        return _CommandMetrics(self.mongo)

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class _CommandMetrics(CommandListener):
    """Times every MongoDB command, and counts it as a round trip of the request
    that sent it (the command is started in that request's task)."""

    def __init__(self, histogram: Children[Histogram]) -> None:
        self.histogram = histogram

    def started(self, event: CommandStartedEvent) -> None:
        record = current_record.get()
        if record is not None:
            record.mongo_round_trips += 1

    def succeeded(self, event: CommandSucceededEvent) -> None:
        self.histogram(event.command_name, "ok").observe(event.duration_micros / 1e6)

    def failed(self, event: CommandFailedEvent) -> None:
        self.histogram(event.command_name, "failed").observe(event.duration_micros / 1e6)
