"""Find the article files under the paths given on the command line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

ARTICLE_SUFFIXES = (".txt", ".md", ".yaml", ".yml")


def is_article_file(path: Path) -> bool:
    return path.suffix.lower() in ARTICLE_SUFFIXES


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Each file named, and every article file below each directory named, in sorted
    order. A path that does not exist is yielded as is: reading it reports why."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and is_article_file(p))
        else:
            yield path
