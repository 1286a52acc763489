"""The in-process matcher (api.live.matcher) means what the MongoDB query means:
for every filter, the documents it accepts are exactly those ``find(match())``
returns, on the query corpus and on documents of odd shapes MongoDB compares by
its own rules."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from pymongo import MongoClient
from pymongo.database import Database

from api.live.matcher import matches
from api.schema.inputs import ArticleFilter
from api.store.filters import ArticleConditions
from tests.conftest import ServedAPI
from tests.query_corpus import corpus_api
from tests.test_query_filters import LEADS, RESIDUALS, SINGLE_FILTERS

__all__ = ["corpus_api"]

CAMEL = {
    "providerDomain": "provider_domain",
    "anyTopics": "any_topics",
    "providerDomains": "provider_domains",
    "publishedAfter": "published_after",
    "publishedBefore": "published_before",
    "minQuality": "min_quality",
    "minHeat": "min_heat",
}


def conditions(graphql_filter: dict[str, Any]) -> ArticleConditions:
    """A filter as a client sends it, through ArticleFilter as the schema reads it."""
    fields = {}
    for name, value in graphql_filter.items():
        if name in ("publishedAfter", "publishedBefore"):
            value = datetime.fromisoformat(value)
        fields[CAMEL.get(name, name)] = value
    return ArticleFilter(**fields).conditions()


def agree(db: Database[dict[str, Any]], collection: str, where: ArticleConditions) -> int:
    """Asserts the matcher and MongoDB select the same documents; returns how many."""
    docs = list(db[collection].find({}))
    by_mongo = {doc["_id"] for doc in db[collection].find(where.match())}
    by_matcher = {doc["_id"] for doc in docs if matches(where, doc)}
    assert by_matcher == by_mongo, (where, by_matcher ^ by_mongo)
    return len(by_mongo)


def test_the_matcher_agrees_with_mongodb_on_the_corpus(
    corpus_api: ServedAPI, mongo_client: MongoClient[dict[str, Any]]
) -> None:
    db = mongo_client[corpus_api.settings.database]
    filters = [*SINGLE_FILTERS, *LEADS, *RESIDUALS]
    filters += [{**a, **b} for a, b in itertools.combinations(SINGLE_FILTERS, 2)]
    filters += [{**lead, **rest} for lead in LEADS for rest in RESIDUALS]
    filters += [
        {"topics": [".*"]},
        {"category": '{"$ne": null}'},
        {"publishedAfter": "2024-02-05T10:00:00.000999+00:00"},
        {"publishedBefore": "2024-02-05T10:00:00.000999+00:00"},
        {"minQuality": 0, "minHeat": 0},
    ]
    sizes = {agree(db, "articles", conditions(f)) for f in filters}
    assert len(filters) > 100
    assert 0 in sizes and 60 in sizes and len(sizes) > 20  # empty, all, and in between


ODD_DOCUMENTS: list[dict[str, Any]] = [
    {"_id": 1, "published": 0, "quality": "9", "heat": True, "topicKeys": "ai"},
    {"_id": 2, "published": False, "quality": 7.5, "heat": None, "topicKeys": []},
    {"_id": 3, "category": ["news", "sport"], "type": ["video"], "quality": [1, 8]},
    {"_id": 4, "provider": {"domain": "p1.example"}, "publishedDateTime": "2024-02-05"},
    {"_id": 5, "publishedDateTime": datetime(2024, 2, 5, 10, 0, 0, 0, tzinfo=UTC)},
    {"_id": 6, "publishedDateTime": [datetime(2024, 1, 1, tzinfo=UTC)], "heat": 3},
    {"_id": 7, "topicKeys": ["ai", "space"], "provider": {"domain": ["p1.example"]}},
    {"_id": 8, "published": True, "category": "news", "quality": -1},
]


def test_the_matcher_follows_mongodb_on_odd_shapes(
    mongo_client: MongoClient[dict[str, Any]], db_name: str
) -> None:
    db = mongo_client[db_name]
    db["odd"].insert_many(ODD_DOCUMENTS)
    filters: list[dict[str, Any]] = [
        {"published": False},
        {"published": True},
        {"minQuality": 5},
        {"minHeat": 1},
        {"topic": "AI"},
        {"topics": ["ai", "space"]},
        {"anyTopics": ["space", "nope"]},
        {"category": "sport"},
        {"type": "video"},
        {"providerDomain": "p1.example"},
        {"publishedAfter": "2024-02-05T10:00:00.000500+00:00"},
        {"publishedBefore": "2024-02-05T10:00:00.000500+00:00"},
        {"publishedAfter": "2023-12-01T00:00:00+00:00"},
        {"minQuality": -1, "category": "news"},
    ]
    sizes = [agree(db, "odd", conditions(f)) for f in filters]
    assert sum(sizes) > len(filters)
