"""Write normalised articles to MongoDB and keep the provider, topic and category
collections consistent with them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from collections.abc import Collection as Collection_
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from bson import ObjectId
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel, InsertOne, ReplaceOne, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, CollectionInvalid

from loaders.failover import Failover
from loaders.parse import Parsed
from storage.contract import (
    ARTICLE_VALIDATOR,
    ARTICLES,
    CATEGORIES,
    INDEXES,
    LOAD_PENDING,
    PROVIDER_TOPICS,
    PROVIDERS,
    RETIRED_INDEXES,
    TOPIC_PAIRS,
    TOPICS,
)

Document = dict[str, Any]
DOCUMENT_VALIDATION_FAILURE = 121
DUPLICATE_KEY = 11000
Write = InsertOne[Any] | ReplaceOne[Any]
T = TypeVar("T")


def ensure_indexes(db: Database[Document], defer_on_empty: bool = False) -> bool:
    """Create the indexes the API relies on and the `articles` validator, and drop the
    retired ones. Only what is missing is created, so a second run sends no index build.

    With ``defer_on_empty``, the secondary indexes of an empty `articles` collection
    are left out and True is returned: the caller builds them once its first load is
    written (``index_builds``), which is several times faster than maintaining every
    index on each insert."""
    ensure_validator(db)
    drop_retired_indexes(db)
    deferred = defer_on_empty and db[ARTICLES].find_one({}, {"_id": 1}) is None
    for build in index_builds(db, skip=ARTICLES if deferred else None):
        build()
    return deferred


def drop_retired_indexes(db: Database[Document]) -> None:
    """Drop the indexes of RETIRED_INDEXES that are still there."""
    for collection, name in RETIRED_INDEXES:
        if name in {spec["name"] for spec in db[collection].list_indexes()}:
            db[collection].drop_index(name)


def index_builds(db: Database[Document], skip: str | None = None) -> list[Callable[[], object]]:
    """The index builds still missing, one per collection, each ready to run.
    ``skip``: a collection left out."""
    wanted: dict[str, list[IndexModel]] = defaultdict(list)
    for index in INDEXES:
        if index.collection != skip:
            model = IndexModel(list(index.keys), name=index.name, unique=index.unique)
            wanted[index.collection].append(model)
    builds: list[Callable[[], object]] = []
    # On a replica set, an index build commits once a majority of the members have
    # built it, not all of them (MongoDB's default): a member that is down must not
    # hold the load up forever.
    quorum: dict[str, Any] = {"commitQuorum": "majority"} if _replica_set(db) else {}
    for collection, models in wanted.items():
        existing = {spec["name"] for spec in db[collection].list_indexes()}
        missing = [model for model in models if model.document["name"] not in existing]
        if missing:
            builds.append(partial(db[collection].create_indexes, missing, **quorum))
    return builds


def _replica_set(db: Database[Document]) -> bool:
    return "setName" in db.client.admin.command("hello")


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
    writes: list[Write],
    written: list[Parsed],
    outcomes: dict[str, str],
    again: bool = False,
) -> None:
    """Unordered bulk write; a document the validator refuses becomes a rejection
    ("rejected: why") instead of failing the run. A new article someone else inserted
    meanwhile is replaced instead. Any other error is raised.

    ``again``: a retry after a failover, when an insert may have landed before the
    primary went away: that article is ours, still counted as inserted."""
    try:
        articles.bulk_write(writes, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(
            error.get("code") not in (DOCUMENT_VALIDATION_FAILURE, DUPLICATE_KEY)
            for error in errors
        ):
            raise
        retry: list[Write] = []
        for error in errors:
            doc = written[error["index"]]
            if error["code"] == DUPLICATE_KEY:
                retry.append(ReplaceOne({"_id": doc.id}, RawBSONDocument(doc.bson), upsert=True))
                if not again:
                    outcomes[doc.id] = "updated"
            else:
                outcomes[doc.id] = "rejected: refused by the articles validator (storage.contract)"
        if retry:
            articles.bulk_write(retry, ordered=False)


def write_articles(
    db: Database[Document],
    docs: list[Parsed],
    touched: Touched,
    pending: PendingLog,
    look_up: Collection_[str] | None = None,
    ride_out: Failover | None = None,
) -> dict[str, str]:
    """Upsert a batch of articles; returns each id's outcome: inserted, updated or
    unchanged. An article whose content hash is unchanged is not rewritten. The keys
    whose counts change are recorded in `loadPending` before any article is written.

    ``look_up``: the only ids that may already be stored (None: any of them). On a
    first load into an empty collection these are the ids met earlier in the run;
    looking the others up would only find nothing, at a round trip per batch.

    ``ride_out``: retries each step while the replica set has no primary; the
    outcomes are decided once, before the first write, so they stay exact."""
    articles = db[ARTICLES]
    call = ride_out.call if ride_out is not None else _once
    ids = [doc.id for doc in docs] if look_up is None else [d.id for d in docs if d.id in look_up]
    existing = call(partial(_stored, articles, ids)) if ids else {}
    outcomes: dict[str, str] = {}
    writes: list[Write] = []
    batch_keys = Touched()
    written: list[Parsed] = []
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
        stored = RawBSONDocument(doc.bson)
        # A new article is inserted (cheaper than an upsert, which searches first).
        writes.append(
            InsertOne(stored) if old is None else ReplaceOne({"_id": doc.id}, stored, upsert=True)
        )
        written.append(doc)
    if writes:
        call(partial(pending.record, batch_keys))
        attempts = 0

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            _bulk_write(articles, writes, written, outcomes, again=attempts > 1)

        call(attempt)
        touched.domains |= batch_keys.domains
        touched.topics |= batch_keys.topics
        touched.categories |= batch_keys.categories
    return outcomes


def _once(operation: Callable[[], T]) -> T:
    return operation()


def _stored(articles: Collection[Document], ids: list[str]) -> dict[str, Document]:
    """The stored articles of ``ids``: what their counts and content hash were."""
    projection = {"contentHash": 1, "provider.domain": 1, "topicKeys": 1, "category": 1}
    return {old["_id"]: old for old in articles.find({"_id": {"$in": ids}}, projection)}


def _scope(db: Database[Document], keys: set[str], listed_in: str) -> list[str] | None:
    """The keys to recount, or None for all of them: when they are most of the keys
    there are (a first load, a re-run after a crash), rebuilding the whole collection
    with $out is several times faster than merging row by row."""
    if not keys:
        return []
    if len(keys) * 2 >= db[listed_in].estimated_document_count():
        return None
    return sorted(keys)


def _recount(
    db: Database[Document],
    into: str,
    keys: list[str] | None,
    match_field: str,
    grouping: list[Document],
    owner: str = "_id",
) -> None:
    """Recount one derived collection inside MongoDB. ``keys`` None: rebuilt whole
    ($out keeps its indexes and swaps it in at once). Otherwise only the keys' rows:
    replaced ($merge) and stamped with this recount's id; their rows not stamped (no
    article has them any more) are deleted."""
    stamp = ObjectId()
    if keys is None:
        db[ARTICLES].aggregate([*grouping, {"$set": {"run": stamp}}, {"$out": into}])
        return
    if not keys:
        return
    merge = {"$merge": {"into": into, "on": "_id", "whenMatched": "replace"}}
    match = {"$match": {match_field: {"$in": keys}}}
    db[ARTICLES].aggregate([match, *grouping, {"$set": {"run": stamp}}, merge])
    db[into].delete_many({owner: {"$in": keys}, "run": {"$ne": stamp}})


def _only(field: str, keys: list[str] | None) -> list[Document]:
    return [] if keys is None else [{"$match": {field: {"$in": keys}}}]


def _named_counts(key: str, name: Any) -> list[Document]:
    """Count articles per key; the name is the most common spelling, ties going to
    the alphabetically first, so the choice is stable."""
    return [
        {"$group": {"_id": {"k": key, "n": name}, "c": {"$sum": 1}}},
        {"$sort": {"_id.k": 1, "c": -1, "_id.n": 1}},
        {"$group": {"_id": "$_id.k", "name": {"$first": "$_id.n"}, "articleCount": {"$sum": "$c"}}},
    ]


def recounts(db: Database[Document], touched: Touched) -> list[Callable[[], object]]:
    """Recounts of the touched providers, topics and categories, and their
    co-occurrences, from `articles`, heaviest first, each ready to run.

    Counting from the articles themselves (rather than adding deltas) makes the
    result right whatever happened before, including an interrupted earlier run."""
    domains = _scope(db, touched.domains, PROVIDERS)
    topics = _scope(db, touched.topics, TOPICS)
    categories = _scope(db, touched.categories, CATEGORIES)
    return _recounts(db, domains, topics, categories)


def run_side_by_side(jobs: list[Callable[[], object]], parallel: int) -> None:
    """Run jobs on ``parallel`` threads, in the order given. Each job here is one
    command that mongod runs mostly on one core, so side by side they use every core
    it has; given heaviest first, they finish close together."""
    with ThreadPoolExecutor(max(1, parallel), thread_name_prefix="mongod-job") as pool:
        for done in [pool.submit(job) for job in jobs]:
            done.result()


def _recounts(
    db: Database[Document],
    domains: list[str] | None,
    topics: list[str] | None,
    categories: list[str] | None,
) -> list[Callable[[], object]]:
    """The five recounts, heaviest first, each ready to run."""
    pair_id = {"$concat": ["$_id.a", "|", "$_id.b"]}
    # Every article that changed has all its old and new keys in ``touched``, so each
    # pair it affects has its owner recounted here, in both directions.
    return [
        partial(_recount,
            db, TOPIC_PAIRS, topics, "topicKeys",
            [
                {"$project": {"a": "$topicKeys", "b": "$topicKeys"}},
                {"$unwind": "$a"},
                *_only("a", topics),
                {"$unwind": "$b"},
                {"$match": {"$expr": {"$ne": ["$a", "$b"]}}},
                {"$group": {"_id": {"a": "$a", "b": "$b"}, "count": {"$sum": 1}}},
                {"$project": {"_id": pair_id, "topic": "$_id.a", "other": "$_id.b", "count": 1}},
            ],
            owner="topic",
        ),
        partial(_recount,
            db, PROVIDER_TOPICS, domains, "provider.domain",
            [
                {"$project": {"a": "$provider.domain", "b": "$topicKeys"}},
                {"$unwind": "$b"},
                {"$group": {"_id": {"a": "$a", "b": "$b"}, "count": {"$sum": 1}}},
                {"$project": {"_id": pair_id, "provider": "$_id.a", "topic": "$_id.b", "count": 1}},
            ],
            owner="provider",
        ),
        partial(_recount,
            db, TOPICS, topics, "topicKeys",
            [
                {"$project": {"topicKeys": 1, "topics": 1}},
                {"$unwind": {"path": "$topicKeys", "includeArrayIndex": "i"}},
                *_only("topicKeys", topics),
                *_named_counts("$topicKeys", {"$arrayElemAt": ["$topics", "$i"]}),
            ],
        ),
        partial(_recount,
            db, PROVIDERS, domains, "provider.domain",
            _named_counts("$provider.domain", "$provider.name"),
        ),
        partial(_recount,
            db, CATEGORIES, categories, "category",
            [
                {"$match": {"category": {"$type": "string", "$ne": ""}}},
                *_named_counts("$category", "$category"),
            ],
        ),
    ]  # fmt: skip
