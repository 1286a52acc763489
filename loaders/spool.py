"""Plain temporary copies of the inputs that cannot be split or read twice as they
come, so that every input reaches the workers in parts of bounded size:

- standard input: readable once, and a strict run reads its inputs twice;
- gzipped JSON Lines: one compressed stream, which one worker would otherwise parse
  whole, holding every article of the file in memory at once.

The copies are on disk (``$TMPDIR``), never in memory, and go with ``close()``.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
import tempfile
import zlib
from typing import BinaryIO, NamedTuple

from loaders.errors import InputError
from loaders.processes import running

STDIN = "-"
BLOCK = 1024 * 1024
PREFIX = "newsgraph-load-"  # then the loader's pid: newsgraph-load-<pid>-<random>


def remove_orphans() -> None:
    """Remove the spool directories of loaders that are gone (killed: a loader that
    ends removes its own), so that kill -9 does not leave copies behind for good."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        pid = name.removeprefix(PREFIX).partition("-")[0]
        if name.startswith(PREFIX) and pid.isdigit() and not running(int(pid)):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


class Copy(NamedTuple):
    path: str
    lines: int  # newlines copied: the line an error after the copy is on, minus one
    error: InputError | None = None  # why the copy stops short, if it does


class Spool:
    def __init__(self, stdin: BinaryIO | None = None) -> None:
        self._stdin = stdin
        self._directory: str | None = None
        self._copies: dict[str, Copy] = {}

    def stdin(self, fmt: str, max_size: int) -> Copy:
        """Standard input's copy, read on the first call. Only JSON Lines is copied
        whole: in any other format it is one input, and one byte over the size limit
        is enough to refuse it."""
        if STDIN not in self._copies:
            stream = self._stdin or sys.stdin.buffer
            limit = None if fmt == "jsonl" else max_size + 1
            self._copies[STDIN] = self._copy(stream, limit)
        return self._copies[STDIN]

    def gunzipped(self, path: str) -> Copy:
        """A gzipped file's decompressed copy. A damaged file is copied up to the
        damage, with the error: what came before it still loads."""
        if path not in self._copies:
            try:
                with gzip.open(path, "rb") as stream:
                    self._copies[path] = self._copy(stream, None)  # type: ignore[arg-type]
            except OSError as exc:  # not even a gzip header
                raise InputError(f"cannot read: {exc} (is it really gzip?)") from None
        return self._copies[path]

    def _copy(self, stream: BinaryIO, limit: int | None) -> Copy:
        """Copy up to ``limit`` bytes (None: all), a line at a time: should reading
        fail, the copy holds every whole line before the failure."""
        if self._directory is None:
            remove_orphans()
            self._directory = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
        handle, path = tempfile.mkstemp(dir=self._directory)
        lines, left, whole = 0, limit, 0
        with os.fdopen(handle, "wb") as out:
            while left is None or left > 0:
                try:
                    chunk = stream.readline(BLOCK if left is None else min(BLOCK, left))
                except (OSError, EOFError, zlib.error) as exc:
                    out.truncate(whole)
                    return Copy(path, lines, InputError(f"cannot read: {exc} (is it really gzip?)"))
                if not chunk:
                    break
                out.write(chunk)
                if chunk.endswith(b"\n"):
                    lines += 1
                    whole = out.tell()
                if left is not None:
                    left -= len(chunk)
        return Copy(path, lines)

    def close(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
            self._copies = {}
