"""The loader against a real mongod: fields, ids, repairs, errors, reloads."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo.database import Database

from loaders.normalise import repair_text
from loaders.urls import article_id, canonical_url
from tests.articles import article, write_article
from tests.conftest import ROOT, SEEDS

STANDARD_URL = "https://www.standard.co.uk/news/crime/first-arrest-live-facial-recognition-met-police-a4373781.html"


def test_seed_fields_land_where_they_should(load: Any, db: Database[dict[str, Any]]) -> None:
    report = load(SEEDS)
    assert (report.files, report.inserted, report.rejected) == (2, 2, 0)

    doc = db.articles.find_one({"webUrl": STANDARD_URL})
    assert doc is not None
    assert doc["_id"] == article_id(canonical_url(STANDARD_URL))
    assert doc["title"].startswith("Woman, 35, arrested in UK first")
    assert doc["category"] == "news"
    assert doc["type"] == "article"
    assert doc["publishedDateTime"] == datetime(2020, 2, 27, 21, 48, tzinfo=UTC)
    assert (doc["quality"], doc["heat"], doc["published"]) == (32, 32, False)
    assert doc["provider"] == {"name": "Evening Standard", "domain": "standard.co.uk"}
    assert doc["topics"] == ["AI", "Computer Vision"]
    assert doc["topicKeys"] == ["ai", "computer vision"]
    assert doc["images"][0]["width"] == 1620
    assert doc["images"][0]["height"] == 1080
    assert doc["secured"].startswith("h3p7oUJpaYLUqFWsivNM1m5b3wA1")
    related = doc["related"][0]
    assert related["provider"] == {"name": "Mirror", "domain": "mirror.co.uk"}
    assert related["publishedDateTime"] == datetime(2020, 2, 27, 20, 37, tzinfo=UTC)
    assert related["quality"] == 9

    other = db.articles.find_one({"provider.domain": "newsoneplace.com"})
    assert other is not None
    assert other["originalUrl"] == other["webUrl"]
    assert other["images"][0]["isCached"] is True
    amp = other["related"][0]
    assert amp["ampWebUrl"].startswith("https://www.dailymail.co.uk/news/article-9253037/amp/")
    assert amp["cdnAmpWebUrl"].startswith("https://www-dailymail-co-uk.cdn.ampproject.org/")
    assert amp["images"][0] == {
        "url": "https://i.dailymail.co.uk/1s/2021/02/12/09/39204946-0-image-a-27_1613123937273.jpg",
        "width": 636,
        "height": 382,
        "isCached": True,
    }


def test_mojibake_is_repaired_and_clean_text_kept(load: Any, db: Database[dict[str, Any]]) -> None:
    load(SEEDS)
    doc = db.articles.find_one({"webUrl": STANDARD_URL})
    assert doc is not None
    excerpt = doc["related"][0]["excerpt"]
    assert "‘serious crime'" in excerpt
    assert "â€" not in excerpt
    clean = "“Quoted” – dashes — and ‘curly’ quotes, café, naïve, 日本"
    assert repair_text(clean) == clean


def test_reloading_leaves_the_same_documents(load: Any, db: Database[dict[str, Any]]) -> None:
    load(SEEDS)
    before = sorted(db.articles.find({}, {"_id": 1, "contentHash": 1}), key=lambda d: d["_id"])
    report = load(SEEDS)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 2)
    after = sorted(db.articles.find({}, {"_id": 1, "contentHash": 1}), key=lambda d: d["_id"])
    assert after == before
    assert db.articles.count_documents({}) == 2


def test_id_is_derived_from_the_canonical_url() -> None:
    a = canonical_url("HTTPS://WWW.Example.COM/a/B?x=1&utm_source=tw&utm_medium=s#top")
    assert a == "https://www.example.com/a/B?x=1"
    assert article_id(a) == article_id(canonical_url("https://www.example.com/a/B?x=1"))
    assert article_id(a) != article_id(canonical_url("https://www.example.com/a/b?x=1"))


def test_a_changed_file_updates_its_article_in_place(
    tmp_path: Path, load: Any, db: Database[dict[str, Any]]
) -> None:
    path = write_article(tmp_path, "a.txt", article(1))
    load(tmp_path)
    (doc_id,) = [d["_id"] for d in db.articles.find()]
    write_article(tmp_path, "a.txt", article(1, title="A better title"))
    report = load(path)
    assert (report.inserted, report.updated) == (0, 1)
    assert [(d["_id"], d["title"]) for d in db.articles.find()] == [(doc_id, "A better title")]


def test_counts_follow_the_articles(
    tmp_path: Path, load: Any, db: Database[dict[str, Any]]
) -> None:
    write_article(tmp_path, "a.txt", article(1, topics=["AI", "ai", "Robots"]))
    write_article(tmp_path, "b.txt", article(2, topics=["ai"]))
    write_article(tmp_path, "c.txt", article(3, topics=["Ai"], provider={"name": "Ex"}))
    load(tmp_path)
    topics = {d["_id"]: (d["name"], d["articleCount"]) for d in db.topics.find()}
    # One spelling each (a duplicate within an article counts once): the tie goes
    # to the alphabetically first spelling.
    assert topics == {"ai": ("AI", 3), "robots": ("Robots", 1)}
    provider = db.providers.find_one({"_id": "example.com"})
    assert provider is not None
    assert (provider["name"], provider["articleCount"]) == ("Example News", 3)
    # Moving an article to another topic moves its count.
    write_article(tmp_path, "b.txt", article(2, topics=["Robots"]))
    load(tmp_path)
    topics = {d["_id"]: d["articleCount"] for d in db.topics.find()}
    assert topics == {"ai": 2, "robots": 2}


def test_a_broken_file_is_reported_and_the_good_ones_load(
    tmp_path: Path, load: Any, db: Database[dict[str, Any]]
) -> None:
    write_article(tmp_path, "good1.txt", article(1))
    (tmp_path / "broken.txt").write_text("---\ntitle: [unclosed\n---\n")
    (tmp_path / "nofm.txt").write_text("just text\n")
    write_article(tmp_path, "good2.md", article(2))
    write_article(tmp_path, "nourl.txt", article(3, webUrl="not a url"))
    report = load(tmp_path)
    assert report.inserted == 2
    assert db.articles.count_documents({}) == 2
    errors = "\n".join(report.errors)
    assert f"{tmp_path / 'broken.txt'}:" in errors
    assert "YAML syntax error" in errors
    assert f"{tmp_path / 'nofm.txt'}:1: no front matter" in errors
    assert f"{tmp_path / 'nourl.txt'}:6: webUrl: not an absolute http(s) URL" in errors


def test_cli_reports_and_sets_the_exit_code(tmp_path: Path, mongo_uri: str, db_name: str) -> None:
    write_article(tmp_path, "good.txt", article(1))
    env = {**os.environ, "MONGODB_URI": mongo_uri, "NEWSGRAPH_DB": db_name}
    ok = subprocess.run(
        [sys.executable, "-m", "loaders", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "files read 1, articles inserted 1" in ok.stdout

    (tmp_path / "bad.txt").write_bytes(b"---\ntitle: \xff\xfe\n---\n")
    bad = subprocess.run(
        [sys.executable, "-m", "loaders", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert f"{tmp_path / 'bad.txt'}:2: not UTF-8" in bad.stderr
    assert "unchanged 1, rejected 1" in bad.stdout


def test_co_occurrence_counts_follow_the_articles(
    tmp_path: Path, load: Any, db: Database[dict[str, Any]]
) -> None:
    write_article(tmp_path, "a.txt", article(1, topics=["AI", "Robots"]))
    write_article(tmp_path, "b.txt", article(2, topics=["AI", "Robots", "Law"]))
    write_article(tmp_path, "c.txt", article(3, topics=["Law"], provider={"domain": "other.org"}))
    load(tmp_path)
    pairs = {(d["topic"], d["other"]): d["count"] for d in db.topicPairs.find()}
    assert pairs == {
        ("ai", "robots"): 2,
        ("robots", "ai"): 2,
        ("ai", "law"): 1,
        ("law", "ai"): 1,
        ("robots", "law"): 1,
        ("law", "robots"): 1,
    }
    by_provider = {(d["provider"], d["topic"]): d["count"] for d in db.providerTopics.find()}
    assert by_provider == {
        ("example.com", "ai"): 2,
        ("example.com", "robots"): 2,
        ("example.com", "law"): 1,
        ("other.org", "law"): 1,
    }
    write_article(tmp_path, "b.txt", article(2, topics=["AI"]))
    load(tmp_path)
    pairs = {(d["topic"], d["other"]): d["count"] for d in db.topicPairs.find()}
    assert pairs == {("ai", "robots"): 1, ("robots", "ai"): 1}
    by_provider = {(d["provider"], d["topic"]): d["count"] for d in db.providerTopics.find()}
    assert by_provider[("example.com", "robots")] == 1
    assert ("example.com", "law") not in by_provider


def test_cli_without_a_uri_loads_into_the_private_mongod(tmp_path: Path) -> None:
    from pymongo import MongoClient

    from storage.mongod import Mongod

    write_article(tmp_path / "in", "a.txt", article(1))
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    env.update(MONGO_DATA_DIR=str(tmp_path / "mongo"), NEWSGRAPH_DB="private")
    run = subprocess.run(
        [sys.executable, "-m", "loaders", str(tmp_path / "in")],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "articles inserted 1" in run.stdout
    # It stopped the server it started; the data is where `make serve` will find it.
    with Mongod(tmp_path / "mongo") as server:
        client: MongoClient[dict[str, Any]] = MongoClient(server.uri)
        assert client.private.articles.count_documents({}) == 1
        client.close()


def test_a_first_load_ends_with_every_index_built(
    tmp_path: Path, load: Any, db: Database[dict[str, Any]]
) -> None:
    from storage.contract import INDEXES

    # Into an empty collection the secondary indexes are built after the writes.
    for n in range(5):
        write_article(tmp_path, f"{n}.txt", article(n))
    load(tmp_path)
    for collection in {index.collection for index in INDEXES}:
        built = {spec["name"] for spec in db[collection].list_indexes()}
        wanted = {index.name for index in INDEXES if index.collection == collection}
        assert wanted <= built, (collection, wanted - built)
