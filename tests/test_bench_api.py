"""The API benchmark's quick mode, so the instrument itself cannot rot: every operation
runs on both servers, the identity check catches a floor that answers differently,
and the results carry every field. It checks the instrument, never the figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from bench.api_bench import Options, run
from bench.checks import Mismatch, first_difference, ties_unordered
from bench.corpus import DEFAULT_SEED, cached_corpus
from bench.operations import OPERATIONS
from loaders.load import load_paths
from tests.conftest import RUN_ID

QUICK = Options.quick_mode()
SERVER_FIGURES = {
    "rps",
    "p50_ms",
    "p99_ms",
    "requests",
    "rounds",
    "mongo_round_trips",
    "mongo_bytes_per_response_byte",
    "response_bytes",
    "sequential_ms",
}


@pytest.fixture(scope="module")
def corpus_db(mongo_client: MongoClient[dict[str, Any]]) -> Iterator[str]:
    """The quick mode's corpus (N=2,000), loaded once for this module by the real loader."""
    name = f"ngtest_{RUN_ID}_bench"
    root = cached_corpus(QUICK.n, QUICK.seed)
    report = load_paths(mongo_client[name], [root])
    assert report.errors == []
    yield name
    mongo_client.drop_database(name)


def test_quick_mode_runs_every_operation_on_both_servers(
    mongo_uri: str, corpus_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "api.json"
    # Half a second per operation and server: the test checks the instrument, not speed.
    run(mongo_uri, corpus_db, Options.quick_mode(duration=0.5, out=out))

    results = json.loads(out.read_text())
    assert results["n"] == QUICK.n
    assert results["seed"] == DEFAULT_SEED
    assert results["machine"]["cpu_count"] >= 1
    assert {"python", "mongod", "pymongo", "strawberry-graphql", "newsgraph_commit"} <= set(
        results["versions"]
    )
    assert set(results["servers"]) == {"newsgraph", "floor"}
    assert all(server["peak_rss_mb"] > 10 for server in results["servers"].values())
    assert list(results["operations"]) == list(OPERATIONS)
    for name, entry in results["operations"].items():
        for server in ("newsgraph", "floor"):
            figures = entry[server]
            assert set(figures) >= SERVER_FIGURES, (name, server)
            assert figures["requests"] > 0 and figures["rps"] > 0, (name, server)
            assert 0 < figures["p50_ms"] <= figures["p99_ms"], (name, server)
            # A search with no hits needs no MongoDB read at all, so search's mean may be below 1.
            least_round_trips = 0.1 if name == "search" else 1
            assert figures["mongo_round_trips"] >= least_round_trips, (name, server)
            assert figures["response_bytes"] > 0, (name, server)
        assert entry["duration_s"] >= 0.5
        assert entry["ratio_p50"] == pytest.approx(
            entry["newsgraph"]["p50_ms"] / entry["floor"]["p50_ms"], abs=0.01
        )
        assert entry["ratio_rps"] == pytest.approx(
            entry["newsgraph"]["rps"] / entry["floor"]["rps"], abs=0.01
        )
    table = out.with_suffix(".md").read_text()
    assert all(f"| {name} |" in table for name in OPERATIONS)


@pytest.mark.parametrize("operation", ["topic", "app-article"])
def test_a_floor_that_answers_differently_fails_the_bench(
    mongo_uri: str, corpus_db: str, tmp_path: Path, operation: str
) -> None:
    options = Options.quick_mode(duration=1.0, out=tmp_path / "api.json", tamper=operation)
    with pytest.raises(Mismatch, match=rf"^{operation}: .*tampered"):
        run(mongo_uri, corpus_db, options)
    assert not (tmp_path / "api.json").exists()


def test_first_difference_names_the_field() -> None:
    ours = {"a": [{"b": 1, "c": "x"}], "d": None}
    assert first_difference(ours, {"d": None, "a": [{"c": "x", "b": 1}]}) is None
    assert first_difference(ours, {"a": [{"b": 1, "c": "y"}], "d": None}) == (
        'data.a[0].c: newsgraph "x" != floor "y"'
    )
    assert first_difference(ours, {"a": [], "d": None}) == (
        "data.a: 1 items in newsgraph's answer, 0 in the floor's"
    )


def _search(*edges: tuple[float, str]) -> dict[str, Any]:
    return {"search": {"edges": [{"score": s, "node": {"id": i}} for s, i in edges]}}


def test_search_answers_may_order_equal_scores_either_way() -> None:
    ours = _search((3.0, "a"), (2.0, "b"), (2.0, "c"), (1.0, "d"), (1.0, "e"))
    same = _search((3.0, "a"), (2.0, "c"), (2.0, "b"), (1.0, "e"), (1.0, "x"))
    assert ties_unordered(ours) == ties_unordered(same)  # the tie at the end cut elsewhere
    for other in (
        _search((3.0, "a"), (2.0, "b"), (2.0, "x"), (1.0, "d"), (1.0, "e")),  # another member
        _search((3.0, "a"), (2.0, "b"), (2.0, "c"), (1.5, "d"), (1.0, "e")),  # another score
        _search((3.0, "a"), (2.0, "b"), (2.0, "c"), (1.0, "d")),  # one fewer
    ):
        assert ties_unordered(ours) != ties_unordered(other)
    assert ties_unordered({"article": None}) == {"article": None}
