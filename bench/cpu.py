"""CPU per request: newsgraph against the floor, each operation, one run.

    python -m bench.cpu [--n 100000] [--requests 300] [--rounds 3]
    python -m bench.cpu --quick        # N=2,000, 30 requests an operation

Wall-clock figures mean little on a loaded machine; the CPU a server process spends on a
request does not depend on what else runs. Both servers are started as in production
(bench.servers), warmed up, then sent the same requests one at a time, in turn (each
request to both servers before the next, so the machine's slow spells fall on both
alike); the figure is the server process's CPU seconds (user + system, from /proc) over
the requests, divided by their number, the median of the rounds. Idle work (MongoDB
heartbeats, the search follower) is measured over a second and reported beside, not
subtracted. Also reported: each server's peak RSS after the run, with newsgraph's plan
cache filled first (``--fill-plans``, PLAN_CACHE_SIZE distinct documents), and the peak
RSS of newsgraph's search index build, which runs in a child process.

Beside it, the CPU per request under load (``--load-seconds``, 0 to skip): wrk with 10
connections on each server in turn (python's load loop in quick mode), the server's
CPU seconds over the requests answered. Under wrk both servers run their one core
flat out, so this ratio, not the sequential one, is the inverse of the throughput
ratio ``make bench-api`` measures. Batching under load (several sockets ready per
turn of the event loop) lowers each server's figure, by amounts that vary by run.

Writes bench/results/cpu.json and cpu.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from pymongo import MongoClient

from bench import checks, loadgen
from bench.api_bench import write_results
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, ROOT, loaded_mongod, log
from bench.operations import OPERATIONS, build_pools
from bench.proc import cpu_seconds, precise_cpu_seconds
from bench.servers import Server, start_floor, start_newsgraph

RESULTS = ROOT / "bench" / "results"
SERVERS = ("newsgraph", "floor")
# Search is measured elsewhere (bench/search_latency.py): its engine is the same in both.
MEASURED = tuple(operation for operation in OPERATIONS if operation != "search")


@dataclass
class Options:
    n: int = 100_000
    seed: int = DEFAULT_SEED
    requests: int = 300
    rounds: int = 3
    fill_plans: int = 1000
    load_seconds: float = 5.0
    connections: int = 10
    quick: bool = False
    out: Path = RESULTS / "cpu.json"
    operations: tuple[str, ...] = field(default=MEASURED)

    @classmethod
    def quick_mode(cls, **overrides: Any) -> Options:
        settings: dict[str, Any] = {
            "n": 2_000,
            "requests": 30,
            "rounds": 1,
            "fill_plans": 50,
            "load_seconds": 1.0,
            "quick": True,
            "out": RESULTS / "cpu-quick.json",
            **overrides,
        }
        return cls(**settings)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def build_peak_rss_mb(server: Server) -> float | None:
    """The peak RSS of newsgraph's search index build, a child process of its own
    (not in the server's VmHWM), from /metrics; None if it was built in process."""
    peak = server.metric("newsgraph_search_build_peak_rss_bytes")
    return round(peak / 2**20, 1) if peak else None


def cpu_ms_per_request(
    client: httpx.Client, servers: list[Server], bodies: list[bytes], requests: int
) -> dict[str, float]:
    """Each server's CPU per request over ``requests`` sequential requests, sent to
    the servers in turn (request 1 to each, then request 2...): a slow spell of the
    machine then falls on all of them alike, where whole runs one after the other
    varied by 20% on these shared machines."""
    before = {server.name: cpu_seconds(server.process.pid) for server in servers}
    for index in range(requests):
        for server in servers:
            response = client.post(
                server.url, content=bodies[index % len(bodies)], headers=checks.HEADERS
            )
            if response.status_code != 200 or b'"errors"' in response.content:
                raise RuntimeError(
                    f"{server.name} answered {response.status_code}: "
                    f"{response.text[:300]}; see {server.log_path}"
                )
    return {
        server.name: (cpu_seconds(server.process.pid) - before[server.name]) * 1000 / requests
        for server in servers
    }


def cpu_ms_under_load(server: Server, bodies: list[bytes], options: Options) -> float:
    """The server's CPU per request answered while the load generator keeps
    ``options.connections`` requests in flight for ``options.load_seconds``."""
    drive = loadgen.run_python if options.quick else loadgen.run_wrk
    before = precise_cpu_seconds(server.process.pid)
    figures = drive(server.url, bodies, options.load_seconds, options.connections)
    spent = precise_cpu_seconds(server.process.pid) - before
    if figures.errors:
        raise RuntimeError(
            f"{server.name} failed {figures.errors} requests under load; see {server.log_path}"
        )
    return spent * 1000 / figures.requests


def idle_cpu_ms_per_second(server: Server, seconds: float = 1.0) -> float:
    before = cpu_seconds(server.process.pid)
    time.sleep(seconds)
    return (cpu_seconds(server.process.pid) - before) * 1000 / seconds


def fill_plan_cache(client: httpx.Client, server: Server, documents: int) -> None:
    """``documents`` distinct documents (each a different alias), each compiled and kept."""
    for index in range(documents):
        query = f"query fill{index} {{ a{index}: articles(first: 2) {{ nodes {{ id title }} }} }}"
        response = client.post(
            server.url, content=orjson.dumps({"query": query}), headers=checks.HEADERS
        )
        if response.status_code != 200:
            raise RuntimeError(f"{server.name} answered {response.status_code} filling plans")


def run(uri: str, database: str, options: Options) -> dict[str, Any]:
    """Measure both servers on a loaded database; writes and returns the results."""
    log_dir = options.out.parent / "logs"
    servers = {"newsgraph": start_newsgraph(uri, database, log_dir)}
    try:
        servers["floor"] = start_floor(uri, database, log_dir)
        mongo: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True)
        try:
            return _measure(mongo, database, servers, options)
        finally:
            mongo.close()
    finally:
        for server in servers.values():
            server.stop()


def _measure(
    mongo: MongoClient[dict[str, Any]],
    database: str,
    servers: dict[str, Server],
    options: Options,
) -> dict[str, Any]:
    pools = build_pools(mongo, database, options.seed)
    first_page, last_page = pools.deep_pages
    pools.set_deep_cursors(checks.deep_cursors(servers["newsgraph"].url, first_page, last_page))
    checks.check_identity(
        servers["newsgraph"].url, servers["floor"].url, pools, list(options.operations)
    )
    if options.load_seconds > 0 and not options.quick:
        loadgen.require_wrk()
    figures: dict[tuple[str, str], list[float]] = {}
    loaded: dict[tuple[str, str], list[float]] = {}
    with httpx.Client(timeout=60) as client:
        fill_plan_cache(client, servers["newsgraph"], options.fill_plans)
        for operation in options.operations:  # warm up: pools, plans, caches
            cpu_ms_per_request(client, list(servers.values()), pools.bodies(operation), 20)
        idle = {name: round(idle_cpu_ms_per_second(server), 2) for name, server in servers.items()}
        for round_number in range(options.rounds):
            order = [
                servers[name] for name in (SERVERS if round_number % 2 == 0 else SERVERS[::-1])
            ]
            for operation in options.operations:
                spent = cpu_ms_per_request(client, order, pools.bodies(operation), options.requests)
                for name, ms in spent.items():
                    figures.setdefault((operation, name), []).append(ms)
                if options.load_seconds > 0:
                    for server in order:
                        ms = cpu_ms_under_load(server, pools.bodies(operation), options)
                        loaded.setdefault((operation, server.name), []).append(ms)
    operations: dict[str, Any] = {}
    for operation in options.operations:
        entry = _entry(figures, operation)
        if loaded:
            entry["loaded"] = _entry(loaded, operation)
        operations[operation] = entry
        log(
            f"{operation:8} newsgraph {entry['newsgraph']:7.3f} ms  "
            f"floor {entry['floor']:7.3f} ms  ratio {entry['ratio']}"
            + (f"  under load {entry['loaded']['ratio']}" if loaded else "")
        )
    results = {
        "benchmark": "cpu",
        "n": mongo[database]["articles"].estimated_document_count(),
        "seed": options.seed,
        "requests": options.requests,
        "rounds": options.rounds,
        "plans_filled": options.fill_plans,
        "load_seconds": options.load_seconds,
        "connections": options.connections,
        "idle_cpu_ms_per_s": idle,
        "servers": {
            name: {"peak_rss_mb": server.peak_rss_mb(), "rss_mb": rss_mb(server.process.pid)}
            for name, server in servers.items()
        },
        "search_build_peak_rss_mb": build_peak_rss_mb(servers["newsgraph"]),
        "cpu_ms_per_request": operations,
    }
    write_results(results, options.out, markdown(results))
    return results


def _entry(figures: dict[tuple[str, str], list[float]], operation: str) -> dict[str, Any]:
    """Each server's median for the operation, and newsgraph's over the floor's."""
    entry: dict[str, Any] = {
        name: round(statistics.median(figures[(operation, name)]), 3) for name in SERVERS
    }
    # Too few requests for the clock's 10 ms ticks can measure 0: no ratio then.
    entry["ratio"] = round(entry["newsgraph"] / entry["floor"], 2) if entry["floor"] else None
    return entry


def markdown(results: dict[str, Any]) -> str:
    under_load = results["load_seconds"] > 0
    rows = [
        f"CPU ms per request (server process, user + system), N={results['n']}, "
        f"{results['requests']} sequential requests x {results['rounds']} rounds, median"
        + (
            f"; under load: {results['connections']} connections for "
            f"{results['load_seconds']:g} s a round."
            if under_load
            else "."
        ),
        "",
        "| operation | newsgraph | floor | ratio |"
        + (" under load: newsgraph | floor | ratio |" if under_load else ""),
        "|---|---:|---:|---:|" + ("---:|---:|---:|" if under_load else ""),
    ]
    for operation, entry in results["cpu_ms_per_request"].items():
        row = f"| {operation} | {entry['newsgraph']:.3f} | {entry['floor']:.3f} "
        row += f"| {entry['ratio']} |"
        if under_load:
            load = entry["loaded"]
            row += f" {load['newsgraph']:.3f} | {load['floor']:.3f} | {load['ratio']} |"
        rows.append(row)
    servers = results["servers"]
    build = results.get("search_build_peak_rss_mb")
    rows += [
        "",
        f"Peak RSS (plan cache filled with {results['plans_filled']} documents): newsgraph "
        f"{servers['newsgraph']['peak_rss_mb']} MiB"
        + (f" (its search index build process: {build} MiB)" if build else "")
        + f", floor {servers['floor']['peak_rss_mb']} MiB. "
        f"Idle CPU ms/s: {results['idle_cpu_ms_per_s']}.",
    ]
    return "\n".join(rows) + "\n"


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N=2,000, 30 requests")
    parser.add_argument("--n", type=int, help="articles in the corpus (default 100000)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--requests", type=int, help="sequential requests per round")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--fill-plans", type=int, help="distinct documents sent first")
    parser.add_argument(
        "--load-seconds", type=float, help="seconds of load per operation and server (0: skip)"
    )
    parser.add_argument("--operations", nargs="+", choices=MEASURED)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    given = {
        "n": args.n,
        "seed": args.seed,
        "requests": args.requests,
        "rounds": args.rounds,
        "fill_plans": args.fill_plans,
        "load_seconds": args.load_seconds,
        "operations": tuple(args.operations) if args.operations else None,
        "out": args.out,
    }
    overrides = {key: value for key, value in given.items() if value is not None}
    return Options.quick_mode(**overrides) if args.quick else Options(**overrides)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        with loaded_mongod(options.n, options.seed) as uri:
            run(uri, DATABASE, options)
    except checks.Mismatch as exc:
        print(f"bench-cpu: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
