"""Feedback while loading: a rich progress bar on a terminal, otherwise one summary
line every few seconds (for logs), or nothing with ``--quiet``."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from loaders.load import Progress as ProgressCallback

LINE_EVERY = 5.0  # seconds between summary lines without a terminal


class _Rate:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def per_second(self, count: int) -> float:
        return count / max(time.monotonic() - self.start, 1e-6)


@contextmanager
def progress_bar(total: int, stream: TextIO) -> Iterator[ProgressCallback]:
    rate = _Rate()
    columns = (
        TextColumn("[bold]loading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[rate]:,.0f} articles/s"),
        TextColumn("· {task.fields[rejected]} rejected"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream), transient=True) as bar:
        task = bar.add_task("load", total=total, rate=0.0, rejected=0)

        def update(done: int, articles: int, rejected: int) -> None:
            rate_now = rate.per_second(articles)
            bar.update(task, completed=done, rate=rate_now, rejected=rejected)

        yield update


@contextmanager
def summary_lines(total: int, stream: TextIO) -> Iterator[ProgressCallback]:
    rate = _Rate()
    last = time.monotonic()

    def update(done: int, articles: int, rejected: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < LINE_EVERY:
            return
        last = now
        speed = rate.per_second(articles)
        print(
            f"progress: {done}/{total} files, {articles} articles, {speed:,.0f} articles/s, "
            f"{rejected} rejected",
            file=stream,
            flush=True,
        )

    yield update


@contextmanager
def no_progress() -> Iterator[ProgressCallback | None]:
    yield None


def feedback(
    total: int, quiet: bool, stream: TextIO = sys.stderr
) -> AbstractContextManager[ProgressCallback | None]:
    """The right kind of feedback for where the output goes."""
    if quiet:
        return no_progress()
    if stream.isatty():
        return progress_bar(total, stream)
    return summary_lines(total, stream)
