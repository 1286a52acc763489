"""A set of Prometheus metrics declared as class attributes and created on the
registry each instance is given (the app's own, ``api.http.metrics``: several apps
in one process, the tests, do not collide). A module keeps only its definitions:

    class LiveMetrics(MetricSet):
        active = gauge("newsgraph_subscriptions_active", "Subscriptions open now.")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar, overload

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

M = TypeVar("M", Counter, Gauge)
L = TypeVar("L", Counter, Gauge, Histogram)


class Children(Generic[L]):
    """A labelled metric's children by label values, each looked up once: prometheus'
    ``labels()`` validates and locks on every call, and some run several times a
    request (or, when shedding, thousands of times a second). The label values must
    come from a bounded set, as they must for any labelled metric."""

    def __init__(self, metric: L) -> None:
        self.metric: L = metric
        self.children: dict[tuple[str, ...], L] = {}

    def __call__(self, *values: str) -> L:
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = self.metric.labels(*values)
        return child


class Declared(Generic[M]):
    """A metric to create on each MetricSet's registry; on an instance, that metric."""

    def __init__(self, kind: type[M], name: str, documentation: str, labels: Sequence[str]) -> None:
        self.kind: type[M] = kind
        self.name = name
        self.documentation = documentation
        self.labels = tuple(labels)
        self.attribute = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute

    def create(self, registry: CollectorRegistry) -> M:
        return self.kind(self.name, self.documentation, self.labels, registry=registry)

    @overload
    def __get__(self, instance: None, owner: type) -> Declared[M]: ...
    @overload
    def __get__(self, instance: MetricSet, owner: type) -> M: ...
    def __get__(self, instance: MetricSet | None, owner: type) -> Declared[M] | M:
        # MetricSet.__init__ puts each metric in the instance's __dict__, which a
        # non-data descriptor yields to: only the class itself reaches here.
        if instance is None:
            return self
        raise AttributeError(f"{self.attribute}: MetricSet.__init__ was not called")


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Declared[Counter]:
    return Declared(Counter, name, documentation, labels)


def gauge(name: str, documentation: str, labels: Sequence[str] = ()) -> Declared[Gauge]:
    return Declared(Gauge, name, documentation, labels)


class MetricSet:
    def __init__(self, registry: CollectorRegistry) -> None:
        for attribute, declared in _declarations(type(self)):
            self.__dict__[attribute] = declared.create(registry)


def _declarations(cls: type) -> list[tuple[str, Declared[Any]]]:
    """The class's declared metrics, its bases' first, each in declaration order."""
    found: dict[str, Declared[Any]] = {}
    for klass in reversed(cls.__mro__):
        for attribute, value in vars(klass).items():
            if isinstance(value, Declared):
                found[attribute] = value
    return list(found.items())
