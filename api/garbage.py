"""Python's cyclic garbage collector, set for a long-running server, and measured.

With the interpreter's defaults, a full (generation 2) collection walks every
object the process holds: the schema, Strawberry's and graphql-core's types, the
plan cache, the drivers' state. Under load on these machines that ran every few
hundred requests and took about 38 ms each: a tenth of the server's CPU, and the
top of its p99 (``python -m bench.gc_cost`` measures it).

``tune("tuned")``, once the server has started, freezes what the process holds by
then (``gc.freeze``: never walked again, still freed by reference counting) and
raises the first generation's threshold, so that most of a request's short-lived
containers are freed by reference counting before any collection sees them.
``GC_MODE=python`` leaves the interpreter's defaults, to compare.

Collections and their time, per generation, are served at /metrics."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Generation 0 every 10,000 net container allocations (Python: 700); generations 1
# and 2 every 20 collections of the one below (Python: 10).
TUNED_THRESHOLD = (10_000, 20, 20)

GENERATIONS = 3
_seconds = [0.0] * GENERATIONS
_collections = [0] * GENERATIONS
_started = [0.0]


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    # The collector is not re-entrant and holds the GIL: a start is always
    # followed by its own stop.
    if phase == "start":
        _started[0] = time.perf_counter()
    else:
        generation = info["generation"]
        _seconds[generation] += time.perf_counter() - _started[0]
        _collections[generation] += 1


def watch() -> None:
    """Count collections and their time from now on (once per process)."""
    if _on_collection not in gc.callbacks:
        gc.callbacks.append(_on_collection)


def tune(mode: str) -> None:
    """Set the collector for serving: called once the server has started, so that
    what start-up built is what gets frozen."""
    if mode == "tuned":
        gc.collect()  # what start-up left as garbage is not frozen with the rest
        gc.freeze()
        gc.set_threshold(*TUNED_THRESHOLD)


class GarbageMetrics(Collector):
    """The process's collections at /metrics (each app's registry gets one)."""

    def collect(self) -> Iterator[Metric]:
        seconds = CounterMetricFamily(
            "newsgraph_gc_seconds",
            "Time in Python's cyclic garbage collector, by generation collected.",
            labels=["generation"],
        )
        collections = CounterMetricFamily(
            "newsgraph_gc_collections",
            "Collections of Python's cyclic garbage collector, by generation.",
            labels=["generation"],
        )
        for generation in range(GENERATIONS):
            seconds.add_metric([str(generation)], _seconds[generation])
            collections.add_metric([str(generation)], _collections[generation])
        yield seconds
        yield collections
        yield GaugeMetricFamily(
            "newsgraph_gc_frozen_objects",
            "Objects frozen after start-up (GC_MODE=tuned): never walked by a collection.",
            value=gc.get_freeze_count(),
        )
