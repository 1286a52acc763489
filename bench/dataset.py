"""The benchmark's data: the fixed-seed corpus, loaded by the real loader into a private
mongod whose data directory is kept, so a second run at the same size and seed starts
in seconds instead of regenerating and reloading.

    bench/corpus/<n>-<seed>/     the article files (bench.corpus caches them)
    .data/bench/<n>-<seed>/      the mongod data directory, with a LOADED marker
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from bench.corpus import DEFAULT_SEED, cached_corpus
from loaders.load import load_paths
from storage.mongod import Mongod

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".data" / "bench"
DATABASE = "newsgraph"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def load_corpus(uri: str, database: str, n: int, seed: int) -> None:
    """Write the corpus of n articles (cached) and load it with the real loader."""
    started = time.monotonic()
    root = cached_corpus(n, seed)
    log(f"corpus of {n} articles ready in {root} ({time.monotonic() - started:.0f} s)")
    started = time.monotonic()
    client: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True)
    try:
        report = load_paths(client[database], [root])
    finally:
        client.close()
    if report.errors:
        raise RuntimeError(
            f"the loader rejected {report.rejected} corpus files, first: {report.errors[0]}; "
            "the corpus generator and the loader disagree"
        )
    log(f"loaded: {report.summary()} ({time.monotonic() - started:.0f} s)")


def storage_fingerprint() -> str:
    """A digest of the code that decides what is stored (the storage contract and the
    loader): a kept database loaded by other code is reloaded, not measured."""
    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "storage").glob("*.py"), *(ROOT / "loaders").glob("*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def loaded_mongod(n: int, seed: int, parameters: Mapping[str, str] | None = None) -> Iterator[str]:
    """A private mongod holding the corpus of n articles; yields its URI. The data
    directory is kept for the next run at the same n and seed and the same loader.
    ``parameters``: mongod's --setParameter (enableTestCommands, for failpoints)."""
    dbpath = DATA_DIR / f"{n}-{seed}"
    marker = dbpath / "LOADED"
    loaded_by = f"{n} {seed} {storage_fingerprint()}\n"
    with Mongod(dbpath, parameters=parameters) as mongod:
        if marker.exists() and marker.read_text() == loaded_by:
            log(f"reusing the corpus of {n} articles loaded in {dbpath}")
        else:
            log(f"loading {n} articles into {dbpath} (new, or loaded by other loader code)")
            marker.unlink(missing_ok=True)
            client: MongoClient[dict[str, Any]] = MongoClient(mongod.uri)
            client.drop_database(DATABASE)
            client.close()
            load_corpus(mongod.uri, DATABASE, n, seed)
            marker.write_text(loaded_by)
        yield mongod.uri


def main() -> None:
    """``python -m bench.dataset --n N``: prepare (generate and load) a corpus ahead of a run."""
    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=main.__doc__)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    with loaded_mongod(args.n, args.seed):
        pass


if __name__ == "__main__":
    main()
