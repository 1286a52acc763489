"""Write normalised articles to MongoDB and keep the provider, topic and category
collections consistent with them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pymongo import DeleteOne, IndexModel, ReplaceOne, UpdateOne
from pymongo.database import Database

from storage.contract import (
    ARTICLES,
    CATEGORIES,
    INDEXES,
    PROVIDER_TOPICS,
    PROVIDERS,
    TOPIC_PAIRS,
    TOPICS,
)

Document = dict[str, Any]


def ensure_indexes(db: Database[Document]) -> None:
    """Create the indexes the API relies on; existing ones are left as they are."""
    by_collection: dict[str, list[IndexModel]] = defaultdict(list)
    for index in INDEXES:
        by_collection[index.collection].append(
            IndexModel(list(index.keys), name=index.name, unique=index.unique)
        )
    for collection, models in by_collection.items():
        db[collection].create_indexes(models)


@dataclass
class Touched:
    """The provider domains, topic keys and categories whose counts may have changed."""

    domains: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)

    def add(self, doc: Document) -> None:
        self.domains.add(doc["provider"]["domain"])
        self.topics.update(doc.get("topicKeys", ()))
        if doc.get("category"):
            self.categories.add(doc["category"])


@dataclass
class WriteCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def write_articles(
    db: Database[Document], docs: list[Document], touched: Touched
) -> dict[str, str]:
    """Upsert a batch of articles; returns each id's outcome: inserted, updated or
    unchanged. An article whose content hash is unchanged is not rewritten."""
    articles = db[ARTICLES]
    existing = {
        old["_id"]: old
        for old in articles.find(
            {"_id": {"$in": [doc["_id"] for doc in docs]}},
            {"contentHash": 1, "provider.domain": 1, "topicKeys": 1, "category": 1},
        )
    }
    outcomes: dict[str, str] = {}
    writes = []
    for doc in docs:
        touched.add(doc)
        old = existing.get(doc["_id"])
        if old is None:
            outcomes[doc["_id"]] = "inserted"
        elif old.get("contentHash") == doc["contentHash"]:
            outcomes[doc["_id"]] = "unchanged"
            continue
        else:
            outcomes[doc["_id"]] = "updated"
            touched.add(old)
        writes.append(ReplaceOne({"_id": doc["_id"]}, doc, upsert=True))
    if writes:
        articles.bulk_write(writes, ordered=False)
    return outcomes


def _most_common(names: Counter[str]) -> str:
    # Ties go to the alphabetically first name, so the choice is stable.
    return min(names, key=lambda name: (-names[name], name))


def refresh_counts(db: Database[Document], touched: Touched) -> None:
    """Recount the touched providers, topics and categories from `articles`.

    Counting from the articles themselves (rather than adding deltas) makes the
    result right whatever happened before, including an interrupted earlier run."""
    if touched.domains:
        rows = db[ARTICLES].aggregate(
            [
                {"$match": {"provider.domain": {"$in": sorted(touched.domains)}}},
                {
                    "$group": {
                        "_id": {"k": "$provider.domain", "n": "$provider.name"},
                        "c": {"$sum": 1},
                    }
                },
            ]
        )
        _replace_counts(db, PROVIDERS, touched.domains, rows)
    if touched.topics:
        rows = db[ARTICLES].aggregate(
            [
                {"$match": {"topicKeys": {"$in": sorted(touched.topics)}}},
                {"$unwind": {"path": "$topicKeys", "includeArrayIndex": "i"}},
                {"$match": {"topicKeys": {"$in": sorted(touched.topics)}}},
                {
                    "$group": {
                        "_id": {"k": "$topicKeys", "n": {"$arrayElemAt": ["$topics", "$i"]}},
                        "c": {"$sum": 1},
                    }
                },
            ]
        )
        _replace_counts(db, TOPICS, touched.topics, rows)
    if touched.categories:
        rows = db[ARTICLES].aggregate(
            [
                {"$match": {"category": {"$in": sorted(touched.categories)}}},
                {"$group": {"_id": {"k": "$category", "n": "$category"}, "c": {"$sum": 1}}},
            ]
        )
        _replace_counts(db, CATEGORIES, touched.categories, rows)
    refresh_pairs(db, touched)


def refresh_pairs(db: Database[Document], touched: Touched) -> None:
    """Recount provider x topic and topic x topic co-occurrences for the touched keys.

    Every article that changed has all its old and new keys in ``touched``, so each
    pair it affects has its owner recounted here, in both directions."""
    if touched.domains:
        domains = sorted(touched.domains)
        rows = db[ARTICLES].aggregate(
            [
                {"$match": {"provider.domain": {"$in": domains}}},
                {"$unwind": "$topicKeys"},
                {"$group": {"_id": {"a": "$provider.domain", "b": "$topicKeys"}, "c": {"$sum": 1}}},
            ]
        )
        _replace_pairs(db, PROVIDER_TOPICS, ("provider", "topic"), domains, rows)
    if touched.topics:
        topics = sorted(touched.topics)
        rows = db[ARTICLES].aggregate(
            [
                {"$match": {"topicKeys": {"$in": topics}}},
                {"$project": {"a": "$topicKeys", "b": "$topicKeys"}},
                {"$unwind": "$a"},
                {"$match": {"a": {"$in": topics}}},
                {"$unwind": "$b"},
                {"$match": {"$expr": {"$ne": ["$a", "$b"]}}},
                {"$group": {"_id": {"a": "$a", "b": "$b"}, "c": {"$sum": 1}}},
            ]
        )
        _replace_pairs(db, TOPIC_PAIRS, ("topic", "other"), topics, rows)


def _replace_pairs(
    db: Database[Document],
    collection: str,
    fields: tuple[str, str],
    owners: list[str],
    rows: Iterable[Document],
) -> None:
    """Upsert the counted pairs, then drop the owners' pairs that no longer occur."""
    owner, other = fields
    writes: list[UpdateOne] = []
    kept: list[str] = []
    for row in rows:
        key = f"{row['_id']['a']}|{row['_id']['b']}"
        kept.append(key)
        writes.append(
            UpdateOne(
                {"_id": key},
                {"$set": {owner: row["_id"]["a"], other: row["_id"]["b"], "count": row["c"]}},
                upsert=True,
            )
        )
    if writes:
        db[collection].bulk_write(writes, ordered=False)
    db[collection].delete_many({owner: {"$in": owners}, "_id": {"$nin": kept}})


def _replace_counts(
    db: Database[Document], collection: str, keys: set[str], rows: Iterable[Document]
) -> None:
    names: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        names[row["_id"]["k"]][row["_id"]["n"]] += row["c"]
    writes: list[UpdateOne | DeleteOne] = []
    for key in sorted(keys):
        if key in names:
            spellings = names[key]
            writes.append(
                UpdateOne(
                    {"_id": key},
                    {"$set": {"name": _most_common(spellings), "articleCount": spellings.total()}},
                    upsert=True,
                )
            )
        else:
            writes.append(DeleteOne({"_id": key}))
    if writes:
        db[collection].bulk_write(writes, ordered=False)
