"""What a refusal costs the server: CPU microseconds per request shed with 503.

    python -m bench.refusal_cost [--n 2000] [--duration 5] [--connections 400]
        [--rounds 3] [--env NAME=VALUE ...]

A fresh ``python -m api`` with one execution slot and no queue
(MAX_CONCURRENT_REQUESTS=1, ADMISSION_QUEUE=0); one query holds that slot, its
MongoDB find held in mongod by a failpoint (so it costs nothing while held), and wrk
drives ``--connections`` keep-alive connections posting the home query in a loop:
every one of them is refused. The server's CPU time (its threads' schedstat)
over the run, less its idle rate measured just before and after, divided by the refusals
counted in /metrics (``newsgraph_requests_shed_total``), is the cost of one. CPU
time, unlike wall-clock figures, hardly depends on what else the machine runs.
Writes bench/results/refusal-cost.json and .md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from bench import loadgen
from bench.api_bench import RESULTS, write_results
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, loaded_mongod, log
from bench.operations import body
from bench.overload import run_wrk
from bench.proc import precise_cpu_seconds, user_system
from bench.servers import Server

HOLD = {"query": "{ articles(first: 1) { nodes { title } } }"}
SHED_METRIC = 'newsgraph_requests_shed_total{reason="queue_full"}'
GATE_ENV = {
    "MAX_CONCURRENT_REQUESTS": "1",
    "ADMISSION_QUEUE": "0",
    "REQUEST_DEADLINE_MS": "600000",  # the held query must outlast the runs
}
IDLE_S = 3.0


@dataclass
class Round:
    refusals: int
    seconds: float
    cpu_s: float  # the server's, during the run
    idle_cpu_s: float  # its idle rate times the run's length, subtracted
    system_share: float  # of cpu_s, in the kernel (the sockets, epoll)
    us_per_refusal: float
    refusals_per_s: float
    core_share: float  # of one core, the refusals' CPU


def shed_count(server: Server) -> int:
    return int(server.metric(SHED_METRIC) or 0)


def hold_finds(client: MongoClient[Any], hold: bool) -> None:
    client.admin.command(
        {
            "configureFailPoint": "waitInFindBeforeMakingBatch",
            "mode": "alwaysOn" if hold else "off",
            "data": {"shouldCheckForInterrupt": True, "nss": f"{DATABASE}.articles"},
        }
    )


def hold_the_slot(server: Server) -> threading.Thread:
    """A query that takes the only slot and keeps it until the failpoint is off."""

    def run() -> None:
        httpx.post(server.url, json=HOLD, timeout=600)

    holder = threading.Thread(target=run, daemon=True)
    holder.start()
    deadline = time.monotonic() + 30
    while server.metric("newsgraph_requests_in_flight") != 1:
        if time.monotonic() > deadline:
            raise RuntimeError("the holding query never took the slot")
        time.sleep(0.05)
    return holder


def idle_rate(pid: int) -> float:
    """The server's CPU seconds per second with no requests (its MongoDB monitors,
    the sweep, the search follower)."""
    before = precise_cpu_seconds(pid)
    time.sleep(IDLE_S)
    return (precise_cpu_seconds(pid) - before) / IDLE_S


def measure(server: Server, connections: int, duration: int) -> Round:
    pid = server.process.pid
    idle_before = idle_rate(pid)
    shed_before = shed_count(server)
    cpu_before, started = precise_cpu_seconds(pid), time.monotonic()
    _, system_before = user_system(pid)
    run_wrk(server.url, body("home", {}), duration, connections)
    cpu_after, seconds = precise_cpu_seconds(pid), time.monotonic() - started
    _, system_after = user_system(pid)
    refusals = shed_count(server) - shed_before
    idle = (idle_before + idle_rate(pid)) / 2  # the rate before and after, for its drift
    idle_cpu = idle * seconds
    busy = cpu_after - cpu_before - idle_cpu
    result = Round(
        refusals=refusals,
        seconds=round(seconds, 2),
        cpu_s=round(cpu_after - cpu_before, 3),
        idle_cpu_s=round(idle_cpu, 3),
        system_share=round((system_after - system_before) / (cpu_after - cpu_before), 2),
        us_per_refusal=round(busy / refusals * 1e6, 1),
        refusals_per_s=round(refusals / seconds, 1),
        core_share=round(busy / seconds, 3),
    )
    log(
        f"{refusals} refusals in {seconds:.1f} s (idle {idle:.1%} of a core): "
        f"{result.us_per_refusal} us each ({result.system_share:.0%} of all in the kernel), "
        f"{result.refusals_per_s}/s, {result.core_share:.0%} of a core"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.refusal_cost", description=__doc__)
    parser.add_argument("--n", type=int, default=2_000, help="articles in the corpus")
    parser.add_argument("--duration", type=int, default=5, help="seconds per round")
    parser.add_argument("--connections", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is reported")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="a server setting"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "refusal-cost.json")
    args = parser.parse_args(argv)
    loadgen.require_wrk()
    env = dict(item.split("=", 1) for item in args.env)
    with loaded_mongod(args.n, DEFAULT_SEED, {"enableTestCommands": "1"}) as uri:
        client: MongoClient[Any] = MongoClient(uri)
        server = Server("refusal-cost", "api", uri, DATABASE, RESULTS / "logs", **GATE_ENV, **env)
        try:
            hold_finds(client, True)
            holder = hold_the_slot(server)
            run_wrk(server.url, body("home", {}), 1, args.connections)  # warm-up
            rounds = [measure(server, args.connections, args.duration) for _ in range(args.rounds)]
        finally:
            hold_finds(client, False)
            server.stop()
            client.close()
        holder.join(10)
    median = statistics.median(r.us_per_refusal for r in rounds)
    settings = ", ".join(f"{k}={v}" for k, v in env.items()) or "defaults"
    table = (
        f"CPU per refusal, {args.connections} connections, {args.duration} s x {args.rounds} "
        f"rounds; {datetime.now(UTC).isoformat(timespec='seconds')}; settings: {settings}.\n\n"
        "| round | refusals/s | us per refusal | share of a core |\n| ---: | ---: | ---: | ---: |\n"
        + "".join(
            f"| {i} | {r.refusals_per_s:.0f} | {r.us_per_refusal:.1f} | {r.core_share:.0%} |\n"
            for i, r in enumerate(rounds, 1)
        )
        + f"\nMedian: {median:.1f} us per refusal.\n"
    )
    results = {
        "benchmark": "refusal-cost",
        "connections": args.connections,
        "env": env,
        "rounds": [asdict(r) for r in rounds],
        "median_us_per_refusal": median,
    }
    write_results(results, args.out, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
