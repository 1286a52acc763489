"""Losing the primary fails no read: on a real 3-member replica set, the primary is
killed (SIGKILL) under a loop of queries over HTTP; every read is answered, from a
secondary until a new primary is elected. A write (registering a persisted query)
needs the primary, and while there is none says so."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient, WriteConcern
from starlette.applications import Starlette

from api.settings import Settings, SettingsError
from loaders.load import load_paths
from storage.mongod import ReplicaSet
from tests.conftest import SEEDS, ServedAPI

QUERY = "{ articles(first: 5) { totalCount nodes { id title provider { name } } } }"
DATABASE = "failover"
# Reads continue this long after the new primary is elected.
AFTER_ELECTION_S = 1.0
MIN_READS = 200
LOOP_LIMIT_S = 40.0


class ReadLoop:
    """Sequential queries in a thread, each answer recorded, until stopped."""

    def __init__(self, api: ServedAPI) -> None:
        self.client = httpx.Client(base_url=str(api.client.base_url), timeout=10)
        self.answers: list[tuple[float, int, Any]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        deadline = time.monotonic() + LOOP_LIMIT_S
        while not self.stopping.is_set() and time.monotonic() < deadline:
            response = self.client.post("/graphql", json={"query": QUERY})
            self.answers.append((time.monotonic(), response.status_code, response.json()))

    def failures(self) -> list[tuple[float, int, Any]]:
        return [
            (at, status, body)
            for at, status, body in self.answers
            if status != 200 or "errors" in body or body["data"]["articles"]["totalCount"] != 2
        ]

    def wait_for(self, reads: int) -> None:
        deadline = time.monotonic() + LOOP_LIMIT_S
        while len(self.answers) < reads and self.thread.is_alive():
            assert time.monotonic() < deadline
            time.sleep(0.01)


def register(api: ServedAPI, query: str) -> httpx.Response:
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    return api.client.post("/graphql", json={"query": query, "extensions": extensions})


def test_killing_the_primary_fails_no_read(tmp_path: Path, serve_api: Any) -> None:
    with ReplicaSet(tmp_path / "rs", members=3) as replica_set:
        client: MongoClient[dict[str, Any]] = MongoClient(replica_set.uri, tz_aware=True)
        with client:
            assert load_paths(client[DATABASE], [SEEDS]).errors == []
            # Acknowledged by all three members: every secondary holds every article.
            synced = client[DATABASE].get_collection("sync", write_concern=WriteConcern(w=3))
            synced.insert_one({"at": time.time()})
        # A short server selection timeout: a read that waited for a primary would
        # fail well within the election.
        api = serve_api(mongodb_uri=replica_set.uri, database=DATABASE, mongo_timeout_ms=500)
        api.ready()
        loop = ReadLoop(api)
        loop.thread.start()
        try:
            loop.wait_for(50)
            primary = replica_set.primary()
            assert primary is not None
            primary.kill()
            killed_at = time.monotonic()

            refused = register(api, "{ during: articles { totalCount } }")
            new_primary = replica_set.wait_for_primary(timeout=30)
            elected_at = time.monotonic()
            assert new_primary is not primary
            time.sleep(AFTER_ELECTION_S)
            loop.wait_for(MIN_READS)
        finally:
            loop.stopping.set()
            loop.thread.join(15)
            loop.client.close()

        during = [answer for answer in loop.answers if killed_at <= answer[0] <= elected_at]
        assert during, "no read was made while there was no primary"
        assert loop.failures() == []
        assert len(loop.answers) >= MIN_READS

        # A registration waits for the new primary within the request deadline; only an
        # election that outlasts the deadline refuses it, and says why.
        if refused.status_code == 200:
            assert refused.json()["data"] == {"during": {"totalCount": 2}}, refused.text
        else:
            assert refused.status_code == 503, refused.text
            (error,) = refused.json()["errors"]
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert "needs the MongoDB primary" in error["message"]
            assert refused.headers["retry-after"] == "5"
        # With a primary again, registration works.
        registered = register(api, "{ after: articles { totalCount } }")
        assert registered.json()["data"] == {"after": {"totalCount": 2}}
        # Throwaway data: a member asked to stop would wait 15 s in quiesce mode.
        for member in replica_set.members:
            member.kill()


def test_read_preference_settings() -> None:
    assert Settings.from_env({}).mongo_read_preference == "primaryPreferred"
    assert Settings.from_env({}).mongo_max_staleness_s is None
    chosen = Settings.from_env(
        {"MONGO_READ_PREFERENCE": "secondarypreferred", "MONGO_MAX_STALENESS_S": "120"}
    )
    assert (chosen.mongo_read_preference, chosen.mongo_max_staleness_s) == (
        "secondaryPreferred",
        120,
    )
    for env, named in [
        ({"MONGO_READ_PREFERENCE": "fastest"}, "MONGO_READ_PREFERENCE='fastest'"),
        ({"MONGO_MAX_STALENESS_S": "10"}, "90 or more"),
        ({"MONGO_READ_PREFERENCE": "primary", "MONGO_MAX_STALENESS_S": "90"}, "primary"),
    ]:
        with pytest.raises(SettingsError, match=named):
            Settings.from_env(env)


def test_the_api_reads_with_the_configured_preference(serve_api: Any) -> None:
    api = serve_api(mongo_read_preference="secondaryPreferred", mongo_max_staleness_s=120)
    app = api.server.config.app
    assert isinstance(app, Starlette)
    preference = app.state.mongo.read_preference
    assert (preference.mongos_mode, preference.max_staleness) == ("secondaryPreferred", 120)
    assert serve_api().server.config.app.state.mongo.read_preference.mongos_mode == (
        "primaryPreferred"
    )
