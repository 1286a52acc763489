"""Load generators: wrk (C, with a Lua script that rotates over the operation's request
bodies) for real runs, and a small asyncio loop for the quick mode, which needs no wrk.
Both return the same figures."""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

WRK_MISSING = (
    "wrk is not installed: it is the load generator of `make bench-api`. "
    "Install it with `sudo apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk` (macOS), "
    "or run the quick mode without it: `make bench-api QUICK=1`."
)

# Each thread starts at its own place in the pool; bodies are one JSON document a line.
LUA = """
local bodies = {}
local index = 0
local counter = 0
local threads = {}

setup = function(thread)
  thread:set("offset", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

init = function(args)
  for line in io.lines(args[1]) do table.insert(bodies, line) end
  index = (offset or 0) % #bodies
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

request = function()
  index = index % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[index])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"socket_errors":%d,"status_errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(WRK_MISSING)
    return found


def run_wrk(url: str, bodies: list[bytes], duration: float, connections: int) -> Figures:
    wrk = require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "operation.lua"
        script.write_text(LUA)
        body_file = Path(tmp) / "bodies.jsonl"
        body_file.write_bytes(b"\n".join(bodies) + b"\n")
        seconds = max(1, round(duration))
        command = [
            wrk, "-t", "1", "-c", str(connections), "-d", f"{seconds}s",
            "--timeout", f"{max(10, seconds)}s", "-s", str(script), url, "--", str(body_file),
        ]  # fmt: skip
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("RESULT ")]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(
            f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}"
        )
    result = json.loads(lines[-1].removeprefix("RESULT "))
    if result["requests"] == 0:
        raise RuntimeError(f"no request to {url} completed in {duration:.0f} s: {finished.stdout}")
    return Figures(
        rps=round(result["requests"] / (result["duration_us"] / 1e6), 1),
        p50_ms=round(result["p50_us"] / 1000, 3),
        p99_ms=round(result["p99_us"] / 1000, 3),
        requests=result["requests"],
        errors=result["socket_errors"] + result["status_errors"],
    )


def run_python(url: str, bodies: list[bytes], duration: float, connections: int) -> Figures:
    """The quick mode's load loop: `connections` clients in one asyncio loop."""
    return asyncio.run(_python_loop(url, bodies, duration, connections))


async def _python_loop(url: str, bodies: list[bytes], duration: float, connections: int) -> Figures:
    latencies: list[float] = []
    errors = 0
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        deadline = time.perf_counter() + duration

        async def worker(offset: int) -> None:
            nonlocal errors
            index = offset
            while time.perf_counter() < deadline:
                body = bodies[index % len(bodies)]
                index += 1
                started = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(connections)))
        elapsed = time.perf_counter() - started
    if not latencies:
        raise RuntimeError(f"no request to {url} completed in {duration} s")
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Figures(
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 3),
        p99_ms=round(cuts[98] * 1000, 3),
        requests=len(latencies),
        errors=errors,
    )
