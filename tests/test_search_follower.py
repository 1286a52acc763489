"""The follower keeps the index equal to MongoDB: inserts and updates within 2 s, a
restart resumes from its stored token, a lost history or a dropped collection
rebuilds, and a replica-set election is survived."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient
from pymongo.database import Database
from pymongo.errors import OperationFailure, PyMongoError

from api.search import follower as follower_module
from api.search.child import BuildCommand
from api.search.follower import Follower
from api.search.index import SearchIndex
from loaders.load import Report
from tests.articles import article, write_article
from tests.conftest import ServedAPI
from tests.search_oracle import wait_searchable

TITLES = "{ search(query: $q, first: 50) { totalCount nodes { title } } }"
QUERY = "query($q: String!) " + TITLES


def titles(api: ServedAPI, q: str) -> list[str]:
    return [n["title"] for n in api.data(QUERY, {"q": q})["search"]["nodes"]]


def add(tmp_path: Path, load: Callable[..., Report], *docs: tuple[int, str]) -> None:
    directory = tmp_path / f"batch-{time.monotonic_ns()}"
    for n, title in docs:
        write_article(directory, f"{n}.txt", article(n, title=title))
    assert load(directory).errors == []


def until_found(api: ServedAPI, q: str, title: str, timeout: float) -> float:
    started = time.monotonic()
    while title not in titles(api, q):
        elapsed = time.monotonic() - started
        assert elapsed < timeout, f"{title!r} not searchable after {elapsed:.1f} s"
        time.sleep(0.02)
    return time.monotonic() - started


def metric(api: ServedAPI, name: str) -> float:
    for line in api.client.get("/metrics").text.splitlines():
        if line.startswith(f"newsgraph_search_{name} "):
            return float(line.split()[1])
    raise AssertionError(f"no metric newsgraph_search_{name}")


def test_inserts_and_updates_are_searchable_within_2_seconds(
    tmp_path: Path, load: Callable[..., Report], api: ServedAPI
) -> None:
    add(tmp_path, load, (1, "Volcano erupts near the coast"))
    wait_searchable(api, 1)
    add(tmp_path, load, (2, "Glacier melts faster than feared"))
    assert until_found(api, "glacier", "Glacier melts faster than feared", 2.0) < 2.0
    add(tmp_path, load, (2, "Iceberg calves off the shelf"))  # the same URL: an update
    assert until_found(api, "iceberg", "Iceberg calves off the shelf", 2.0) < 2.0
    assert titles(api, "glacier") == []
    assert metric(api, "documents") == 2


def test_a_restart_resumes_from_its_token(
    tmp_path: Path, load: Callable[..., Report], serve_api: Callable[..., ServedAPI]
) -> None:
    directory = tmp_path / "index"
    first = serve_api(search_index_dir=directory)
    add(tmp_path, load, (1, "Harbour reopens"), (2, "Harbour closes"))
    wait_searchable(first, 2)
    first.close()
    add(tmp_path, load, (3, "Harbour floods"))  # while no API runs
    again = serve_api(search_index_dir=directory)
    wait_searchable(again, 3)
    assert sorted(titles(again, "harbour")) == [
        "Harbour closes",
        "Harbour floods",
        "Harbour reopens",
    ]
    # Caught up from the token: one change applied, no build.
    assert metric(again, "changes") == 1 and metric(again, "rebuilds") == 0


def test_a_dropped_collection_rebuilds(
    tmp_path: Path,
    load: Callable[..., Report],
    serve_api: Callable[..., ServedAPI],
    db: Database[dict[str, Any]],
) -> None:
    directory = tmp_path / "index"
    first = serve_api(search_index_dir=directory)
    add(tmp_path, load, (1, "Orchard blooms"))
    wait_searchable(first, 1)
    first.close()
    db.drop_collection("articles")  # the stored token now leads to an invalidate
    add(tmp_path, load, (2, "Orchard harvest"))
    again = serve_api(search_index_dir=directory)
    wait_searchable(again, 1)
    assert titles(again, "orchard") == ["Orchard harvest"]
    assert metric(again, "rebuilds") == 1


class _HistoryLostOnce:
    """The real collection, except that the first resume from a token fails as
    MongoDB fails it when the token has fallen off the oplog (which a fresh
    single-node replica set, whose oplog has never been truncated, cannot show)."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection
        self.refused = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)

    async def watch(self, **options: Any) -> Any:
        if options.get("resume_after") and not self.refused:
            self.refused = True
            raise OperationFailure("Resume of change stream was not possible", code=286)
        return await self.collection.watch(**options)


def test_an_expired_token_rebuilds(
    tmp_path: Path, load: Callable[..., Report], mongo_uri: str, db_name: str
) -> None:
    add(tmp_path, load, (1, "Canal"), (2, "Canal lock"))

    async def scenario() -> tuple[int, int]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
        directory = tmp_path / "index"
        index = SearchIndex(directory, db_name, 20 * 2**20)
        # Built from this very collection, up to a token MongoDB will refuse.
        info = await (await client[db_name].list_collections(filter={"name": "articles"})).next()
        index.source = str(info["info"]["uuid"])
        index.save_token({"_data": "8200000001000000012B0229296E04"})
        articles = _HistoryLostOnce(client[db_name]["articles"])
        command = BuildCommand(mongo_uri, db_name, directory, 20 * 2**20, 5000)
        follower = Follower(index, articles, command)  # type: ignore[arg-type]
        follower.start()
        deadline = time.monotonic() + 10
        while index.documents < 2 or follower.progress.state != "current":
            assert time.monotonic() < deadline, follower.progress
            await asyncio.sleep(0.05)
        found = follower.progress.rebuilds, index.documents
        await follower.stop()
        await client.close()
        return found

    rebuilds, documents = asyncio.run(scenario())
    assert (rebuilds, documents) == (1, 2)


def _primary_again(client: MongoClient[dict[str, Any]], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.admin.command("hello").get("isWritablePrimary"):
                return
        except PyMongoError:
            pass
        time.sleep(0.1)
    raise AssertionError("no primary again after the step-down")


def test_a_step_down_is_survived(
    tmp_path: Path,
    load: Callable[..., Report],
    api: ServedAPI,
    mongo_client: MongoClient[dict[str, Any]],
) -> None:
    add(tmp_path, load, (1, "Lighthouse keeper"))
    wait_searchable(api, 1)
    # A real election: the single member steps down for 2 s, then is elected again
    # (the primary may drop the connection as it steps down).
    with contextlib.suppress(PyMongoError):
        mongo_client.admin.command("replSetStepDown", 2, force=True)
    _primary_again(mongo_client)
    add(tmp_path, load, (2, "Lighthouse storm"))
    until_found(api, "lighthouse", "Lighthouse storm", 8.0)
    assert metric(api, "rebuilds") == 0 and api.client.get("/readyz").status_code == 200


def test_a_malformed_stored_article_is_left_out_not_the_index(
    tmp_path: Path,
    load: Callable[..., Report],
    serve_api: Callable[..., ServedAPI],
    db: Database[dict[str, Any]],
) -> None:
    """Stored values the loader never writes (its validator bypassed): the article
    without a date is left out of search, with a warning; a wrong type elsewhere is
    indexed as missing; the rest is searched, in the build and in the stream."""
    add(tmp_path, load, (1, "Meadow flowers"), (2, "Meadow sheep"), (3, "Meadow fence"))
    spoil = {"bypass_document_validation": True}
    db.articles.update_one(
        {"title": "Meadow sheep"}, {"$set": {"publishedDateTime": None}}, **spoil
    )
    db.articles.update_one({"title": "Meadow fence"}, {"$set": {"excerpt": 7, "heat": "hot", "published": "yes"}}, **spoil)  # fmt: skip
    api = serve_api()
    wait_searchable(api, 2)
    assert sorted(titles(api, "meadow")) == ["Meadow fence", "Meadow flowers"]
    db.articles.update_one({"title": "Meadow flowers"}, {"$set": {"publishedDateTime": "soon"}}, **spoil)  # fmt: skip
    add(tmp_path, load, (4, "Meadow stream"))
    until_found(api, "meadow", "Meadow stream", 2.0)
    assert sorted(titles(api, "meadow")) == ["Meadow fence", "Meadow stream"]


def _argv_once(monkeypatch: pytest.MonkeyPatch, directory: Path, script: str) -> None:
    """The first build process of the API indexing into ``directory`` runs
    ``script`` instead of api.search.build; every later one is the real build."""
    real = BuildCommand.argv
    replaced: list[bool] = []

    def argv(command: BuildCommand) -> list[str]:
        if command.directory == directory and not replaced:
            replaced.append(True)
            return [sys.executable, "-c", script]
        return real(command)

    monkeypatch.setattr(BuildCommand, "argv", argv)


def test_a_build_process_that_dies_is_reported_and_retried(
    tmp_path: Path,
    load: Callable[..., Report],
    serve_api: Callable[..., ServedAPI],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    add(tmp_path, load, (1, "Meteor shower"))
    directory = tmp_path / "index"
    _argv_once(monkeypatch, directory, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    monkeypatch.setattr(follower_module, "BUILD_RETRY_SECONDS", 2.0)
    api = serve_api(search_index_dir=directory)
    deadline = time.monotonic() + 10
    while "lastError" not in (search := api.client.get("/readyz").json()["search"]):
        assert time.monotonic() < deadline, search
        time.sleep(0.02)
    assert search["state"] == "retrying" and "killed by SIGKILL" in search["lastError"], search
    assert any(
        r.levelname == "ERROR" and "killed by SIGKILL" in r.getMessage() for r in caplog.records
    )
    wait_searchable(api, 1)  # retried: the real build
    assert titles(api, "meteor") == ["Meteor shower"]
    assert api.client.get("/readyz").status_code == 200
    assert metric(api, "build_peak_rss_bytes") > 0


# A build process that reports progress, then waits (for its stdin to close).
SLOW_BUILD = """
import json, os, sys
open(sys.argv[1], "w").write(str(os.getpid()))
print(json.dumps({"toIndex": 7}))
print(json.dumps({"indexed": 3}), flush=True)
sys.stdin.read()
"""


def test_readyz_shows_the_build_process_progress_and_stop_ends_it(
    tmp_path: Path,
    load: Callable[..., Report],
    serve_api: Callable[..., ServedAPI],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add(tmp_path, load, (1, "Comet"))
    directory = tmp_path / "index"
    pid_file = tmp_path / "pid"
    _argv_once(monkeypatch, directory, SLOW_BUILD.replace("sys.argv[1]", repr(str(pid_file))))
    api = serve_api(search_index_dir=directory)
    deadline = time.monotonic() + 10
    while (response := api.client.get("/readyz")).json()["search"].get("indexed") != 3:
        assert time.monotonic() < deadline, response.json()
        time.sleep(0.02)
    search = response.json()["search"]
    assert response.status_code == 503
    assert (search["state"], search["indexed"], search["toIndex"]) == ("building", 3, 7)
    pid = int(pid_file.read_text())
    api.close()
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(pid, 0)
