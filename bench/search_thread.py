"""When a search page is worth a worker thread: SEARCH_THREAD_POSTINGS side by side.

    python -m bench.search_thread [--n 100000] [--values 20000 200000]
        [--query 0] [--duration 8] [--rounds 3]

One ``python -m api`` per value of SEARCH_THREAD_POSTINGS on one mongod take turns
under wrk (10 connections) posting one search of the bench's pool (``--query``: its
index; 0 is the common words ``police facial recognition``), ``--rounds`` rounds.
For each: 2xx/s, p50, p99 and the server's CPU ms per 2xx (its threads' schedstat),
medians. Writes bench/results/search-thread.json and .md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from bench import loadgen
from bench.api_bench import RESULTS, write_results
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, loaded_mongod, log
from bench.operations import build_pools
from bench.overload import run_wrk
from bench.proc import precise_cpu_seconds
from bench.servers import Server, in_turns, newsgraph_variants

CONNECTIONS = 10


@dataclass
class Run:
    value: int
    goodput: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_2xx: float


def measure(server: Server, value: int, body: bytes, duration: int) -> Run:
    before = precise_cpu_seconds(server.process.pid)
    level = run_wrk(server.url, body, duration, CONNECTIONS)
    cpu = precise_cpu_seconds(server.process.pid) - before
    run = Run(value, level.goodput, level.p50_ms, level.p99_ms, round(cpu * 1000 / level.ok, 3))
    log(
        f"SEARCH_THREAD_POSTINGS={value}: {run.goodput:.0f} 2xx/s, p50 {run.p50_ms} ms, "
        f"p99 {run.p99_ms} ms, CPU {run.cpu_ms_per_2xx} ms per 2xx"
    )
    return run


def table(runs: list[Run], values: list[int], header: str) -> str:
    fields = ("goodput", "p50_ms", "p99_ms", "cpu_ms_per_2xx")
    rows = "".join(
        f"| {value} | "
        + " | ".join(
            f"{statistics.median(getattr(r, f) for r in runs if r.value == value):g}"
            for f in fields
        )
        + " |\n"
        for value in values
    )
    return (
        f"{header}\n\n| SEARCH_THREAD_POSTINGS | 2xx/s | p50 ms | p99 ms | CPU ms per 2xx |\n"
        "| ---: | ---: | ---: | ---: | ---: |\n" + rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search_thread", description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="articles in the corpus")
    parser.add_argument("--values", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--query", type=int, default=0, help="which search of the pool")
    parser.add_argument("--duration", type=int, default=8, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--out", type=Path, default=RESULTS / "search-thread.json")
    args = parser.parse_args(argv)
    loadgen.require_wrk()
    with loaded_mongod(args.n, DEFAULT_SEED) as uri:
        client: MongoClient[dict[str, Any]] = MongoClient(uri)
        with client:
            body = build_pools(client, DATABASE, DEFAULT_SEED).bodies("search")[args.query]
        variants = {value: {"SEARCH_THREAD_POSTINGS": str(value)} for value in args.values}
        log_dir = RESULTS / "logs"
        with newsgraph_variants(variants, uri, DATABASE, log_dir, "search-thread") as servers:
            runs = in_turns(
                servers,
                args.rounds,
                lambda server: run_wrk(server.url, body, 2, CONNECTIONS),
                lambda value, server: [measure(server, value, body, args.duration)],
            )
    header = (
        f"One search (`{body.decode()[-60:]}`), N={args.n}, wrk, {CONNECTIONS} connections, "
        f"{args.duration} s per run, median of {args.rounds} rounds; "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}."
    )
    results = {
        "benchmark": "search-thread",
        "n": args.n,
        "query": body.decode(),
        "runs": [asdict(r) for r in runs],
    }
    write_results(results, args.out, table(runs, args.values, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
