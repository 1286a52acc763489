"""Whole runs: re-runs, a kill -9 mid-run, dry-run and strict modes, the validator,
the indexes, and the command line (exit codes, report, standard input)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bson
import pytest
from bson.raw_bson import RawBSONDocument
from pymongo import InsertOne, MongoClient
from pymongo.database import Database
from pymongo.errors import WriteError
from pymongo.monitoring import CommandListener, CommandStartedEvent

from bench.load import children_by_parent
from loaders.inputs import Task
from loaders.load import LoadOptions, load_paths
from loaders.parse import Parsed, parse_task
from loaders.writer import _bulk_write, ensure_indexes
from storage.contract import LOAD_PENDING
from storage.mongod import free_port
from tests.articles import article, write_article

ROOT = Path(__file__).resolve().parent.parent
Db = Database[dict[str, Any]]
DERIVED = ("providers", "topics", "categories", "providerTopics", "topicPairs")


def loader(*args: str, uri: str, db_name: str, **popen: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "MONGODB_URI": uri, "NEWSGRAPH_DB": db_name}
    return subprocess.Popen(
        [sys.executable, "-m", "loaders", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,
    )  # fmt: skip


def run_loader(
    *args: str, uri: str, db_name: str, stdin: str | None = None
) -> tuple[int, str, str]:
    process = loader(*args, uri=uri, db_name=db_name, stdin=subprocess.PIPE if stdin else None)
    out, err = process.communicate(stdin, timeout=120)
    return process.returncode, out, err


def state(db: Db) -> dict[str, list[dict[str, Any]]]:
    """Everything a run leaves behind, minus the recount stamps."""
    snapshot = {"articles": list(db.articles.find({}, {"contentHash": 1}).sort("_id"))}
    for name in DERIVED:
        snapshot[name] = list(db[name].find({}, {"run": 0}).sort("_id"))
    return snapshot


EARLY = 40


def corpus(directory: Path, count: int, moved: bool) -> None:
    """count articles over a few providers and topics. The first EARLY articles are
    the only ones of provider early.example and topic Early; ``moved`` moves them to
    moved.example and Moved, and retitles all the others (work to do after them)."""
    for n in range(count):
        provider = {"name": f"P{n % 5}", "domain": f"p{n % 5}.example"}
        topics = [f"T{n % 7}", f"t{(n + 1) % 7}"]
        title = f"Article number {n}" + (" (revised)" if moved else "")
        if n < EARLY:
            provider = {"name": "Early", "domain": "early.example"}
            topics = ["Early", f"T{n % 7}"]
            if moved:
                provider = {"name": "Moved", "domain": "moved.example"}
                topics = ["Moved", f"T{n % 7}"]
        doc = article(n, provider=provider, topics=topics, title=title)
        write_article(directory, f"{n // 100:02d}/{n:05d}.txt", doc)


def test_a_kill_9_mid_run_then_a_rerun_ends_as_one_clean_run(
    tmp_path: Path, mongo_uri: str, mongo_client: MongoClient[dict[str, Any]], db_name: str
) -> None:
    db = mongo_client[db_name]
    inputs = tmp_path / "in"
    corpus(inputs, 600, moved=False)
    assert load_paths(db, [inputs]).inserted == 600
    corpus(inputs, 600, moved=True)  # a third of the articles change provider and topics

    process = loader(
        "--quiet",
        "--workers",
        "2",
        "--batch-size",
        "20",
        str(inputs),
        uri=mongo_uri,
        db_name=db_name,
    )
    deadline = time.monotonic() + 120
    while db.articles.count_documents({"provider.domain": "moved.example"}) < EARLY:
        assert process.poll() is None, "the loader finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    workers = parsing_workers(process.pid)
    assert workers, "the parsing workers were not found"
    process.send_signal(signal.SIGKILL)
    process.wait()
    # Its workers leave with it, instead of waiting for its next chunk forever.
    while any(Path(f"/proc/{worker}").exists() for worker in workers):
        assert time.monotonic() < deadline, "the workers outlived the killed loader"
        time.sleep(0.05)
    # Killed after the moves were written and before their recount: the re-run
    # finds these articles unchanged; only the pending keys say what to recount.
    assert db[LOAD_PENDING].count_documents({}) > 0
    assert db.providers.find_one({"_id": "moved.example"}) is None
    assert db.providers.find_one({"_id": "early.example"})["articleCount"] == EARLY  # type: ignore[index]

    rerun = load_paths(db, [inputs])
    assert rerun.errors == []
    assert db[LOAD_PENDING].count_documents({}) == 0

    clean = mongo_client[f"{db_name}_clean"]
    try:
        load_paths(clean, [inputs])
        assert state(db) == state(clean)
    finally:
        mongo_client.drop_database(clean.name)
    assert db.providers.find_one({"_id": "moved.example"})["articleCount"] == EARLY  # type: ignore[index]
    assert db.providers.find_one({"_id": "early.example"}) is None


def parsing_workers(loader: int) -> list[int]:
    """The loader's parsing workers: its forkserver's children."""
    children = children_by_parent()
    return [worker for child in children.get(loader, []) for worker in children.get(child, [])]


def test_a_worker_killed_mid_run_stops_the_load_with_a_clear_error(
    tmp_path: Path, mongo_uri: str, mongo_client: MongoClient[dict[str, Any]], db_name: str
) -> None:
    db = mongo_client[db_name]
    inputs = tmp_path / "in"
    corpus(inputs, 6000, moved=False)  # small batches: parsing waits on writing throughout
    process = loader(
        "--quiet", "--workers", "2", "--batch-size", "20", str(inputs),
        uri=mongo_uri, db_name=db_name,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while db.articles.estimated_document_count() < 20:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    workers = parsing_workers(process.pid)
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2, err
    assert "a parsing worker process died" in err
    assert "Traceback" not in err
    # As after any interrupted run, running again finishes the job.
    rerun = load_paths(db, [inputs])
    assert rerun.errors == []
    assert db.articles.count_documents({}) == 6000
    assert db[LOAD_PENDING].count_documents({}) == 0


def test_a_second_run_changes_nothing(tmp_path: Path, db: Db) -> None:
    corpus(tmp_path, 40, moved=False)
    (tmp_path / "more.jsonl").write_text(json.dumps(article(900)) + "\n")
    first = load_paths(db, [tmp_path])
    before = state(db)
    second = load_paths(db, [tmp_path])
    assert (first.inserted, second.inserted, second.updated, second.unchanged) == (41, 0, 0, 41)
    assert state(db) == before


def test_dry_run_writes_nothing(tmp_path: Path, db: Db) -> None:
    corpus(tmp_path, 5, moved=False)
    (tmp_path / "bad.txt").write_text("no front matter\n")
    report = load_paths(None, [tmp_path], LoadOptions(dry_run=True))
    assert (report.valid, report.rejected) == (5, 1)
    assert db.client[db.name].list_collection_names() == []


def test_strict_writes_nothing_when_an_input_is_rejected(tmp_path: Path, db: Db) -> None:
    corpus(tmp_path, 5, moved=False)
    (tmp_path / "bad.txt").write_text("no front matter\n")
    report = load_paths(db, [tmp_path], LoadOptions(strict=True))
    assert report.rejected == 1
    assert db.articles.count_documents({}) == 0
    (tmp_path / "bad.txt").unlink()
    report = load_paths(db, [tmp_path], LoadOptions(strict=True))
    assert (report.inserted, report.rejected) == (5, 0)
    assert db.articles.count_documents({}) == 5


def test_the_validator_refuses_a_broken_article_from_any_writer(db: Db) -> None:
    ensure_indexes(db)
    good = {
        "_id": "x1", "webUrl": "https://a.example/1", "canonicalUrl": "https://a.example/1",
        "title": "T", "publishedDateTime": __import__("datetime").datetime(2024, 1, 1),
        "provider": {"name": "A", "domain": "a.example"}, "topics": [], "topicKeys": [],
        "contentHash": "h",
    }  # fmt: skip
    db.articles.insert_one(good)
    broken = [
        {"title": ""},
        {"webUrl": "not a url"},
        {"publishedDateTime": "2024-01-01"},
        {"quality": -1},
        {"provider": {"name": "A"}},
    ]
    for number, change in enumerate(broken):
        with pytest.raises(WriteError) as refused:
            db.articles.insert_one({**good, "_id": f"bad{number}", **change})
        assert refused.value.code == 121  # DocumentValidationFailure
    missing = {key: value for key, value in good.items() if key != "title"}
    with pytest.raises(WriteError):
        db.articles.insert_one({**missing, "_id": "bad-missing"})


class Commands(CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


def test_a_second_run_does_not_rebuild_indexes_or_the_validator(
    mongo_uri: str, db_name: str
) -> None:
    commands = Commands()
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, event_listeners=[commands])
    try:
        ensure_indexes(client[db_name])
        assert "createIndexes" in commands.names and "create" in commands.names
        commands.names.clear()
        ensure_indexes(client[db_name])
        assert not {"createIndexes", "collMod", "create"} & set(commands.names)
        assert "published_desc" in client[db_name].articles.index_information()
    finally:
        client.close()


def test_the_retired_text_index_is_dropped_and_not_rebuilt(db: Db) -> None:
    # A database loaded before search moved to its own engine carries MongoDB's text index.
    db.articles.create_index([("title", "text"), ("excerpt", "text")], name="text")
    ensure_indexes(db)
    names = set(db.articles.index_information())
    assert "text" not in names
    assert {"published_desc", "mentioned_in"} <= names


def test_cli_exit_codes_report_and_stdin(tmp_path: Path, mongo_uri: str, db_name: str) -> None:
    corpus(tmp_path / "in", 3, moved=False)
    code, out, err = run_loader(str(tmp_path / "in"), uri=mongo_uri, db_name=db_name)
    assert (code, err) == (0, "")
    assert "articles inserted 3" in out

    (tmp_path / "in" / "bad.txt").write_text("---\ntitle: x\n")
    report_file = tmp_path / "report.json"
    code, out, err = run_loader(
        "--quiet",
        "--report",
        str(report_file),
        str(tmp_path / "in"),
        uri=mongo_uri,
        db_name=db_name,
    )
    assert code == 1
    assert f"{tmp_path / 'in' / 'bad.txt'}:1: front matter is not closed" in err
    report = json.loads(report_file.read_text())
    assert report["totals"]["unchanged"] == 3 and report["totals"]["rejected"] == 1
    outcomes = {Path(entry["input"]).name: entry["outcome"] for entry in report["inputs"]}
    assert outcomes == {
        "00000.txt": "unchanged",
        "00001.txt": "unchanged",
        "00002.txt": "unchanged",
        "bad.txt": "rejected",
    }

    lines = json.dumps(article(50)) + "\n" + json.dumps(article(51)) + "\n"
    code, out, _ = run_loader("--format", "jsonl", "-", uri=mongo_uri, db_name=db_name, stdin=lines)
    assert code == 0 and "articles inserted 2" in out


def test_cli_says_which_mongodb_it_could_not_reach_without_the_password(
    tmp_path: Path, db_name: str
) -> None:
    write_article(tmp_path, "a.txt", article(1))
    uri = f"mongodb://reader:s3cret@127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300"
    code, _, err = run_loader(str(tmp_path), uri=uri, db_name=db_name)
    assert code == 2
    assert "MongoDB at mongodb://reader:***@127.0.0.1:" in err
    assert "s3cret" not in err
    code, _, err = run_loader("--workers", "0", str(tmp_path), uri=uri, db_name=db_name)
    assert code == 2 and "--workers" in err


def test_a_small_change_recounts_only_its_keys_and_drops_stale_rows(
    tmp_path: Path, mongo_client: MongoClient[dict[str, Any]], db: Db
) -> None:
    def write(first_topics: list[str], first_provider: str) -> None:
        for n in range(30):
            provider = {"name": f"P{n % 10}", "domain": f"p{n % 10}.example"}
            topics = [f"T{n % 10}", f"T{(n + 3) % 10}"]
            if n == 0:
                provider, topics = {"name": "X", "domain": first_provider}, first_topics
            write_article(
                tmp_path,
                f"{n:02d}.txt",
                article(n, provider=provider, topics=topics, category=f"c{n % 10}"),
            )

    write(["Solo A", "Solo B"], "solo.example")
    load_paths(db, [tmp_path])
    assert db.topicPairs.find_one({"_id": "solo a|solo b"}) is not None
    write(["Fresh"], "fresh.example")
    before = {d["_id"]: d["run"] for d in db.providers.find()}
    assert load_paths(db, [tmp_path]).updated == 1
    after = {d["_id"]: d["run"] for d in db.providers.find()}
    # Only the new provider was recounted (the old one has no article left): targeted.
    assert {key for key in after if after[key] != before.get(key)} == {"fresh.example"}
    assert "solo.example" not in after
    clean = mongo_client[f"{db.name}_clean"]
    try:
        load_paths(clean, [tmp_path])
        assert state(db) == state(clean)
    finally:
        mongo_client.drop_database(clean.name)


def test_a_write_conflict_or_a_refused_document_does_not_fail_the_batch(
    tmp_path: Path, db: Db
) -> None:
    ensure_indexes(db)
    path = write_article(tmp_path, "a.txt", article(1))
    (parsed,) = parse_task(Task(str(path), "frontmatter", 2**20, path=str(path)))
    assert isinstance(parsed, Parsed)
    # Someone else inserted the same article after we looked: ours replaces it.
    db.articles.insert_one({**bson.decode(parsed.bson), "title": "Theirs"})
    broken_doc = {**bson.decode(parsed.bson), "_id": "broken", "title": ""}
    broken = parsed._replace(id="broken", bson=bson.encode(broken_doc))
    writes = [InsertOne(RawBSONDocument(parsed.bson)), InsertOne(RawBSONDocument(broken.bson))]
    outcomes: dict[str, str] = {}
    _bulk_write(db.articles, writes, [parsed, broken], outcomes)
    assert outcomes[parsed.id] == "updated"
    assert outcomes["broken"].startswith("rejected: refused by the articles validator")
    assert [d["title"] for d in db.articles.find()] == ["Article number 1"]
