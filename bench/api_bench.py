"""The API benchmark: newsgraph against the floor on the same corpus, side by side.

    python -m bench.api_bench [--n 100000] [--duration 10] [--concurrency 10] [--rounds 3]
    python -m bench.api_bench --quick       # N=2,000, 3 s an operation, no wrk needed

It loads the corpus (bench.dataset), starts both servers (bench.servers), takes the
deep cursors and the pools (bench.operations), refuses to time anything unless the
floor answers exactly newsgraph's data (bench.checks), measures MongoDB's cost per
request, then drives each operation on each server in turn (bench.loadgen) for a
number of rounds and reports the medians: bench/results/api.json and api.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
from pymongo import MongoClient

from bench import checks, loadgen
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, ROOT, loaded_mongod, log
from bench.operations import OPERATIONS, build_pools
from bench.report import markdown_table
from bench.servers import Server, start_floor, start_newsgraph

RESULTS = ROOT / "bench" / "results"
SERVERS = ("newsgraph", "floor")


@dataclass
class Options:
    n: int = 100_000
    seed: int = DEFAULT_SEED
    duration: float = 10.0
    connections: int = 10
    rounds: int = 3
    quick: bool = False
    out: Path = RESULTS / "api.json"
    tamper: str | None = None  # an operation the floor answers wrongly (tests only)

    @classmethod
    def quick_mode(cls, **overrides: Any) -> Options:
        settings: dict[str, Any] = {
            "n": 2_000,
            "duration": 3.0,
            "connections": 4,
            "rounds": 1,
            "quick": True,
            "out": RESULTS / "api-quick.json",
            **overrides,
        }
        return cls(**settings)


def run(uri: str, database: str, options: Options) -> dict[str, Any]:
    """Benchmark both servers on a loaded database; writes and returns the results."""
    if not options.quick:
        loadgen.require_wrk()
    log_dir = options.out.parent / "logs"
    newsgraph = start_newsgraph(uri, database, log_dir)
    try:
        floor = start_floor(uri, database, log_dir, options.tamper)
    except BaseException:
        newsgraph.stop()
        raise
    mongo: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True)
    try:
        return _measure(mongo, database, {"newsgraph": newsgraph, "floor": floor}, options)
    finally:
        mongo.close()
        newsgraph.stop()
        floor.stop()


def _measure(
    mongo: MongoClient[dict[str, Any]],
    database: str,
    servers: dict[str, Server],
    options: Options,
) -> dict[str, Any]:
    count = mongo[database]["articles"].estimated_document_count()
    pools = build_pools(mongo, database, options.seed)
    first_page, last_page = pools.deep_pages
    log(f"{count} articles; deep pages {first_page}..{last_page}")
    pools.set_deep_cursors(checks.deep_cursors(servers["newsgraph"].url, first_page, last_page))

    checks.check_identity(servers["newsgraph"].url, servers["floor"].url, pools, list(OPERATIONS))
    log("the floor answers exactly newsgraph's data on every operation and pool entry")

    costs = {
        (operation, name): checks.mongo_cost(
            mongo, server.url, pools.bodies(operation), max(10, len(pools.bodies(operation)))
        )
        for operation in OPERATIONS
        for name, server in servers.items()
    }
    durations = {
        operation: operation_duration(options, costs[(operation, "newsgraph")]["sequential_ms"])
        for operation in OPERATIONS
    }
    drive = loadgen.run_python if options.quick else loadgen.run_wrk
    rounds: dict[tuple[str, str], list[loadgen.Figures]] = {}
    for round_number in range(options.rounds):
        # Alternate which server goes first, so neither always runs on a warmer machine.
        order = SERVERS if round_number % 2 == 0 else SERVERS[::-1]
        for operation in OPERATIONS:
            for name in order:
                figures = drive(
                    servers[name].url,
                    pools.bodies(operation),
                    durations[operation],
                    options.connections,
                )
                if figures.errors:
                    raise RuntimeError(
                        f"{name} answered {figures.errors} failed requests on {operation}; "
                        f"see {servers[name].log_path}"
                    )
                rounds.setdefault((operation, name), []).append(figures)
                log(
                    f"round {round_number + 1} {operation:8} {name:9} "
                    f"{figures.rps:8.1f} req/s  p50 {figures.p50_ms:7.2f} ms  "
                    f"p99 {figures.p99_ms:7.2f} ms"
                )

    operations: dict[str, Any] = {}
    for operation in OPERATIONS:
        entry: dict[str, Any] = {}
        for name in SERVERS:
            entry[name] = {**_medians(rounds[(operation, name)]), **costs[(operation, name)]}
        entry["duration_s"] = durations[operation]
        entry["ratio_p50"] = round(entry["newsgraph"]["p50_ms"] / entry["floor"]["p50_ms"], 2)
        entry["ratio_rps"] = round(entry["newsgraph"]["rps"] / entry["floor"]["rps"], 2)
        operations[operation] = entry

    results = {
        "benchmark": "api",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "n": count,
        "seed": options.seed,
        "load_generator": "python asyncio loop (quick mode)" if options.quick else "wrk",
        "duration_s": options.duration,
        "connections": options.connections,
        "rounds": options.rounds,
        "deep_pages": [first_page, last_page],
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
        "versions": _versions(mongo, options.quick),
        "servers": {
            name: {"peak_rss_mb": server.peak_rss_mb()} for name, server in servers.items()
        },
        "operations": operations,
    }
    write_results(results, options.out, markdown_table(results))
    return results


def operation_duration(options: Options, sequential_ms: float) -> float:
    """The run's duration, stretched for an operation so slow that the connections
    would complete too few requests in it to measure (about 3 each, at most 120 s)."""
    needed = 3 * options.connections * sequential_ms / 1000
    return round(max(options.duration, min(120.0, needed)), 1)


def _medians(figures: list[loadgen.Figures]) -> dict[str, Any]:
    return {
        "rps": round(statistics.median(f.rps for f in figures), 1),
        "p50_ms": round(statistics.median(f.p50_ms for f in figures), 3),
        "p99_ms": round(statistics.median(f.p99_ms for f in figures), 3),
        "requests": sum(f.requests for f in figures),
        "rounds": [f.as_dict() for f in figures],
    }


def _versions(mongo: MongoClient[dict[str, Any]], quick: bool) -> dict[str, str]:
    found = {
        "python": platform.python_version(),
        "mongod": str(mongo.server_info()["version"]),
    }
    for package in ("pymongo", "strawberry-graphql", "starlette", "uvicorn", "orjson"):
        found[package] = version(package)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    found["newsgraph_commit"] = commit.stdout.strip() or "unknown"
    if not quick:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        found["wrk"] = (wrk.stdout or wrk.stderr).split("Copyright")[0].strip()
    return found


def write_results(results: dict[str, Any], out: Path, table: str) -> None:
    """The results as JSON in ``out`` and their table beside it (``.md``), printed too."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    out.with_suffix(".md").write_text(table)
    log(f"results in {out} and {out.with_suffix('.md')}")
    print(table)


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.api_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N=2,000, 3 s, no wrk")
    parser.add_argument("--n", type=int, help="articles in the corpus (default 100000)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--duration", type=float, help="seconds per operation, server, round")
    parser.add_argument("--concurrency", type=int, help="connections the load generator keeps open")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--out", type=Path, help="the JSON results (the table goes beside it)")
    args = parser.parse_args(argv)
    given = {
        "n": args.n,
        "seed": args.seed,
        "duration": args.duration,
        "connections": args.concurrency,
        "rounds": args.rounds,
        "out": args.out,
    }
    overrides = {key: value for key, value in given.items() if value is not None}
    return Options.quick_mode(**overrides) if args.quick else Options(**overrides)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    if not options.quick:
        loadgen.require_wrk()  # before spending minutes on the corpus
    try:
        with loaded_mongod(options.n, options.seed) as uri:
            run(uri, DATABASE, options)
    except checks.Mismatch as exc:
        print(f"bench-api: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
