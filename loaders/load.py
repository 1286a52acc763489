"""Load inputs into MongoDB: discover, parse in worker processes, write in a thread.

The flow, and why it keeps memory flat and never loses an article:

- ``discover`` yields inputs in sorted order, lazily; a bounded number of chunks of
  them is being parsed at any time (loaders.workers), and the writer's queue holds
  four batches, so a slow MongoDB slows the parsers instead of filling memory.
- Results come back in input order; the single writer thread writes batches in that
  order, so of two inputs with the same URL the later one wins.
- Before a batch is written, the keys whose counts it changes are recorded in
  ``loadPending``; they are recounted from ``articles`` at the end and only then
  cleared. A run killed at any moment leaves them for the next run to finish.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from pymongo.database import Database

from loaders.failover import DEFAULT_PRIMARY_WAIT, Failover
from loaders.inputs import (
    DEFAULT_MAX_SIZE,
    count_inputs,
    discover,
)
from loaders.parse import Item, Parsed, Rejected
from loaders.report import Duplicate, Report
from loaders.seen import SeenIds
from loaders.spool import Spool
from loaders.workers import parse_all
from loaders.writer import (
    PendingLog,
    Touched,
    ensure_indexes,
    index_builds,
    load_pending,
    recounts,
    run_side_by_side,
    write_articles,
)

__all__ = ["LoadOptions", "Report", "load_paths"]

BATCH_SIZE = 1000
INLINE_BELOW = 200  # fewer inputs than this are parsed in-process: no pool to start

Progress = Callable[[int, int, int], None]  # (inputs done, articles, rejected)


@dataclass(frozen=True)
class LoadOptions:
    workers: int = os.cpu_count() or 1
    max_size: int = DEFAULT_MAX_SIZE
    dry_run: bool = False
    strict: bool = False
    batch_size: int = BATCH_SIZE
    stdin_format: str = "frontmatter"
    expected_inputs: int | None = None  # a hint: small runs skip the worker pool
    # How long to wait for a primary (an election) before giving up; 0: never wait.
    primary_wait: float = DEFAULT_PRIMARY_WAIT
    failover: Failover | None = None  # the one watching the client, if any


class Batch(NamedTuple):
    articles: list[Parsed]
    repeated: set[str]  # their ids met in an earlier input of the run


class BatchWriter(threading.Thread):
    """Writes batches in the order given, while the main thread goes on parsing."""

    def __init__(
        self,
        db: Database[dict[str, Any]],
        report: Report,
        touched: Touched,
        fresh: bool,
        failover: Failover,
    ) -> None:
        super().__init__(name="article-writer", daemon=True)
        self.db = db
        self.failover = failover
        # The collection was empty at the start: only ids met twice can be stored.
        self.fresh = fresh
        self.report = report
        self.touched = touched
        self.pending = PendingLog(db, touched)
        self.queue: queue.Queue[Batch | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None

    def submit(self, batch: list[Parsed], repeated: set[str]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(Batch(batch, repeated))

    def run(self) -> None:
        while (queued := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain, so that submit never blocks forever
            batch = queued.articles
            look_up = queued.repeated if self.fresh else None
            try:
                outcomes = write_articles(
                    self.db, batch, self.touched, self.pending, look_up, self.failover
                )
            except BaseException as exc:
                self.error = exc
                continue
            for item in batch:
                outcome = outcomes[item.id]
                if outcome.startswith("rejected"):
                    reason = outcome.partition(": ")[2]
                    self.report.reject(item.source, f"{item.source}: {reason}")
                else:
                    self.report.outcome(item.source, item.id, outcome)

    def finish(self) -> None:
        self.queue.put(None)
        self.join()
        if self.error is not None:
            raise self.error


class Run:
    """One pass over the inputs: deduplicates, batches and hands batches on."""

    def __init__(
        self,
        report: Report,
        write: Callable[[list[Parsed], set[str]], None] | None,
        batch_size: int,
    ) -> None:
        self.report = report
        self.batch_size = batch_size
        self.write = write
        self.batch: dict[str, Parsed] = {}
        # Enough to spot a duplicate URL in 8 bytes an article: the earlier input is
        # named at the end, from the outcome log.
        self.seen = SeenIds()
        self.pending_duplicates: list[tuple[str, str]] = []
        self.repeated: set[str] = set()  # the batch's ids met in an earlier input

    def take(self, item: Item) -> None:
        if isinstance(item, Rejected):
            self.report.reject(item.source, item.reason)
            return
        self.report.unknown_fields.update(item.unknown)
        if item.id in self.seen:
            earlier = self.batch.pop(item.id, None)
            if earlier is not None:
                self.report.outcome(earlier.source, earlier.id, "superseded")
            self.pending_duplicates.append((item.id, item.source))
            self.repeated.add(item.id)
        else:
            self.seen.add(item.id)
        if self.write is None:  # a dry run
            self.report.outcome(item.source, item.id, "valid")
            return
        self.batch[item.id] = item
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.batch and self.write is not None:
            self.write(list(self.batch.values()), self.repeated)
        self.batch = {}
        self.repeated = set()

    def name_duplicates(self) -> None:
        """Name the earlier input of each duplicate, from the outcome log."""
        if not self.pending_duplicates:
            return
        earliest = self.report.source_of({article_id for article_id, _ in self.pending_duplicates})
        for article_id, later in self.pending_duplicates:
            earlier = earliest.get(article_id, "an earlier input")
            self.report.duplicates.append(Duplicate(article_id, earlier, later))


def _finish_writes(
    db: Database[dict[str, Any]],
    touched: Touched,
    deferred: bool,
    cores: int,
    failover: Failover,
) -> None:
    """Build the deferred indexes and recount the derived collections, side by side:
    all of it is work inside mongod, which then has every core (the parsers are done).
    A killed run leaves the indexes unbuilt; the next run builds them first. Each
    job is idempotent, so each is retried whole across a failover."""
    builds = failover.call(partial(index_builds, db)) if deferred else []
    jobs = builds + failover.call(partial(recounts, db, touched))
    run_side_by_side([partial(failover.call, job) for job in jobs], max(2, cores))


def load_paths(
    db: Database[dict[str, Any]] | None,
    paths: Iterable[Path],
    options: LoadOptions | None = None,
    progress: Progress | None = None,
) -> Report:
    """Load every input under ``paths``. With ``options.dry_run`` (``db`` may then be
    None) everything is validated and nothing is written; with ``options.strict``
    nothing is written either if any input is rejected."""
    options = options or LoadOptions()
    paths, not_found = split_missing(paths)
    if options.expected_inputs is None:
        options = replace(options, expected_inputs=count_inputs(paths))
    spool = Spool()  # standard input is read once, whether one pass or two
    try:
        if options.strict and not options.dry_run:
            checked = _run(None, paths, spool, replace(options, dry_run=True), progress)
            if checked.rejected or not_found:
                checked.strict_refused = True
                checked.not_found = not_found
                return checked
            checked.close()
        report = _run(db, paths, spool, options, progress)
        report.not_found = not_found
        return report
    finally:
        spool.close()


def split_missing(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """The paths that exist (or ``-``), and those that do not: a mistyped path is not
    an input that was read and rejected, it is reported apart."""
    present: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if str(path) == "-" or path.exists() or path.is_symlink():
            present.append(path)
        else:
            missing.append(str(path))
    return present, missing


def _run(
    db: Database[dict[str, Any]] | None,
    paths: list[Path],
    spool: Spool,
    options: LoadOptions,
    progress: Progress | None,
) -> Report:
    report = Report(dry_run=options.dry_run)
    failover = options.failover or Failover(options.primary_wait)
    writer: BatchWriter | None = None
    touched = Touched()
    deferred = False
    if not options.dry_run:
        assert db is not None, "a database is needed unless this is a dry run"
        deferred = failover.call(partial(ensure_indexes, db, defer_on_empty=True))
        # An interrupted run's keys are recounted too.
        touched = failover.call(partial(load_pending, db))
        writer = BatchWriter(db, report, touched, deferred, failover)
        writer.start()
    run = Run(report, writer.submit if writer else None, options.batch_size)
    try:
        tasks = discover(paths, spool, options.max_size, options.stdin_format)
        small = options.expected_inputs is not None and options.expected_inputs < INLINE_BELOW
        parsed = parse_all(tasks, options.workers, in_process=options.workers <= 1 or small)
        for done, (new_input, items) in enumerate(parsed, start=1):
            report.files += new_input
            for item in items:
                run.take(item)
            if progress:
                progress(done, len(run.seen), report.rejected)
        run.flush()
    finally:
        if writer is not None:
            writer.finish()
    if writer is not None and db is not None:
        _finish_writes(db, touched, deferred, options.workers, failover)
        failover.call(writer.pending.clear)
    run.name_duplicates()
    return report
