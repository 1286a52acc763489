"""How cost grows with the data: the API benchmark at several corpus sizes, and for
each operation the ratio of p50 at the largest size to p50 at the smallest.

    python -m bench.scale [--sizes 10000 1000000] [--duration 10] [--concurrency 10] [--rounds 3]

Each size keeps its own loaded mongod under .data/bench/, so a rerun only measures.
Results: bench/results/api-<n>.json per size, bench/results/api-scale.json and .md.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.api_bench import RESULTS, SERVERS, Options, run, write_results
from bench.dataset import DATABASE, loaded_mongod, log
from bench.loadgen import require_wrk
from bench.report import scale_table


def scale_results(by_size: dict[int, dict[str, Any]]) -> dict[str, Any]:
    sizes = sorted(by_size)
    small, large = sizes[0], sizes[-1]
    operations: dict[str, Any] = {}
    for operation in by_size[small]["operations"]:
        entry: dict[str, Any] = {}
        for server in SERVERS:
            p50 = {str(n): by_size[n]["operations"][operation][server]["p50_ms"] for n in sizes}
            entry[server] = {
                "p50_ms": p50,
                "ratio_p50": round(p50[str(large)] / p50[str(small)], 2),
            }
        operations[operation] = entry
    return {
        "benchmark": "api-scale",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": sizes,
        "runs": {str(n): str(RESULTS / f"api-{n}.json") for n in sizes},
        "operations": operations,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "api-scale.json")
    args = parser.parse_args(argv)
    require_wrk()  # before spending minutes on the corpora
    by_size: dict[int, dict[str, Any]] = {}
    for n in sorted(set(args.sizes)):
        options = Options(
            n=n,
            duration=args.duration,
            connections=args.concurrency,
            rounds=args.rounds,
            out=RESULTS / f"api-{n}.json",
        )
        log(f"scale: N = {n:,}")
        with loaded_mongod(n, options.seed) as uri:
            by_size[n] = run(uri, DATABASE, options)
    scale = scale_results(by_size)
    write_results(scale, args.out, scale_table(scale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
