"""Write normalised articles to MongoDB and keep the provider, topic and category
collections consistent with them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel, ReplaceOne, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, CollectionInvalid

from loaders.parse import Parsed
from storage.contract import (
    ARTICLE_VALIDATOR,
    ARTICLES,
    CATEGORIES,
    INDEXES,
    LOAD_PENDING,
    PROVIDER_TOPICS,
    PROVIDERS,
    TOPIC_PAIRS,
    TOPICS,
)

Document = dict[str, Any]
DOCUMENT_VALIDATION_FAILURE = 121


def ensure_indexes(db: Database[Document]) -> None:
    """Create the indexes the API relies on and the `articles` validator. Only what is
    missing is created, so a second run sends no index build at all."""
    ensure_validator(db)
    wanted: dict[str, list[IndexModel]] = defaultdict(list)
    for index in INDEXES:
        wanted[index.collection].append(
            IndexModel(list(index.keys), name=index.name, unique=index.unique)
        )
    for collection, models in wanted.items():
        existing = {spec["name"] for spec in db[collection].list_indexes()}
        missing = [model for model in models if model.document["name"] not in existing]
        if missing:
            db[collection].create_indexes(missing)


def ensure_validator(db: Database[Document]) -> None:
    """Put ARTICLE_VALIDATOR on `articles` (created if need be), unless it is there."""
    found = list(db.list_collections(filter={"name": ARTICLES}))
    if not found:
        try:
            db.create_collection(ARTICLES, validator=ARTICLE_VALIDATOR)
        except CollectionInvalid:  # another loader created it meanwhile
            ensure_validator(db)
        return
    if found[0].get("options", {}).get("validator") != ARTICLE_VALIDATOR:
        db.command("collMod", ARTICLES, validator=ARTICLE_VALIDATOR, validationLevel="strict")


@dataclass
class Touched:
    """The provider domains, topic keys and categories whose counts may have changed."""

    domains: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)

    def add(self, domain: str, topic_keys: Iterable[str], category: str | None) -> None:
        self.domains.add(domain)
        self.topics.update(topic_keys)
        if category:
            self.categories.add(category)

    def add_stored(self, doc: Document) -> None:
        self.add(doc["provider"]["domain"], doc.get("topicKeys", ()), doc.get("category"))

    def pending_ids(self) -> set[str]:
        return (
            {f"provider|{key}" for key in self.domains}
            | {f"topic|{key}" for key in self.topics}
            | {f"category|{key}" for key in self.categories}
        )

    def __bool__(self) -> bool:
        return bool(self.domains or self.topics or self.categories)


KINDS = {"provider": "domains", "topic": "topics", "category": "categories"}


def load_pending(db: Database[Document]) -> Touched:
    """The keys an earlier, interrupted run had not recounted yet."""
    touched = Touched()
    for doc in db[LOAD_PENDING].find():
        getattr(touched, KINDS[doc["kind"]]).add(doc["key"])
    return touched


class PendingLog:
    """Records keys in `loadPending` before the articles that change them are
    written; each key once per run."""

    def __init__(self, db: Database[Document], already: Touched) -> None:
        self.collection = db[LOAD_PENDING]
        self.recorded = already.pending_ids()

    def record(self, touched: Touched) -> None:
        new = touched.pending_ids() - self.recorded
        if not new:
            return
        writes: list[UpdateOne] = []
        for pending_id in sorted(new):
            kind, _, key = pending_id.partition("|")
            doc = {"kind": kind, "key": key}
            writes.append(UpdateOne({"_id": pending_id}, {"$set": doc}, upsert=True))
        self.collection.bulk_write(writes, ordered=False)
        self.recorded |= new

    def clear(self) -> None:
        """Called once the recount is done: every recorded key is counted right."""
        ids = sorted(self.recorded)
        for start in range(0, len(ids), 10_000):
            self.collection.delete_many({"_id": {"$in": ids[start : start + 10_000]}})


def _bulk_write(
    articles: Collection[Document],
    writes: list[ReplaceOne[Document]],
    ids: list[str],
    outcomes: dict[str, str],
) -> None:
    """Unordered bulk write; a document the validator refuses becomes a rejection
    ("rejected: why") instead of failing the run. Any other error is raised."""
    try:
        articles.bulk_write(writes, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(
            error.get("code") != DOCUMENT_VALIDATION_FAILURE for error in errors
        ):
            raise
        for error in errors:
            outcomes[ids[error["index"]]] = (
                "rejected: refused by the articles validator (storage.contract)"
            )


def write_articles(
    db: Database[Document], docs: list[Parsed], touched: Touched, pending: PendingLog
) -> dict[str, str]:
    """Upsert a batch of articles; returns each id's outcome: inserted, updated or
    unchanged. An article whose content hash is unchanged is not rewritten. The keys
    whose counts change are recorded in `loadPending` before any article is written."""
    articles = db[ARTICLES]
    existing = {
        old["_id"]: old
        for old in articles.find(
            {"_id": {"$in": [doc.id for doc in docs]}},
            {"contentHash": 1, "provider.domain": 1, "topicKeys": 1, "category": 1},
        )
    }
    outcomes: dict[str, str] = {}
    writes: list[ReplaceOne[Document]] = []
    batch_keys = Touched()
    written: list[str] = []
    for doc in docs:
        old = existing.get(doc.id)
        if old is None:
            outcomes[doc.id] = "inserted"
        elif old.get("contentHash") == doc.content_hash:
            outcomes[doc.id] = "unchanged"
            continue
        else:
            outcomes[doc.id] = "updated"
            batch_keys.add_stored(old)
        batch_keys.add(doc.domain, doc.topic_keys, doc.category)
        writes.append(ReplaceOne({"_id": doc.id}, RawBSONDocument(doc.bson), upsert=True))
        written.append(doc.id)
    if writes:
        pending.record(batch_keys)
        _bulk_write(articles, writes, written, outcomes)
        touched.domains |= batch_keys.domains
        touched.topics |= batch_keys.topics
        touched.categories |= batch_keys.categories
    return outcomes


# Above this many keys, a recount covers every article instead of matching the keys.
MATCH_AT_MOST = 50_000


def _recount(
    db: Database[Document],
    into: str,
    keys: set[str],
    match_field: str,
    grouping: list[Document],
    owner: str = "_id",
) -> None:
    """Recount one derived collection for ``keys``, inside MongoDB ($merge): rows are
    replaced and stamped with this recount's id; the keys' rows not stamped (no
    article has them any more) are deleted."""
    if not keys:
        return
    stamp = ObjectId()
    ordered = sorted(keys)
    match: list[Document] = (
        [{"$match": {match_field: {"$in": ordered}}}] if len(ordered) <= MATCH_AT_MOST else []
    )
    merge = {"$merge": {"into": into, "on": "_id", "whenMatched": "replace"}}
    db[ARTICLES].aggregate([*match, *grouping, {"$set": {"run": stamp}}, merge])
    stale: Document = {"run": {"$ne": stamp}}
    if match:
        stale[owner] = {"$in": ordered}
    db[into].delete_many(stale)


def _named_counts(key: str, name: Any) -> list[Document]:
    """Count articles per key; the name is the most common spelling, ties going to
    the alphabetically first, so the choice is stable."""
    return [
        {"$group": {"_id": {"k": key, "n": name}, "c": {"$sum": 1}}},
        {"$sort": {"_id.k": 1, "c": -1, "_id.n": 1}},
        {"$group": {"_id": "$_id.k", "name": {"$first": "$_id.n"}, "articleCount": {"$sum": "$c"}}},
    ]


def refresh_counts(db: Database[Document], touched: Touched) -> None:
    """Recount the touched providers, topics and categories, and their co-occurrences,
    from `articles`.

    Counting from the articles themselves (rather than adding deltas) makes the
    result right whatever happened before, including an interrupted earlier run."""
    _recount(
        db, PROVIDERS, touched.domains, "provider.domain",
        _named_counts("$provider.domain", "$provider.name"),
    )  # fmt: skip
    keys = sorted(touched.topics)
    _recount(
        db, TOPICS, touched.topics, "topicKeys",
        [
            {"$project": {"topicKeys": 1, "topics": 1}},
            {"$unwind": {"path": "$topicKeys", "includeArrayIndex": "i"}},
            *([{"$match": {"topicKeys": {"$in": keys}}}] if len(keys) <= MATCH_AT_MOST else []),
            *_named_counts("$topicKeys", {"$arrayElemAt": ["$topics", "$i"]}),
        ],
    )  # fmt: skip
    _recount(
        db, CATEGORIES, touched.categories, "category",
        [{"$match": {"category": {"$type": "string"}}}, *_named_counts("$category", "$category")],
    )  # fmt: skip
    refresh_pairs(db, touched)


def refresh_pairs(db: Database[Document], touched: Touched) -> None:
    """Recount provider x topic and topic x topic co-occurrences for the touched keys.

    Every article that changed has all its old and new keys in ``touched``, so each
    pair it affects has its owner recounted here, in both directions."""
    pair_id = {"$concat": ["$_id.a", "|", "$_id.b"]}
    _recount(
        db, PROVIDER_TOPICS, touched.domains, "provider.domain",
        [
            {"$project": {"a": "$provider.domain", "b": "$topicKeys"}},
            {"$unwind": "$b"},
            {"$group": {"_id": {"a": "$a", "b": "$b"}, "count": {"$sum": 1}}},
            {"$project": {"_id": pair_id, "provider": "$_id.a", "topic": "$_id.b", "count": 1}},
        ],
        owner="provider",
    )  # fmt: skip
    topics = sorted(touched.topics)
    _recount(
        db, TOPIC_PAIRS, touched.topics, "topicKeys",
        [
            {"$project": {"a": "$topicKeys", "b": "$topicKeys"}},
            {"$unwind": "$a"},
            *([{"$match": {"a": {"$in": topics}}}] if len(topics) <= MATCH_AT_MOST else []),
            {"$unwind": "$b"},
            {"$match": {"$expr": {"$ne": ["$a", "$b"]}}},
            {"$group": {"_id": {"a": "$a", "b": "$b"}, "count": {"$sum": 1}}},
            {"$project": {"_id": pair_id, "topic": "$_id.a", "other": "$_id.b", "count": 1}},
        ],
        owner="topic",
    )  # fmt: skip
