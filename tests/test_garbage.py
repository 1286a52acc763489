"""The garbage collector of ``python -m api`` (api.garbage): tuned by default, what
start-up built frozen once the server has started; ``GC_MODE=python`` leaves the
interpreter's defaults. Both serve the collector's figures at /metrics."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import httpx

from api import garbage
from bench.servers import Server
from loaders.load import Report
from tests.conftest import SEEDS

QUERY = {"query": "{ articles(first: 20) { nodes { title provider { name } } } }"}


def test_python_m_api_freezes_start_up_and_serves_the_collectors_figures(
    load: Callable[..., Report], mongo_uri: str, db_name: str, tmp_path: Path
) -> None:
    assert load(SEEDS).errors == []
    tuned = Server("gc-tuned", "api", mongo_uri, db_name, tmp_path)
    try:
        python = Server("gc-python", "api", mongo_uri, db_name, tmp_path, GC_MODE="python")
        try:
            for server in (tuned, python):
                for _ in range(20):
                    httpx.post(server.url, json=QUERY).raise_for_status()
            # The schema, the modules and the drivers: tens of thousands of objects.
            assert (tuned.metric("newsgraph_gc_frozen_objects") or 0) > 10_000
            assert python.metric("newsgraph_gc_frozen_objects") == 0
            young = 'newsgraph_gc_collections_total{generation="0"}'
            assert (python.metric(young) or 0) > 0  # every 700 allocations
            assert (python.metric('newsgraph_gc_seconds_total{generation="0"}') or 0) > 0
        finally:
            python.stop()
    finally:
        tuned.stop()


def test_collections_are_counted_by_generation() -> None:
    garbage.watch()
    garbage.watch()  # once per process, however many apps
    assert gc.callbacks.count(garbage._on_collection) == 1
    families = {family.name: family for family in garbage.GarbageMetrics().collect()}
    before = {s.labels["generation"]: s.value for s in families["newsgraph_gc_collections"].samples}
    gc.collect(1)
    families = {family.name: family for family in garbage.GarbageMetrics().collect()}
    after = {s.labels["generation"]: s.value for s in families["newsgraph_gc_collections"].samples}
    assert after["1"] == before["1"] + 1
    assert after["2"] == before["2"]
