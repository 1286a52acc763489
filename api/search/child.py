"""Runs a full build of the index in a child process (``api.search.build``) and
follows its progress, from the API process's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.search.build import EXIT_MONGODB

log = logging.getLogger("newsgraph.search")

# How much of the child's stderr is kept for the error that reports its failure.
STDERR_LINES = 5


@dataclass(frozen=True)
class BuildCommand:
    """What a build process needs to reach MongoDB and the index's directory."""

    uri: str
    database: str
    directory: Path
    heap_bytes: int
    timeout_ms: int

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "api.search.build"]

    def config(self) -> bytes:
        return (
            json.dumps(
                {
                    "uri": self.uri,
                    "database": self.database,
                    "directory": str(self.directory),
                    "heapBytes": self.heap_bytes,
                    "timeoutMs": self.timeout_ms,
                }
            ).encode()
            + b"\n"
        )


@dataclass(frozen=True)
class Built:
    indexed: int
    seconds: float
    peak_rss_bytes: int


class BuildFailed(Exception):
    """The build process exited without finishing its build."""

    def __init__(self, message: str, mongodb: bool) -> None:
        super().__init__(message)
        self.mongodb = mongodb  # it failed because of MongoDB (an outage, an election)


async def run_build(command: BuildCommand, on_progress: Callable[[dict[str, Any]], None]) -> Built:
    """Starts the build process, hands each progress message to ``on_progress``,
    and returns its figures once it has committed; raises BuildFailed if it dies or
    fails. Cancelled, it kills the process first."""
    process = await asyncio.create_subprocess_exec(
        *command.argv(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(command.config())
    # stdin stays open: the child exits when it closes, so it never outlives us.
    errors: list[str] = []
    relay = asyncio.create_task(_relay_stderr(process, errors))
    done: dict[str, Any] | None = None
    try:
        async for line in process.stdout:
            message = json.loads(line)
            if "done" in message:
                done = message
            else:
                on_progress(message)
        code = await process.wait()
        await relay
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        relay.cancel()
        raise
    finally:
        process.stdin.close()
    if code != 0 or done is None:
        raise BuildFailed(
            f"the search index build process (pid {process.pid}) {_exit_status(code)}"
            + (f": {errors[-1]}" if errors else ""),
            mongodb=code == EXIT_MONGODB,
        )
    return Built(int(done["done"]), float(done["seconds"]), int(done["peakRssBytes"]))


async def _relay_stderr(process: asyncio.subprocess.Process, kept: list[str]) -> None:
    """Logs what the child writes to stderr (a traceback, a failure) as it comes."""
    assert process.stderr is not None
    async for raw in process.stderr:
        line = raw.decode(errors="replace").rstrip()
        if line:
            log.warning("search build (pid %d): %s", process.pid, line)
            kept.append(line)
            del kept[:-STDERR_LINES]


def _exit_status(code: int) -> str:
    if code < 0:
        name = signal.Signals(-code).name
        hint = " (SIGKILL: out of memory?)" if -code == signal.SIGKILL else ""
        return f"was killed by {name}{hint}"
    if code == 0:
        return "exited without finishing"
    return f"exited with code {code}"
