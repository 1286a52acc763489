"""`make serve`'s program end to end: a private mongod, the seeds, the API, and
Ctrl-C stopping everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from storage.mongod import free_port
from tests.conftest import ROOT
from tests.test_api import HOME


def _mongod_pids(data_dir: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline and cmdline[0].endswith(b"mongod") and str(data_dir).encode() in cmdline:
                pids.append(int(proc.name))
    return pids


def test_devserver_serves_the_seeds_and_stops_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    env.update(
        PORT=str(port),
        HOST="127.0.0.1",
        MONGO_DATA_DIR=str(tmp_path / "mongo"),
        SEARCH_INDEX_DIR=str(tmp_path / "search"),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "api.devserver"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline:
            try:
                body = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": HOME}).json()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert body is not None, "the dev server did not answer"
        nodes = body["data"]["articles"]["nodes"]
        assert [n["provider"]["domain"] for n in nodes] == ["newsoneplace.com", "standard.co.uk"]
        assert _mongod_pids(tmp_path / "mongo")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"GraphiQL: http://127.0.0.1:{port}/graphql" in output
    assert "seeds: files read 2, articles inserted 2" in output
    assert "private mongod stopped" in output
    assert _mongod_pids(tmp_path / "mongo") == []
