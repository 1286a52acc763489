"""bench.cpu's quick mode, so the instrument cannot rot: both servers answer every
operation it measures, and the results carry every figure. It checks the
instrument, never the figures (CPU time is counted in 10 ms ticks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from bench.corpus import cached_corpus
from bench.cpu import MEASURED, Options, run
from bench.proc import cpu_seconds
from loaders.load import load_paths
from tests.conftest import RUN_ID

QUICK = Options.quick_mode()


@pytest.fixture(scope="module")
def corpus_db(mongo_client: MongoClient[dict[str, Any]]) -> Iterator[str]:
    name = f"ngtest_{RUN_ID}_bench_cpu"
    report = load_paths(mongo_client[name], [cached_corpus(QUICK.n, QUICK.seed)])
    assert report.errors == []
    yield name
    mongo_client.drop_database(name)


def test_quick_mode_measures_every_operation_on_both_servers(
    mongo_uri: str, corpus_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "cpu.json"
    run(
        mongo_uri,
        corpus_db,
        Options.quick_mode(requests=5, fill_plans=5, load_seconds=0.5, out=out),
    )

    results = json.loads(out.read_text())
    assert results["n"] == QUICK.n
    assert list(results["cpu_ms_per_request"]) == list(MEASURED)
    assert "search" not in results["cpu_ms_per_request"]
    for name, entry in results["cpu_ms_per_request"].items():
        assert entry["newsgraph"] >= 0 and entry["floor"] >= 0, name
        # Under load the clock is read to the nanosecond: every server did some work.
        loaded = entry["loaded"]
        assert loaded["newsgraph"] > 0 and loaded["floor"] > 0, name
        assert loaded["ratio"] == round(loaded["newsgraph"] / loaded["floor"], 2), name
    for server in results["servers"].values():
        assert server["peak_rss_mb"] >= server["rss_mb"] > 10
    assert set(results["idle_cpu_ms_per_s"]) == {"newsgraph", "floor"}
    table = out.with_suffix(".md").read_text()
    assert "| home |" in table and "under load: newsgraph" in table


def test_cpu_seconds_grow_with_work() -> None:
    import os

    before = cpu_seconds(os.getpid())
    sum(i * i for i in range(3_000_000))
    assert cpu_seconds(os.getpid()) > before
