"""Load article files into MongoDB: read, parse, validate, normalise, write."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo.database import Database

from loaders.files import discover
from loaders.frontmatter import InputError, parse_front_matter
from loaders.normalise import normalise_article
from loaders.writer import Touched, ensure_indexes, refresh_counts, write_articles

BATCH_SIZE = 500


@dataclass
class Report:
    files: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        return (
            f"files read {self.files}, articles inserted {self.inserted}, "
            f"updated {self.updated}, unchanged {self.unchanged}, rejected {self.rejected}"
        )


def read_article(path: Path) -> dict[str, Any]:
    """The stored document for the article in one file; raises InputError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8: invalid byte at offset {exc.start}", line=line) from exc
    return normalise_article(parse_front_matter(text))


def load_paths(db: Database[dict[str, Any]], paths: Iterable[Path]) -> Report:
    report = Report()
    ensure_indexes(db)
    touched = Touched()
    batch: dict[str, dict[str, Any]] = {}

    def flush() -> None:
        outcomes = write_articles(db, list(batch.values()), touched)
        for outcome in outcomes.values():
            setattr(report, outcome, getattr(report, outcome) + 1)
        batch.clear()

    for path in discover(paths):
        report.files += 1
        try:
            doc = read_article(path)
        except InputError as exc:
            report.errors.append(exc.describe(str(path)))
            continue
        if doc["_id"] in batch:
            flush()
        batch[doc["_id"]] = doc
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    refresh_counts(db, touched)
    return report
