"""A MongoDB outage with a real mongod of the test's own: stopped, the API answers
503 SERVICE_UNAVAILABLE within the request deadline (2.5 s here) and stays up; restarted on the same port, the
same API process serves again."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from loaders.load import load_paths
from storage.mongod import Mongod
from tests.conftest import SEEDS, ServedAPI

QUERY = "{ articles { totalCount nodes { title provider { name } } } }"


def timed_query(api: ServedAPI) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = api.client.post("/graphql", json={"query": QUERY})
    return response, time.monotonic() - started


def test_mongodb_outage_and_recovery(tmp_path: Path, serve_api: Any) -> None:
    mongod = Mongod(tmp_path / "mongo").start()
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(mongod.uri)
        with client:
            assert load_paths(client["outage"], [SEEDS]).errors == []
        # The driver waits for a server until the request's deadline.
        api = serve_api(mongodb_uri=mongod.uri, database="outage", request_deadline_ms=2500)
        assert api.data(QUERY)["articles"]["totalCount"] == 2

        mongod.stop()
        # Twice: the first may meet a dead pooled connection, the second waits
        # for server selection; both must answer within 3 s.
        for _ in range(2):
            response, elapsed = timed_query(api)
            assert elapsed < 3, f"took {elapsed:.1f}s"
            assert response.status_code == 503, response.text
            body = response.json()
            assert {e["extensions"]["code"] for e in body["errors"]} == {"SERVICE_UNAVAILABLE"}
            assert "retry" in body["errors"][0]["message"]
            assert response.headers["cache-control"] == "no-store"
            # The compiled path answers an outage itself, as the reference path does: the
            # same status, code and message. (Whether the error carries the root field's
            # path depends on which fires first, the driver's wait for a server or the
            # request deadline, on either path: a race, not a difference of executors.)
            assert api.reference is not None
            reference = api.reference.client.post("/graphql", json={"query": QUERY})
            assert reference.status_code == response.status_code
            assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
                (e["message"], e["extensions"]["code"]) for e in reference.json()["errors"]
            ]
        assert api.client.get("/healthz").status_code == 200
        assert api.client.get("/readyz").status_code == 503

        mongod = Mongod(tmp_path / "mongo", port=mongod.port).start()
        deadline = time.monotonic() + 30
        while True:
            response, _ = timed_query(api)
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["articles"]["totalCount"] == 2
        # Ready again once search has caught up: its follower (or its build process)
        # retries MongoDB up to 2 s apart.
        assert api.ready(timeout=10)["status"] == "ready"
    finally:
        mongod.stop()
