"""Start newsgraph and the floor as separate processes, exactly as they run in
production: ``python -m api`` (uvicorn, one worker) and ``python -m bench.floor``,
each on a free port on 127.0.0.1, configured through the environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

from storage.mongod import free_port

ROOT = Path(__file__).resolve().parent.parent


class Server:
    """One server process; ``url`` is its /graphql endpoint."""

    def __init__(
        self, name: str, module: str, uri: str, database: str, log_dir: Path, **env: str
    ) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = log_dir / f"{name}.log"
        log_dir.mkdir(parents=True, exist_ok=True)
        environment = {
            **os.environ,
            "MONGODB_URI": uri,
            "NEWSGRAPH_DB": database,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            **env,
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module],
                cwd=ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_ready()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/graphql"

    # Long enough for both servers to build their search index of a million articles.
    def _wait_until_ready(self, timeout: float = 1800.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {self.process.returncode} while starting; "
                    f"see {self.log_path}"
                )
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready within {timeout:.0f} s; see {self.log_path}")

    def peak_rss_mb(self) -> float:
        """The process's peak resident set size so far (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError(f"no VmHWM for {self.name} (pid {self.process.pid})")

    def metric(self, sample: str) -> float | None:
        """The value of one sample in the server's /metrics, named with its labels as
        served (``newsgraph_requests_shed_total{reason="queue_full"}``); None if absent."""
        for line in httpx.get(f"{self.base}/metrics", timeout=10).text.splitlines():
            if line.startswith(sample + " "):
                return float(line.split()[-1])
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


Key = TypeVar("Key")
Result = TypeVar("Result")


@contextmanager
def newsgraph_variants(
    variants: Mapping[Key, Mapping[str, str]], uri: str, database: str, log_dir: Path, name: str
) -> Iterator[dict[Key, Server]]:
    """One ``python -m api`` per variant (its settings), all stopped on the way out:
    those started before one that failed to start too."""
    started: dict[Key, Server] = {}
    try:
        for key, env in variants.items():
            started[key] = Server(f"{name}-{key}", "api", uri, database, log_dir, **env)
        yield started
    finally:
        for server in started.values():
            server.stop()


def in_turns(
    servers: Mapping[Key, Server],
    rounds: int,
    warm_up: Callable[[Server], object],
    measure: Callable[[Key, Server], list[Result]],
) -> list[Result]:
    """Each server warmed up, then measured in turn, ``rounds`` times: the machine's
    slow spells fall on all of them alike."""
    for server in servers.values():
        warm_up(server)
    results: list[Result] = []
    for _ in range(rounds):
        for key, server in servers.items():
            results += measure(key, server)
    return results


def start_newsgraph(uri: str, database: str, log_dir: Path) -> Server:
    return Server("newsgraph", "api", uri, database, log_dir)


def start_floor(uri: str, database: str, log_dir: Path, tamper: str | None = None) -> Server:
    extra = {"FLOOR_TAMPER": tamper} if tamper else {}
    return Server("floor", "bench.floor", uri, database, log_dir, **extra)
