"""The overload benchmark: the home page at a normal and at a crushing concurrency,
side by side in one run, each on a fresh ``python -m api`` (so each level's peak RSS
is its own).

    python -m bench.overload [--n 2000] [--duration 10] [--low 10] [--high 400]

Admission control is meant to keep the work the server completes (goodput, 2xx per
second) and the latency of what it admits when far more clients arrive than it can
serve, and to tell the excess at once with 503. The targets (issue 16): goodput at
``--high`` at least 0.9 of the figure at ``--low``, p99 at most 4x, every response
2xx or 503, peak RSS within 1.5x. Writes bench/results/overload.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.api_bench import RESULTS, write_results
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, loaded_mongod, log
from bench.operations import body
from bench.proc import precise_cpu_seconds
from bench.servers import Server

# wrk counts responses by status in each thread; done() adds the threads up.
LUA = """
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  local file = io.open(args[1], "rb")
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
  ok, shed, other = 0, 0, 0
end

response = function(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1
  elseif status == 503 then shed = shed + 1
  else other = other + 1 end
end

done = function(summary, latency, requests)
  local ok, shed, other = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("ok")
    shed = shed + thread:get("shed")
    other = other + thread:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"socket_errors":%d,"ok":%d,"shed":%d,"other":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, ok, shed, other))
end
"""

TARGETS = {"goodput_ratio": 0.9, "p99_ratio": 4.0, "rss_ratio": 1.5}


@dataclass
class Level:
    connections: int
    requests: int
    ok: int
    shed: int
    other: int
    socket_errors: int
    goodput: float  # 2xx per second
    p50_ms: float
    p99_ms: float
    peak_rss_mb: float = 0.0
    pause_ms: float = 0.0  # the shed connections' pause at the end of the run
    # The server's CPU per 2xx: less noisy than rates on a shared machine, and what
    # the refusals add shows in it.
    cpu_ms_per_ok: float = 0.0


def run_wrk(url: str, request: bytes, duration: int, connections: int) -> Level:
    wrk = loadgen.require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-overload-") as tmp:
        script = Path(tmp) / "overload.lua"
        script.write_text(LUA)
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(request)
        command = [
            wrk, "-t", "1", "-c", str(connections), "-d", f"{duration}s",
            "--timeout", "10s", "-s", str(script), url, "--", str(body_file),
        ]  # fmt: skip
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("RESULT ")]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr}")
    result = json.loads(lines[-1].removeprefix("RESULT "))
    seconds = result["duration_us"] / 1e6
    return Level(
        connections=connections,
        requests=result["requests"],
        ok=result["ok"],
        shed=result["shed"],
        other=result["other"],
        socket_errors=result["socket_errors"],
        goodput=round(result["ok"] / seconds, 1),
        p50_ms=round(result["p50_us"] / 1000, 2),
        p99_ms=round(result["p99_us"] / 1000, 2),
    )


def measure(uri: str, connections: int, duration: int, env: dict[str, str]) -> Level:
    """One level on a server of its own: a warm-up, then the timed run."""
    log_dir = RESULTS / "logs"
    server = Server(f"newsgraph-{connections}", "api", uri, DATABASE, log_dir, **env)
    try:
        request = body("home", {})
        run_wrk(server.url, request, 2, min(connections, 10))
        time.sleep(1)  # the warm-up's last requests, abandoned by wrk, finish
        cpu_before = precise_cpu_seconds(server.process.pid)
        level = run_wrk(server.url, request, duration, connections)
        cpu = precise_cpu_seconds(server.process.pid) - cpu_before
        level.cpu_ms_per_ok = round(cpu / max(level.ok, 1) * 1000, 3)
        level.peak_rss_mb = server.peak_rss_mb()
        level.pause_ms = round((server.metric("newsgraph_shed_pause_seconds") or 0) * 1000, 1)
    finally:
        server.stop()
    log(
        f"{connections:4} connections: {level.goodput:7.1f} 2xx/s, {level.shed} shed, "
        f"{level.other} other, {level.socket_errors} socket errors, p50 {level.p50_ms} ms, "
        f"p99 {level.p99_ms} ms, peak RSS {level.peak_rss_mb} MiB, pause {level.pause_ms} ms, "
        f"CPU {level.cpu_ms_per_ok} ms per 2xx"
    )
    return level


def median(levels: list[Level]) -> Level:
    """The rounds' medians of the rates and latencies, their sums of the counts and
    the highest peak RSS."""
    return Level(
        connections=levels[0].connections,
        requests=sum(level.requests for level in levels),
        ok=sum(level.ok for level in levels),
        shed=sum(level.shed for level in levels),
        other=sum(level.other for level in levels),
        socket_errors=sum(level.socket_errors for level in levels),
        goodput=round(statistics.median(level.goodput for level in levels), 1),
        p50_ms=round(statistics.median(level.p50_ms for level in levels), 2),
        p99_ms=round(statistics.median(level.p99_ms for level in levels), 2),
        peak_rss_mb=max(level.peak_rss_mb for level in levels),
        pause_ms=round(statistics.median(level.pause_ms for level in levels), 1),
        cpu_ms_per_ok=round(statistics.median(level.cpu_ms_per_ok for level in levels), 3),
    )


def paired(lows: list[Level], highs: list[Level], field: str) -> float:
    """The median over rounds of each round's own ratio, high over low: the two levels
    of a round run a minute apart, on the same machine load, where the medians of
    the levels mix rounds that the machine's load set apart."""
    pairs = zip(lows, highs, strict=True)
    return round(statistics.median(getattr(hi, field) / getattr(lo, field) for lo, hi in pairs), 2)


def compare(lows: list[Level], highs: list[Level]) -> dict[str, Any]:
    """Both levels' medians, the ratios between them and the targets met."""
    low, high = median(lows), median(highs)
    ratios = {
        "goodput_ratio": paired(lows, highs, "goodput"),
        "p99_ratio": paired(lows, highs, "p99_ms"),
        "rss_ratio": round(high.peak_rss_mb / low.peak_rss_mb, 2),
        "goodput_ratio_of_medians": round(high.goodput / low.goodput, 2),
        "p99_ratio_of_medians": round(high.p99_ms / low.p99_ms, 2),
    }
    only_2xx_or_503 = all(level.other == 0 and level.socket_errors == 0 for level in (low, high))
    met = {
        "goodput_ratio": ratios["goodput_ratio"] >= TARGETS["goodput_ratio"],
        "p99_ratio": ratios["p99_ratio"] <= TARGETS["p99_ratio"],
        "rss_ratio": ratios["rss_ratio"] <= TARGETS["rss_ratio"],
        "only_2xx_or_503": only_2xx_or_503,
    }
    return {"levels": [asdict(low), asdict(high)], "ratios": ratios, "targets": TARGETS, "met": met}


def markdown(results: dict[str, Any]) -> str:
    low, high = results["levels"]
    ratios, met = results["ratios"], results["met"]
    settings = ", ".join(f"{k}={v}" for k, v in results["env"].items()) or "defaults"
    lines = [
        f"The home page, wrk, {results['duration_s']} s per level and round, each on a fresh "
        f"`python -m api`, median of {results['rounds']} rounds (levels alternating; counts "
        f"summed, peak RSS the highest); N = {results['n']:,} articles; {results['date']}; "
        f"{results['cpu_count']} CPUs; settings: {settings}.",
        "",
        "| connections | 2xx/s | 503 | other | socket errors | p50 ms | p99 ms | peak RSS MiB "
        "| pause ms | CPU ms per 2xx |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for level in (low, high):
        lines.append(
            f"| {level['connections']} | {level['goodput']:.0f} | {level['shed']} "
            f"| {level['other']} | {level['socket_errors']} | {level['p50_ms']:.1f} "
            f"| {level['p99_ms']:.1f} | {level['peak_rss_mb']:.1f} | {level['pause_ms']:.0f} "
            f"| {level['cpu_ms_per_ok']:.2f} |"
        )
    lines += [
        "",
        f"Goodput {high['connections']} vs {low['connections']}, the median of the rounds' "
        f"own ratios: {ratios['goodput_ratio']} (target >= 0.9: {_yes(met['goodput_ratio'])}; "
        f"of the medians above: {ratios['goodput_ratio_of_medians']}); p99: "
        f"{ratios['p99_ratio']}x (target <= 4x: {_yes(met['p99_ratio'])}; of the medians: "
        f"{ratios['p99_ratio_of_medians']}x); peak RSS: {ratios['rss_ratio']}x "
        f"(target <= 1.5x: {_yes(met['rss_ratio'])}); every response 2xx or 503: "
        f"{_yes(met['only_2xx_or_503'])}.",
        "",
    ]
    return "\n".join(lines)


def _yes(flag: bool) -> str:
    return "met" if flag else "NOT met"


def sweep(args: argparse.Namespace, env: dict[str, str]) -> int:
    """One setting (or several set alike) at each of its values, at --high connections,
    after one run at --low with the defaults, all in the same run to be compared."""
    names_part, values_part = args.sweep.split("=", 1)
    names = names_part.split(",")
    values = values_part.split(",")
    with loaded_mongod(args.n, DEFAULT_SEED) as uri:
        base = measure(uri, args.low, args.duration, env)
        runs = {
            value: measure(uri, args.high, args.duration, {**env, **dict.fromkeys(names, value)})
            for value in values
        }
    lines = [
        f"Sweep of {' = '.join(names)} at {args.high} connections, against {args.low} "
        f"connections with the defaults; {args.duration} s each; "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}; other settings: {env or 'defaults'}.",
        "",
        "| value | 2xx/s | goodput vs baseline | p50 ms | p99 ms | p99 vs baseline |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| baseline ({args.low} conn.) | {base.goodput:.0f} | 1.00 | {base.p50_ms:.1f} "
        f"| {base.p99_ms:.1f} | 1.00 |",
    ]
    for value, level in runs.items():
        lines.append(
            f"| {value} | {level.goodput:.0f} | {level.goodput / base.goodput:.2f} "
            f"| {level.p50_ms:.1f} | {level.p99_ms:.1f} | {level.p99_ms / base.p99_ms:.2f} |"
        )
    results = {
        "benchmark": "overload-sweep",
        "settings": names,
        "baseline": asdict(base),
        "values": {value: asdict(level) for value, level in runs.items()},
    }
    out = args.out.with_name(f"overload-sweep-{names[0].lower()}.json")
    write_results(results, out, "\n".join(lines) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__)
    parser.add_argument("--n", type=int, default=2_000, help="articles in the corpus")
    parser.add_argument("--duration", type=int, default=10, help="seconds per level")
    parser.add_argument("--low", type=int, default=10, help="the normal concurrency")
    parser.add_argument("--high", type=int, default=400, help="the overload concurrency")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="a server setting"
    )
    parser.add_argument(
        "--sweep",
        metavar="NAME[,NAME]=V1,V2,...",
        help="compare values of a setting at --high, e.g. SHED_PAUSE_MS=250,500,1000 or "
        "MAX_CONCURRENT_REQUESTS,ADMISSION_QUEUE=2,4,8,16 (both set to each value)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--out", type=Path, default=RESULTS / "overload.json")
    args = parser.parse_args(argv)
    loadgen.require_wrk()
    env = dict(item.split("=", 1) for item in args.env)
    if args.sweep:
        return sweep(args, env)
    rounds: dict[int, list[Level]] = {args.low: [], args.high: []}
    with loaded_mongod(args.n, DEFAULT_SEED) as uri:
        for number in range(args.rounds):
            # Alternate the order, so that neither level always meets a warmer machine.
            order = (args.low, args.high) if number % 2 == 0 else (args.high, args.low)
            for connections in order:
                rounds[connections].append(measure(uri, connections, args.duration, env))
    results: dict[str, Any] = {
        "benchmark": "overload",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "n": args.n,
        "duration_s": args.duration,
        "cpu_count": os.cpu_count(),
        "env": env,
        "rounds": args.rounds,
        "each_round": {str(c): [asdict(level) for level in levels] for c, levels in rounds.items()},
        **compare(rounds[args.low], rounds[args.high]),
    }
    write_results(results, args.out, markdown(results))
    return 0 if all(results["met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
