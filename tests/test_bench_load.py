"""`make bench-load` on a small corpus, so the instrument cannot rot: it runs the
loader as an operator does, measures both floors on its own mongod and writes every
figure. It checks the instrument, never the figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.load import ROOT, results_path

FIGURES = {
    "files", "seed", "workers", "loaderArticlesPerSecond", "loaderSeconds",
    "parsingFloorArticlesPerSecond", "writeFloorArticlesPerSecond", "ratioToSlowerFloor",
    "indexedWriteFloorArticlesPerSecond", "sharedCoreFloorArticlesPerSecond",
    "ratioToSharedCoreFloor", "peakRssMiB", "cpuSeconds", "measuredAt",
}  # fmt: skip


def test_bench_load_measures_the_loader_and_both_floors(tmp_path: Path) -> None:
    results = tmp_path / "load.json"
    command = [sys.executable, "-m", "bench.load", "--n", "300", "--results", str(results)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    figures = json.loads(results.read_text())
    assert set(figures) == FIGURES
    assert figures["files"] == 300
    rates = [key for key in FIGURES if key.endswith("PerSecond")]
    assert all(figures[key] > 0 for key in rates)
    # The shared-core floor is both floors' work in turn: slower than either alone.
    assert figures["sharedCoreFloorArticlesPerSecond"] < figures["parsingFloorArticlesPerSecond"]
    assert "| 300 |" in run.stdout
    cpu = figures["cpuSeconds"]
    assert set(cpu) == {"loaderWorkers", "loaderMain", "mongod", "parsingFloor"}
    assert cpu["loaderMain"] > 0 and cpu["loaderWorkers"] > 0 and cpu["mongod"] > 0


def test_a_size_other_than_the_default_keeps_its_own_results_file() -> None:
    assert results_path(100_000).name == "load.json"
    assert results_path(1_000_000).name == "load-1000000.json"
