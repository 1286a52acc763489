"""What Python's garbage collector costs the server under load, tuned or not.

    python -m bench.gc_cost [--n 2000] [--duration 10] [--connections 10 400]
        [--rounds 3]

Two ``python -m api`` on one mongod, ``GC_MODE=tuned`` (the default: start-up
frozen, generation 0 every 10,000 allocations) and ``GC_MODE=python`` (the
interpreter's defaults), take turns under wrk posting the home query, at each
number of connections, for ``--rounds`` rounds. For each run: 2xx per second, p99,
the server's CPU ms per 2xx (its threads' schedstat) and the collector's own ms per
2xx (``newsgraph_gc_seconds_total``, timed by the server around every collection:
the figure that does not depend on the machine's noise), and each server's peak
RSS. Writes
bench/results/gc-cost.json and .md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import loadgen
from bench.api_bench import RESULTS, write_results
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, loaded_mongod, log
from bench.operations import body
from bench.overload import run_wrk
from bench.proc import precise_cpu_seconds
from bench.servers import Server, in_turns, newsgraph_variants

MODES = ("tuned", "python")
GENERATIONS = range(3)


@dataclass
class Run:
    mode: str
    connections: int
    goodput: float
    p99_ms: float
    cpu_ms_per_2xx: float
    gc_ms_per_2xx: float
    full_collections: int  # of generation 2, during the run
    peak_rss_mb: float  # the server's, so far


def gc_totals(server: Server) -> tuple[float, int]:
    """The server's seconds in the collector so far, and its generation-2 collections."""
    seconds = sum(
        server.metric(f'newsgraph_gc_seconds_total{{generation="{g}"}}') or 0.0 for g in GENERATIONS
    )
    full = int(server.metric('newsgraph_gc_collections_total{generation="2"}') or 0)
    return seconds, full


def measure(server: Server, mode: str, connections: int, duration: int) -> Run:
    pid = server.process.pid
    gc_before, full_before = gc_totals(server)
    cpu_before = precise_cpu_seconds(pid)
    level = run_wrk(server.url, body("home", {}), duration, connections)
    cpu = precise_cpu_seconds(pid) - cpu_before
    gc_after, full_after = gc_totals(server)
    answered = max(level.ok, 1)
    run = Run(
        mode=mode,
        connections=connections,
        goodput=level.goodput,
        p99_ms=level.p99_ms,
        cpu_ms_per_2xx=round(cpu * 1000 / answered, 3),
        gc_ms_per_2xx=round((gc_after - gc_before) * 1000 / answered, 4),
        full_collections=full_after - full_before,
        peak_rss_mb=round(server.peak_rss_mb(), 1),
    )
    log(
        f"GC_MODE={mode}, {connections} connections: {run.goodput:.0f} 2xx/s, p99 "
        f"{run.p99_ms} ms, CPU {run.cpu_ms_per_2xx} ms and GC {run.gc_ms_per_2xx} ms per 2xx, "
        f"{run.full_collections} full collections"
    )
    return run


def median_of(runs: list[Run], mode: str, connections: int, field: str) -> float:
    return statistics.median(
        getattr(r, field) for r in runs if r.mode == mode and r.connections == connections
    )


def table(runs: list[Run], levels: list[int], header: str) -> str:
    fields = ("goodput", "p99_ms", "cpu_ms_per_2xx", "gc_ms_per_2xx", "full_collections")
    peaks = {mode: max(r.peak_rss_mb for r in runs if r.mode == mode) for mode in MODES}
    rows = [
        f"| {c} | {mode} | "
        + " | ".join(f"{median_of(runs, mode, c, field):g}" for field in fields)
        + " |\n"
        for c in levels
        for mode in MODES
    ]
    peak = ", ".join(f"{mode} {rss:g} MiB" for mode, rss in peaks.items())
    return (
        header
        + "\n\n| connections | GC_MODE | 2xx/s | p99 ms | CPU ms per 2xx | GC ms per 2xx "
        + "| full collections |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: |\n"
        + "".join(rows)
        + f"\nPeak RSS: {peak}.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gc_cost", description=__doc__)
    parser.add_argument("--n", type=int, default=2_000, help="articles in the corpus")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--connections", type=int, nargs="+", default=[10, 400])
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--out", type=Path, default=RESULTS / "gc-cost.json")
    args = parser.parse_args(argv)
    loadgen.require_wrk()
    with loaded_mongod(args.n, DEFAULT_SEED) as uri:
        variants = {mode: {"GC_MODE": mode} for mode in MODES}
        with newsgraph_variants(variants, uri, DATABASE, RESULTS / "logs", "gc") as servers:
            runs = in_turns(
                servers,
                args.rounds,
                lambda server: run_wrk(server.url, body("home", {}), 2, 10),  # plans, pools
                lambda mode, server: [
                    measure(server, mode, connections, args.duration)
                    for connections in args.connections
                ],
            )
    header = (
        f"The garbage collector under load: the home page, N={args.n}, wrk, "
        f"{args.duration} s per run, median of {args.rounds} rounds; "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}."
    )
    results = {
        "benchmark": "gc-cost",
        "n": args.n,
        "duration_s": args.duration,
        "runs": [asdict(r) for r in runs],
    }
    write_results(results, args.out, table(runs, args.connections, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
