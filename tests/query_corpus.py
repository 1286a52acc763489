"""A small corpus built for the query tests, and a plain-Python oracle of what the
API must answer on it: filters, orders (with ties and missing values) and counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.monitoring import CommandStartedEvent

from api.schema.ids import to_global_id
from api.settings import Settings
from loaders.load import load_paths
from loaders.urls import article_id, canonical_url
from storage.keys import provider_key, topic_key
from tests.articles import article, write_article
from tests.conftest import RUN_ID, CommandCounter, ServedAPI

TOPICS = ["AI", "Climate", "Elections", "Health", "Space", "Sport Science", "Tech Policy"]
SIZE = 60


def corpus_doc(n: int) -> dict[str, Any]:
    """Article n: dates tie in threes, heat and quality tie often and are sometimes
    missing, topics, providers and categories overlap."""
    topics = list(dict.fromkeys([TOPICS[n % 5], TOPICS[(n * 3 + 1) % 7]]))
    fields: dict[str, Any] = {
        "title": f"Story {n}",
        "topics": topics,
        "provider": {"name": f"Provider {n % 4}", "domain": f"p{n % 4}.example"},
        "category": ["news", "sport", "tech"][n % 3],
        "type": "article" if n % 4 else "video",
        "published": n % 5 != 0,
        "publishedDateTime": f"2024-02-{1 + n // 3 % 28:02d}T10:00:00Z",
        "quality": (n * 7) % 10 if n % 6 else None,
        "heat": n % 4 if n % 5 else None,
        "images": [
            {"url": f"https://img.example/{n}/a.jpg", "width": 100, "height": 50},
            {"url": f"https://img.example/{n}/b.jpg", "width": 200 + n, "height": 100},
        ]
        if n % 2
        else [{"url": f"https://img.example/{n}/c.jpg"}],
        "related": [
            {"title": f"About {m}", "webUrl": f"https://www.example.com/news/{m}"}
            for m in ((n + 1) % SIZE, (n + 7) % SIZE)
            if n % 3 == 0
        ],
    }
    return article(n, **fields)


def write_corpus(directory: Path, numbers: range = range(SIZE)) -> None:
    for n in numbers:
        write_article(directory, f"{n:03}.txt", corpus_doc(n))


def stored(n: int) -> dict[str, Any]:
    """Article n as the oracle sees it: the fields filters and orders read."""
    doc = corpus_doc(n)
    return {
        "key": article_id(canonical_url(doc["webUrl"])),
        "n": n,
        "topicKeys": {topic_key(t) for t in doc["topics"]},
        "domain": doc["provider"]["domain"],
        "category": doc["category"],
        "type": doc["type"],
        "published": doc["published"],
        "publishedDateTime": datetime.fromisoformat(doc["publishedDateTime"]).astimezone(UTC),
        "quality": doc["quality"],
        "heat": doc["heat"],
    }


def matches(doc: dict[str, Any], f: dict[str, Any]) -> bool:
    """The oracle of ArticleFilter."""
    keys = doc["topicKeys"]
    domains = [provider_key(d) for d in f.get("providerDomains") or []]
    checks = [
        f.get("topic") is None or topic_key(f["topic"]) in keys,
        f.get("providerDomain") is None or doc["domain"] == provider_key(f["providerDomain"]),
        all(topic_key(t) in keys for t in f.get("topics") or []),
        not f.get("anyTopics") or any(topic_key(t) in keys for t in f["anyTopics"]),
        not domains or doc["domain"] in domains,
        f.get("category") is None or doc["category"] == f["category"],
        f.get("type") is None or doc["type"] == f["type"],
        f.get("published") is None or doc["published"] == f["published"],
        f.get("publishedAfter") is None
        or doc["publishedDateTime"] >= datetime.fromisoformat(f["publishedAfter"]),
        f.get("publishedBefore") is None
        or doc["publishedDateTime"] < datetime.fromisoformat(f["publishedBefore"]),
        f.get("minQuality") is None
        or (doc["quality"] is not None and doc["quality"] >= f["minQuality"]),
        f.get("minHeat") is None or (doc["heat"] is not None and doc["heat"] >= f["minHeat"]),
    ]
    return all(checks)


SORT_FIELD = {"PUBLISHED_DATE_TIME": "publishedDateTime", "HEAT": "heat", "QUALITY": "quality"}


def expected_ids(f: dict[str, Any], field: str, direction: str) -> list[str]:
    """Matching ids in order: missing values lowest, ties by id in the same direction."""
    docs = [d for d in map(stored, range(SIZE)) if matches(d, f)]
    name = SORT_FIELD[field]

    def key(doc: dict[str, Any]) -> tuple[int, Any, str]:
        value = doc[name]
        return (0, 0, doc["key"]) if value is None else (1, value, doc["key"])

    docs.sort(key=key, reverse=direction == "DESC")
    return [to_global_id("Article", doc["key"]) for doc in docs]


class Recorder(CommandCounter):
    """Counts commands, and keeps every find and aggregate sent, for explain."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[dict[str, Any]] = []

    def started(self, event: CommandStartedEvent) -> None:
        super().started(event)
        command = event.command
        if event.command_name in ("find", "aggregate"):
            with self._lock:
                self.queries.append(dict(command))


@pytest.fixture(scope="session")
def corpus_api(
    mongo_client: MongoClient[dict[str, Any]],
    mongo_uri: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServedAPI]:
    """The corpus loaded once for the whole run, served read-only: tests that write
    use their own database."""
    name = f"ngtest_{RUN_ID}_corpus"
    directory = tmp_path_factory.mktemp("corpus")
    write_corpus(directory)
    report = load_paths(mongo_client[name], [directory])
    assert report.errors == []
    served = ServedAPI(Settings(mongodb_uri=mongo_uri, database=name), Recorder())
    # Whether the loader prepared the database is checked once per process: done
    # here, so that it is not counted as the round trips of a test's first query.
    served.ready()
    yield served
    served.close()
    mongo_client.drop_database(name)


def walk(
    api: ServedAPI,
    query: str,
    path: Callable[[dict[str, Any]], dict[str, Any]],
    variables: dict[str, Any],
    backward: bool = False,
) -> list[dict[str, Any]]:
    """Every edge of a connection, page after page (forward with after, or backward
    with before), in the connection's order."""
    edges: list[dict[str, Any]] = []
    cursor = None
    for _ in range(200):
        page = path(api.data(query, {**variables, "cursor": cursor}))
        if backward:
            edges = page["edges"] + edges
            if not page["pageInfo"]["hasPreviousPage"]:
                return edges
            cursor = page["pageInfo"]["startCursor"]
        else:
            edges += page["edges"]
            if not page["pageInfo"]["hasNextPage"]:
                return edges
            cursor = page["pageInfo"]["endCursor"]
    raise AssertionError("the connection did not end")


@pytest.fixture
def recorded_api(mongo_uri: str, db_name: str) -> Iterator[ServedAPI]:
    """The API on this test's database, keeping the queries it sends to articles."""
    served = ServedAPI(Settings(mongodb_uri=mongo_uri, database=db_name), Recorder())
    yield served
    served.close()


def plan_stages(explained: dict[str, Any]) -> list[str]:
    """Every stage of every winning plan in an explain answer (find or aggregate)."""
    plans = [explained["queryPlanner"]["winningPlan"]] if "queryPlanner" in explained else []
    for stage in explained.get("stages", []):
        if "$cursor" in stage:
            plans.append(stage["$cursor"]["queryPlanner"]["winningPlan"])

    def walk_plan(plan: dict[str, Any]) -> list[str]:
        plan = plan.get("queryPlan", plan)
        found = [plan["stage"]]
        for child in [plan.get("inputStage"), *plan.get("inputStages", [])]:
            if child:
                found += walk_plan(child)
        return found

    return [stage for plan in plans for stage in walk_plan(plan)]


def explain(db: Any, command: dict[str, Any]) -> list[str]:
    """The plan stages MongoDB chooses for a command the API sent."""
    sent = {k: v for k, v in command.items() if k not in ("lsid", "$db", "$clusterTime")}
    return plan_stages(db.command({"explain": sent, "verbosity": "queryPlanner"}))
