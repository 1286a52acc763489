"""``make bench-load``: the loader's throughput against its two floors, in one run on
one private mongod.

- parsing floor: the same files read and parsed with ``yaml.CSafeLoader`` alone, on
  all cores (no validation, no writes);
- write floor: the same stored documents sent with raw unordered ``insert_many`` to
  an empty collection (no parsing, no validation);
- loader: ``python -m loaders`` on the corpus, as an operator runs it, with the peak
  resident memory of its whole process tree (main process and workers).

The figures go to ``bench/results/load.json``; paste the printed table into the README.

    python -m bench.load --n 100000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient

from bench.corpus import DEFAULT_SEED, cached_corpus
from storage.mongod import Mongod

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "load.json"
PAGE = os.sysconf("SC_PAGE_SIZE")


def corpus_files(root: Path) -> list[str]:
    return sorted(str(path) for path in root.rglob("*.txt"))


def _parse_chunk(paths: list[str]) -> int:
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        block = text.split("\n---", 1)[0].removeprefix("---\n")
        yaml.load(block, Loader=yaml.CSafeLoader)
    return len(paths)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def parsing_floor(files: list[str], workers: int) -> float:
    """Articles/s of CSafeLoader alone on every core."""
    context = multiprocessing.get_context("forkserver")
    with context.Pool(workers) as pool:
        pool.map(_parse_chunk, [files[:workers]])  # start the workers before timing
        start = time.perf_counter()
        done = sum(pool.imap_unordered(_parse_chunk, _chunks(files, 64)))
        elapsed = time.perf_counter() - start
    return done / elapsed


def write_floor(client: MongoClient[dict[str, Any]], source_db: str, target_db: str) -> float:
    """Articles/s of raw unordered insert_many of the loader's stored documents."""
    raw = client.get_database(source_db, codec_options=client.codec_options.with_options(
        document_class=RawBSONDocument))  # fmt: skip
    target = client[target_db]["articles"]
    target.drop()
    elapsed = 0.0
    count = 0
    batch: list[RawBSONDocument] = []
    for doc in raw["articles"].find():
        batch.append(doc)
        if len(batch) == 1000:
            start = time.perf_counter()
            target.insert_many(batch, ordered=False)
            elapsed += time.perf_counter() - start
            count += len(batch)
            batch = []
    if batch:
        start = time.perf_counter()
        target.insert_many(batch, ordered=False)
        elapsed += time.perf_counter() - start
        count += len(batch)
    client.drop_database(target_db)
    return count / elapsed


def _tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        todo.extend(children.get(pid, []))
    return total


def run_loader(corpus: Path, uri: str, db: str) -> tuple[float, int, int]:
    """Seconds, articles loaded, and the peak RSS of the loader's process tree."""
    env = {**os.environ, "MONGODB_URI": uri, "NEWSGRAPH_DB": db}
    command = [sys.executable, "-m", "loaders", "--quiet", str(corpus)]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.25):
            peak = max(peak, _tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    elapsed = time.perf_counter() - start
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"the loader failed (exit {process.returncode}): {output}")
    print(f"loader: {output.strip()}")
    return elapsed, int(output.split("articles inserted ")[1].split(",")[0]), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()

    workers = os.cpu_count() or 1
    started = time.perf_counter()
    corpus = cached_corpus(args.n, args.seed)
    print(f"corpus: {args.n} files in {corpus} ({time.perf_counter() - started:.0f} s)")
    files = corpus_files(corpus)

    with tempfile.TemporaryDirectory(prefix="bench-load-") as data, Mongod(Path(data)) as mongod:
        client: MongoClient[dict[str, Any]] = MongoClient(mongod.uri)
        parse_rate = parsing_floor(files, workers)
        print(f"parsing floor: {parse_rate:,.0f} articles/s")
        seconds, loaded, peak = run_loader(corpus, mongod.uri, "bench_load")
        load_rate = loaded / seconds
        print(f"loader: {load_rate:,.0f} articles/s, peak RSS {peak / 2**20:,.0f} MiB")
        write_rate = write_floor(client, "bench_load", "bench_floor")
        print(f"write floor: {write_rate:,.0f} articles/s")
        client.close()

    slower = min(parse_rate, write_rate)
    results = {
        "files": args.n,
        "seed": args.seed,
        "workers": workers,
        "loaderArticlesPerSecond": round(load_rate),
        "loaderSeconds": round(seconds, 1),
        "parsingFloorArticlesPerSecond": round(parse_rate),
        "writeFloorArticlesPerSecond": round(write_rate),
        "ratioToSlowerFloor": round(load_rate / slower, 2),
        "peakRssMiB": round(peak / 2**20),
        "measuredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print("| files | loader | parsing floor | write floor | ratio to slower floor | peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.n:,} | {load_rate:,.0f}/s | {parse_rate:,.0f}/s | {write_rate:,.0f}/s "
        f"| {results['ratioToSlowerFloor']} | {results['peakRssMiB']} MiB |"
    )
    print(f"\nwritten to {args.results}")


if __name__ == "__main__":
    main()
