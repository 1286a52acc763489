"""The loader rides out an election: a real 3-member replica set of the embedded
mongod, its primary killed with SIGKILL while a load is writing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import AutoReconnect, OperationFailure

from loaders.failover import Failover, NoPrimary
from storage.mongod import ReplicaSet
from tests.articles import article
from tests.conftest import ROOT

ARTICLES = 4000
PROVIDERS = 7


def _write_corpus(directory: Path) -> None:
    directory.mkdir(parents=True)
    for n in range(ARTICLES):
        provider = {"name": f"Provider {n % PROVIDERS}", "domain": f"p{n % PROVIDERS}.example"}
        (directory / f"{n:05d}.json").write_text(json.dumps(article(n, provider=provider)))


def _count(uri: str) -> int:
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=2000)
    try:
        return client.failover.articles.estimated_document_count()
    finally:
        client.close()


def test_a_load_survives_its_primary_being_killed(tmp_path: Path) -> None:
    _write_corpus(tmp_path / "in")
    with ReplicaSet(tmp_path / "rs") as replica_set:
        primary = replica_set.wait_for_primary()
        env = {**os.environ, "MONGODB_URI": replica_set.uri, "NEWSGRAPH_DB": "failover"}
        env["LOADER_PRIMARY_WAIT"] = "45"
        loader = subprocess.Popen(
            [sys.executable, "-m", "loaders", "--quiet", "--workers", "1", "--batch-size", "50",
             str(tmp_path / "in")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while _count(primary.uri + "&readPreference=primaryPreferred") < ARTICLES // 8:
                assert loader.poll() is None, loader.communicate()
                assert time.monotonic() < deadline, "the load did not start writing"
                time.sleep(0.05)
            primary.kill()  # mid-load, without warning
            killed_at = _count(replica_set.uri + "&readPreference=secondaryPreferred")
            stdout, stderr = loader.communicate(timeout=50)
        finally:
            if loader.poll() is None:
                loader.kill()
        assert killed_at < ARTICLES, "the load was over before the primary was killed"
        assert loader.returncode == 0, stderr
        # One run, exact counts, and it said what it was doing.
        assert f"articles inserted {ARTICLES}, updated 0, unchanged 0, rejected 0" in stdout
        assert "MongoDB has no primary" in stderr and "waiting up to 45 s" in stderr
        assert "resuming" in stderr
        assert "Is mongod running there?" not in stderr

        new_primary = replica_set.wait_for_primary()
        assert new_primary is not primary
        client: MongoClient[dict[str, Any]] = MongoClient(replica_set.uri)
        try:
            db = client.failover
            assert db.articles.count_documents({}) == ARTICLES
            counts = {d["_id"]: d["articleCount"] for d in db.providers.find()}
            per_provider = {
                f"p{p}.example": len(range(p, ARTICLES, PROVIDERS)) for p in range(PROVIDERS)
            }
            assert counts == per_provider
            assert db.loadPending.count_documents({}) == 0
            assert "mentioned_in" in {index["name"] for index in db.articles.list_indexes()}
        finally:
            client.close()


def test_failover_waits_up_to_its_limit_and_says_so_once() -> None:
    said: list[str] = []
    failures = iter([AutoReconnect("primary gone"), AutoReconnect("still electing")])

    def flaky() -> str:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return "written"

    failover = Failover(wait=10, say=said.append)
    assert failover.call(flaky) == "written"
    assert len(said) == 2
    assert said[0].startswith("MongoDB has no primary (primary gone): waiting up to 10 s")
    assert said[1] == "MongoDB has a primary again: resuming the load"

    def gone() -> None:
        raise AutoReconnect("connection refused")

    started = time.monotonic()
    with pytest.raises(NoPrimary, match="no primary for 1 s; last error: connection refused"):
        Failover(wait=1, say=said.append).call(gone)
    assert 1 <= time.monotonic() - started < 3

    def wrong() -> None:
        raise OperationFailure("bad query", code=2)

    with pytest.raises(OperationFailure):  # not an election: no waiting
        Failover(wait=10, say=said.append).call(wrong)
