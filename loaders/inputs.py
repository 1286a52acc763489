"""Find the inputs named on the command line and read their bytes, within limits.

An input is a file (front matter, JSON or JSON Lines, each optionally gzipped) or
standard input. Files are found in sorted order, one directory at a time, so that a
million of them never sit in memory together.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from loaders.errors import InputError
from loaders.spool import STDIN, Copy, Spool

DEFAULT_MAX_SIZE = 1024 * 1024
FRONT_MATTER_SUFFIXES = (".txt", ".md", ".yaml", ".yml")
FORMAT_OF_SUFFIX = {
    **dict.fromkeys(FRONT_MATTER_SUFFIXES, "frontmatter"),
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
FORMATS = ("frontmatter", "json", "jsonl")


@dataclass(frozen=True)
class Task:
    """One input to parse, read from ``path`` (a copy of it for standard input and
    gzipped JSON Lines: see loaders.spool) and named ``source`` in every message."""

    source: str
    fmt: str
    max_size: int
    path: str
    gzipped: bool = False
    # A part of a large JSON Lines file: its bytes [start, end), from line first_line.
    start: int = 0
    end: int | None = None
    first_line: int = 1

    @property
    def continues(self) -> bool:
        """A later part of a file already counted."""
        return self.start > 0


# Plain JSON Lines files larger than this go to the workers in parts of about this
# size, so that one huge file neither sits in one worker's memory nor on one core.
SPLIT_AT = 4 * 1024 * 1024


def _file_tasks(
    path: str, fmt: str, gzipped: bool, max_size: int, spool: Spool
) -> Iterator[Task | Unusable]:
    if fmt != "jsonl":
        yield Task(path, fmt, max_size, path=path, gzipped=gzipped)
    elif not gzipped:
        yield from _line_parts(path, path, max_size)
    else:
        try:
            copy = spool.gunzipped(path)
        except InputError as exc:
            yield Unusable(path, exc.reason)
            return
        yield from _copied_parts(path, copy, max_size)


def _copied_parts(source: str, copy: Copy, max_size: int) -> Iterator[Task | Unusable]:
    if copy.error is not None and copy.lines == 0:
        yield Unusable(source, copy.error.reason)
        return
    yield from _line_parts(source, copy.path, max_size)
    if copy.error is not None:  # the lines before the damage load; the rest is named
        yield Unusable(f"{source}:{copy.lines + 1}", copy.error.reason, continues=True)


def _line_parts(source: str, path: str, max_size: int) -> Iterator[Task]:
    """A plain JSON Lines file as tasks: whole, or in parts of about SPLIT_AT bytes
    cut at line ends, each knowing the line it starts on."""
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0
    if size <= SPLIT_AT:
        yield Task(source, "jsonl", max_size, path=path)
        return
    with open(path, "rb") as stream:
        start, line = 0, 1
        while start < size:
            stream.seek(start + SPLIT_AT)
            stream.readline()  # to the end of the line the part would cut
            end = min(stream.tell(), size)
            yield Task(source, "jsonl", max_size, path=path, start=start, end=end, first_line=line)
            stream.seek(start)
            remaining = end - start
            while remaining:  # count the part's lines, a MiB at a time
                chunk = stream.read(min(remaining, 1024 * 1024))
                line += chunk.count(b"\n")
                remaining -= len(chunk)
            start = end


def format_of(name: str) -> tuple[str, bool] | None:
    """The format a file's name says, and whether it is gzipped; None if not an article file."""
    name = name.lower()
    gzipped = name.endswith(".gz")
    if gzipped:
        name = name[:-3]
    fmt = FORMAT_OF_SUFFIX.get(os.path.splitext(name)[1])
    return (fmt, gzipped) if fmt else None


def _walk(directory: str) -> Iterator[tuple[str, str, bool]]:
    """Article files below a directory (path, format, gzipped), depth first, each
    directory sorted by name. Plain string work: this runs once per file of a
    million-file corpus, in the process that also feeds the workers."""
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path)
        elif (found := format_of(entry.name)) and entry.is_file():
            yield entry.path, *found


@dataclass(frozen=True)
class Unusable:
    """An input that holds nothing (more) to load: a path given on the command line
    with no article in it, or the unreadable rest of a damaged gzipped file
    (``continues``: its earlier parts were read)."""

    source: str
    reason: str
    continues: bool = False


def discover(
    paths: Iterable[Path],
    spool: Spool,
    max_size: int = DEFAULT_MAX_SIZE,
    stdin_format: str = "frontmatter",
) -> Iterator[Task | Unusable]:
    """A task per input (or part of a large one), paths in sorted order (a later input
    wins a duplicate URL). ``-`` stands for standard input, in ``stdin_format``. The
    copies ``spool`` makes must outlive the tasks."""
    for path in sorted(paths, key=str):
        if str(path) == STDIN:
            copy = spool.stdin(stdin_format, max_size)
            if stdin_format == "jsonl":
                yield from _copied_parts(STDIN, copy, max_size)
            else:
                yield Task(STDIN, stdin_format, max_size, path=copy.path)
        elif path.is_dir():
            found = False
            for file, fmt, gzipped in _walk(str(path)):
                found = True
                yield from _file_tasks(file, fmt, gzipped, max_size, spool)
            if not found:
                suffixes = ", ".join(FORMAT_OF_SUFFIX)
                yield Unusable(str(path), f"no article files ({suffixes}, .gz) in this directory")
        elif path.exists():
            # A file named on the command line is read whatever its name says.
            fmt, gzipped = format_of(path.name) or (
                "frontmatter",
                path.name.lower().endswith(".gz"),
            )
            yield from _file_tasks(str(path), fmt, gzipped, max_size, spool)
        else:
            yield Unusable(str(path), "no such file or directory")


def count_inputs(paths: Iterable[Path]) -> int:
    """About how many tasks ``discover`` will yield (the progress bar's total): one an
    input, one a part of a large JSON Lines file."""
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(_parts(*found) for found in _walk(str(path))) or 1
        else:
            total += _parts(str(path), *(format_of(path.name) or ("frontmatter", False)))
    return total


def _parts(path: str, fmt: str, gzipped: bool) -> int:
    if fmt != "jsonl" or gzipped:
        return 1
    try:
        return os.stat(path).st_size // SPLIT_AT + 1
    except OSError:
        return 1


def open_input(task: Task) -> BinaryIO:
    """The input's bytes as a stream, decompressed when gzipped; the caller closes it."""
    try:
        if task.gzipped:
            return gzip.open(task.path, "rb")  # type: ignore[return-value]
        return open(task.path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None


def too_large(max_size: int) -> InputError:
    return InputError(f"larger than the size limit of {max_size} bytes (raise it with --max-size)")


def read_limited(stream: BinaryIO, max_size: int) -> bytes:
    """At most ``max_size`` bytes (decompressed): a gzip bomb stops at the limit."""
    limit = max_size + 1  # one byte more tells a file over the limit
    want = limit
    if not isinstance(stream, gzip.GzipFile):
        # A plain file's size is known. Asking for that, not for the limit, spares a
        # 1 MiB allocation per file: it was a tenth of the parsing workers' time.
        with contextlib.suppress(OSError, io.UnsupportedOperation):
            want = min(limit, os.fstat(stream.fileno()).st_size + 1)
    try:
        data = stream.read(want)
        if len(data) == want < limit:  # it grew since (or has no size): read on
            data += stream.read(limit - want)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read: {exc} (is it really gzip?)") from None
    if len(data) > max_size:
        raise too_large(max_size)
    return data


def read_lines(
    stream: BinaryIO, max_size: int, first_line: int = 1, end: int | None = None
) -> Iterator[tuple[int, bytes | InputError]]:
    """Each line with its 1-based number (up to byte ``end``); a line over the limit
    comes as an InputError."""
    number = first_line - 1
    while end is None or stream.tell() < end:
        try:
            line = stream.readline(max_size + 1)
        except (OSError, EOFError, zlib.error) as exc:
            yield number + 1, InputError(f"cannot read: {exc} (is it really gzip?)")
            return
        if not line:
            return
        number += 1
        if len(line) > max_size and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the long line
                line = stream.readline(max_size + 1)
            yield number, too_large(max_size)
        else:
            yield number, line


def decode(data: bytes) -> str:
    """UTF-8 text (a leading BOM dropped); InputError naming the line and byte offset
    of the first invalid byte. No other encoding is guessed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8: invalid byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "(convert the file to UTF-8)",
            line=line,
        ) from None
    return text.removeprefix("\ufeff")
