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
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.api_bench import RESULTS, write_results
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, loaded_mongod, log
from bench.operations import body
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
        level = run_wrk(server.url, request, duration, connections)
        level.peak_rss_mb = server.peak_rss_mb()
    finally:
        server.stop()
    log(
        f"{connections:4} connections: {level.goodput:7.1f} 2xx/s, {level.shed} shed, "
        f"{level.other} other, {level.socket_errors} socket errors, p50 {level.p50_ms} ms, "
        f"p99 {level.p99_ms} ms, peak RSS {level.peak_rss_mb} MiB"
    )
    return level


def compare(low: Level, high: Level) -> dict[str, Any]:
    ratios = {
        "goodput_ratio": round(high.goodput / low.goodput, 2),
        "p99_ratio": round(high.p99_ms / low.p99_ms, 2),
        "rss_ratio": round(high.peak_rss_mb / low.peak_rss_mb, 2),
    }
    only_2xx_or_503 = all(level.other == 0 and level.socket_errors == 0 for level in (low, high))
    met = {
        "goodput_ratio": ratios["goodput_ratio"] >= TARGETS["goodput_ratio"],
        "p99_ratio": ratios["p99_ratio"] <= TARGETS["p99_ratio"],
        "rss_ratio": ratios["rss_ratio"] <= TARGETS["rss_ratio"],
        "only_2xx_or_503": only_2xx_or_503,
    }
    return {"ratios": ratios, "targets": TARGETS, "met": met}


def markdown(results: dict[str, Any]) -> str:
    low, high = results["levels"]
    ratios, met = results["ratios"], results["met"]
    settings = ", ".join(f"{k}={v}" for k, v in results["env"].items()) or "defaults"
    lines = [
        f"The home page, wrk, {results['duration_s']} s per level, each on a fresh "
        f"`python -m api`; N = {results['n']:,} articles; {results['date']}; "
        f"{results['cpu_count']} CPUs; settings: {settings}.",
        "",
        "| connections | 2xx/s | 503 | other | socket errors | p50 ms | p99 ms | peak RSS MiB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for level in (low, high):
        lines.append(
            f"| {level['connections']} | {level['goodput']:.0f} | {level['shed']} "
            f"| {level['other']} | {level['socket_errors']} | {level['p50_ms']:.1f} "
            f"| {level['p99_ms']:.1f} | {level['peak_rss_mb']:.1f} |"
        )
    lines += [
        "",
        f"Goodput {high['connections']} vs {low['connections']}: {ratios['goodput_ratio']} "
        f"(target >= 0.9: {_yes(met['goodput_ratio'])}); p99: {ratios['p99_ratio']}x "
        f"(target <= 4x: {_yes(met['p99_ratio'])}); peak RSS: {ratios['rss_ratio']}x "
        f"(target <= 1.5x: {_yes(met['rss_ratio'])}); every response 2xx or 503: "
        f"{_yes(met['only_2xx_or_503'])}.",
        "",
    ]
    return "\n".join(lines)


def _yes(flag: bool) -> str:
    return "met" if flag else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__)
    parser.add_argument("--n", type=int, default=2_000, help="articles in the corpus")
    parser.add_argument("--duration", type=int, default=10, help="seconds per level")
    parser.add_argument("--low", type=int, default=10, help="the normal concurrency")
    parser.add_argument("--high", type=int, default=400, help="the overload concurrency")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="a server setting"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "overload.json")
    args = parser.parse_args(argv)
    loadgen.require_wrk()
    env = dict(item.split("=", 1) for item in args.env)
    with loaded_mongod(args.n, DEFAULT_SEED) as uri:
        low = measure(uri, args.low, args.duration, env)
        high = measure(uri, args.high, args.duration, env)
    results: dict[str, Any] = {
        "benchmark": "overload",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "n": args.n,
        "duration_s": args.duration,
        "cpu_count": os.cpu_count(),
        "env": env,
        "levels": [asdict(low), asdict(high)],
        **compare(low, high),
    }
    write_results(results, args.out, markdown(results))
    return 0 if all(results["met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
