"""`make serve`'s program end to end: a private mongod, the seeds, the API, and
Ctrl-C stopping everything."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from storage.mongod import free_port
from tests.conftest import ROOT, SEEDS
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


def _start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    # A search index of its own: the default (.data/search) is shared by the
    # parametrised cases, which run at once on two workers.
    env.update(
        PORT=str(port),
        HOST="127.0.0.1",
        MONGO_DATA_DIR=str(data_dir),
        SEARCH_INDEX_DIR=str(data_dir.parent / "search"),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "api.devserver"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_until_serving(process: subprocess.Popen[str], port: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            body: dict[str, Any] = httpx.post(
                f"http://127.0.0.1:{port}/graphql", json={"query": HOME}
            ).json()
            return body
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the dev server did not answer")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_devserver_stops_its_mongod_on_sigterm_and_sighup(tmp_path: Path, signum: int) -> None:
    port = free_port()
    process = _start(tmp_path / "mongo", port)
    try:
        _wait_until_serving(process, port)
        assert _mongod_pids(tmp_path / "mongo")
        process.send_signal(signum)
        output, _ = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
    assert "private mongod stopped" in output
    assert "Traceback" not in output
    assert _mongod_pids(tmp_path / "mongo") == []


def test_an_orphan_of_a_killed_devserver_is_reaped_by_the_next(tmp_path: Path) -> None:
    port = free_port()
    first = _start(tmp_path / "mongo", port)
    _wait_until_serving(first, port)
    first.kill()  # SIGKILL: it cannot stop its mongod
    first.communicate(timeout=10)
    (orphan,) = _mongod_pids(tmp_path / "mongo")
    second = _start(tmp_path / "mongo", port)
    try:
        _wait_until_serving(second, port)
        assert orphan not in _mongod_pids(tmp_path / "mongo")
        second.send_signal(signal.SIGINT)
        output, _ = second.communicate(timeout=40)
    finally:
        if second.poll() is None:
            second.kill()
    assert f"stopped an orphaned mongod (pid {orphan})" in output
    assert "private mongod started" in output and "private mongod stopped" in output
    assert _mongod_pids(tmp_path / "mongo") == []


def test_a_busy_port_fails_before_touching_data(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = _start(tmp_path / "mongo", port)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert f"PORT={port + 1}" in output
    assert "Traceback" not in output
    assert not (tmp_path / "mongo").exists()  # no mongod started, nothing loaded


def test_seeds_never_overwrite_what_the_user_loaded(tmp_path: Path) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(SEEDS, edited)
    seed = sorted(edited.iterdir())[0]
    text = seed.read_text()
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    seed.write_text(text.replace(title, "title: The user's own title"))
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    env["MONGO_DATA_DIR"] = str(tmp_path / "mongo")
    loaded = subprocess.run(
        [sys.executable, "-m", "loaders", "--quiet", str(seed)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    port = free_port()
    process = _start(tmp_path / "mongo", port)
    try:
        body = _wait_until_serving(process, port)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
    titles = [node["title"] for node in body["data"]["articles"]["nodes"]]
    assert titles == ["The user's own title"]
    assert "seeds: not loaded, the database newsgraph already holds 1 articles" in output
