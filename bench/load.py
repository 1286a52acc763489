"""``make bench-load``: the loader's throughput against its two floors, in one run on
one private mongod.

- parsing floor: the same files read and parsed with ``yaml.CSafeLoader`` alone, on
  all cores (no validation, no writes);
- write floor: the same stored documents sent with raw unordered ``insert_many`` to
  an empty collection (no parsing, no validation); then, timed apart, the indexes the
  API needs built on them as a first load builds them ("with the API's indexes");
- shared-core floor: both floors one after the other (1 / (1/parsing + 1/indexed
  writing)). Here mongod shares the loader's cores, so the loader's parsing and its
  writes compete for the same CPU: this is both floors' work on those cores.
- loader: ``python -m loaders`` on the corpus, as an operator runs it, with the peak
  resident memory of its whole process tree (main process and workers).

The figures go to ``bench/results/load.json`` (``load-<N>.json`` for another size);
paste the printed table into the README.

    python -m bench.load --n 100000
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient

from bench.corpus import DEFAULT_SEED, cached_corpus
from bench.proc import cpu_seconds
from loaders.writer import index_builds, run_side_by_side
from storage.mongod import Mongod

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_N = 100_000


def results_path(n: int) -> Path:
    """load.json for the default size, load-<n>.json for any other: a 1,000,000-file
    run does not replace the figures the README's main row comes from."""
    return RESULTS / ("load.json" if n == DEFAULT_N else f"load-{n}.json")


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


def warm_page_cache(files: list[str]) -> None:
    """Read every file once, untimed: the floor reads first and the loader second, so
    without this the floor alone would pay for a cold page cache."""
    for path in files:
        with open(path, "rb") as stream:
            stream.read()


def parsing_floor(files: list[str], workers: int) -> float:
    """Articles/s of CSafeLoader alone on every core. On the loader's kind of pool:
    multiprocessing.Pool's busy result handling would slow the floor down."""
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(_parse_chunk, [files[:1]] * workers))  # start the workers before timing
        start = time.perf_counter()
        done = sum(pool.map(_parse_chunk, _chunks(files, 64)))
        elapsed = time.perf_counter() - start
    return done / elapsed


class WriteFloor(NamedTuple):
    articles: int
    insert_seconds: float  # raw unordered insert_many into an empty collection
    index_seconds: float  # then the API's indexes, built as a first load builds them

    @property
    def raw_rate(self) -> float:
        return self.articles / self.insert_seconds

    @property
    def indexed_rate(self) -> float:
        return self.articles / (self.insert_seconds + self.index_seconds)


def write_floor(
    client: MongoClient[dict[str, Any]], source_db: str, target_db: str, cores: int
) -> WriteFloor:
    """Raw unordered insert_many of the loader's stored documents, timed; then the
    indexes the API needs on them, built the way the loader builds them after a first
    load, timed apart."""
    raw = client.get_database(source_db, codec_options=client.codec_options.with_options(
        document_class=RawBSONDocument))  # fmt: skip
    client.drop_database(target_db)
    target = client[target_db]["articles"]
    elapsed = 0.0
    count = 0
    documents = raw["articles"].find()
    while batch := list(itertools.islice(documents, 1000)):
        start = time.perf_counter()
        target.insert_many(batch, ordered=False)
        elapsed += time.perf_counter() - start
        count += len(batch)
    start = time.perf_counter()
    run_side_by_side(index_builds(client[target_db]), max(2, cores))
    indexing = time.perf_counter() - start
    client.drop_database(target_db)
    return WriteFloor(count, elapsed, indexing)


def children_by_parent() -> dict[int, list[int]]:
    """Every running process's children, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue  # exited meanwhile
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    return children


def _tree(root: int) -> list[int]:
    """A process and all its descendants."""
    children = children_by_parent()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


class LoaderRun(NamedTuple):
    seconds: float
    articles: int
    peak_rss: int  # bytes, the whole process tree at its largest
    main_cpu: float  # CPU seconds of the loader's main process
    workers_cpu: float  # and of its descendants (the parsing workers)
    mongod_cpu: float  # and of mongod while the loader ran


def run_loader(corpus: Path, uri: str, db: str, mongod_pid: int) -> LoaderRun:
    """Run the loader as an operator does, sampling its process tree every 0.05 s for
    memory and CPU time."""
    env = {**os.environ, "MONGODB_URI": uri, "NEWSGRAPH_DB": db}
    command = [sys.executable, "-m", "loaders", "--quiet", str(corpus)]
    mongod_before = cpu_seconds(mongod_pid)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    peak = 0
    cpu: dict[int, float] = {}  # the most each process of the tree was seen to use
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        # Often enough to see a short-lived parsing worker after it has done some work:
        # a small corpus's workers live for well under a second.
        while not stop.wait(0.05):
            rss = 0
            for pid in _tree(process.pid):
                with contextlib.suppress(OSError):
                    rss += _rss(pid)
                    cpu[pid] = max(cpu.get(pid, 0.0), cpu_seconds(pid))
            peak = max(peak, rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    elapsed = time.perf_counter() - start
    mongod_cpu = cpu_seconds(mongod_pid) - mongod_before
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"the loader failed (exit {process.returncode}): {output}")
    print(f"loader: {output.strip()}")
    articles = int(output.split("articles inserted ")[1].split(",")[0])
    main_cpu = cpu.pop(process.pid, 0.0)
    return LoaderRun(elapsed, articles, peak, main_cpu, sum(cpu.values()), mongod_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=DEFAULT_N)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--results", type=Path, help="default: bench/results/load[-N].json")
    args = parser.parse_args()

    workers = os.cpu_count() or 1
    started = time.perf_counter()
    corpus = cached_corpus(args.n, args.seed)
    print(f"corpus: {args.n} files in {corpus} ({time.perf_counter() - started:.0f} s)")
    files = corpus_files(corpus)
    warm_page_cache(files)

    with tempfile.TemporaryDirectory(prefix="bench-load-") as data, Mongod(Path(data)) as mongod:
        client: MongoClient[dict[str, Any]] = MongoClient(mongod.uri)
        parse_rate = parsing_floor(files, workers)
        print(f"parsing floor: {parse_rate:,.0f} articles/s")
        assert mongod.process is not None
        run = run_loader(corpus, mongod.uri, "bench_load", mongod.process.pid)
        seconds, peak = run.seconds, run.peak_rss
        load_rate = run.articles / seconds
        print(f"loader: {load_rate:,.0f} articles/s, peak RSS {peak / 2**20:,.0f} MiB")
        print(
            f"CPU seconds during the load: workers {run.workers_cpu:.1f}, loader main "
            f"process {run.main_cpu:.1f}, mongod {run.mongod_cpu:.1f} (the parsing floor: "
            f"{len(files) / parse_rate * workers:.1f} on {workers} cores)"
        )
        floor = write_floor(client, "bench_load", "bench_floor", workers)
        write_rate = floor.raw_rate
        print(f"write floor: {write_rate:,.0f} articles/s")
        print(f"write floor with the API's indexes: {floor.indexed_rate:,.0f} articles/s")
        client.close()

    slower = min(parse_rate, write_rate)
    # Parsing and writing share the same cores here (mongod runs beside the loader):
    # both floors' work, one after the other.
    shared = 1 / (1 / parse_rate + 1 / floor.indexed_rate)
    results = {
        "files": args.n,
        "seed": args.seed,
        "workers": workers,
        "loaderArticlesPerSecond": round(load_rate),
        "loaderSeconds": round(seconds, 1),
        "parsingFloorArticlesPerSecond": round(parse_rate),
        "writeFloorArticlesPerSecond": round(write_rate),
        "ratioToSlowerFloor": round(load_rate / slower, 2),
        "indexedWriteFloorArticlesPerSecond": round(floor.indexed_rate),
        "sharedCoreFloorArticlesPerSecond": round(shared),
        "ratioToSharedCoreFloor": round(load_rate / shared, 2),
        "peakRssMiB": round(peak / 2**20),
        "cpuSeconds": {
            "loaderWorkers": round(run.workers_cpu, 2),
            "loaderMain": round(run.main_cpu, 2),
            "mongod": round(run.mongod_cpu, 2),
            "parsingFloor": round(len(files) / parse_rate * workers, 1),
        },
        "measuredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = args.results or results_path(args.n)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print("| files | loader | parsing floor | write floor | ratio to slower floor | peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.n:,} | {load_rate:,.0f}/s | {parse_rate:,.0f}/s | {write_rate:,.0f}/s "
        f"| {results['ratioToSlowerFloor']} | {results['peakRssMiB']} MiB |"
    )
    print(
        f"\nshared-core floor (parsing, then writing with the API's indexes, on the same "
        f"{workers} cores): {shared:,.0f}/s; the loader's ratio to it: "
        f"{results['ratioToSharedCoreFloor']}"
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
