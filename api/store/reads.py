"""The MongoDB queries the API makes. Resolvers call these, never the driver directly."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from api.errors import ApiError
from api.store.cursors import decode_cursor, encode_cursor
from api.store.filters import ALL_ARTICLES, ArticleConditions
from api.store.pagination import Window
from storage.contract import ARTICLES

Document = dict[str, Any]
Database = AsyncDatabase[Document]

# Never read from MongoDB, so never served.
ARTICLE_PROJECTION = {"secured": 0, "contentHash": 0, "extra": 0}

# A count that the loader does not maintain is counted from an index up to here and
# no further, so totalCount stays cheap at any size: an answer of COUNT_LIMIT means
# "at least COUNT_LIMIT".
COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Order:
    """A keyset order: a sort field, then ``_id`` in the same direction as tie-break.

    A ``nullable`` field may be missing; missing sorts lowest, as MongoDB sorts it:
    last when descending, first when ascending."""

    kind: str  # names the order inside its cursors
    field: str
    direction: int  # 1 ascending, -1 descending
    value_type: type = datetime
    nullable: bool = False

    def sort(self) -> list[tuple[str, int]]:
        return [(self.field, self.direction), ("_id", self.direction)]

    def reversed(self) -> Order:
        return replace(self, direction=-self.direction)

    def cursor(self, doc: Mapping[str, Any]) -> str:
        return encode_cursor(self.kind, _get(doc, self.field), doc["_id"])

    def decode(self, cursor: str) -> tuple[Any, str]:
        return decode_cursor(cursor, self.kind, self.value_type, self.nullable)

    def after(self, value: Any, key: str, exploded: bool = False) -> list[Document]:
        """Conditions matching what comes after (value, key) in this order.

        The range on the sort field is a plain comparison so that MongoDB turns it
        into index bounds; the tie on the value is excluded with ``$nor``, which
        stays a filter (an ``$or`` would tempt the planner into an in-memory sort)."""
        field = self.field
        if value is None:
            if self.direction > 0:  # every value comes after the missing ones
                return [{"$nor": [{field: None, "_id": {"$lte": key}}]}]
            if exploded:
                # The planner cannot merge several index ranges on a null bound in
                # order, so stay a filter: the scan reads past the present values.
                return [{"$nor": [{field: {"$ne": None}}, {"_id": {"$gte": key}}]}]
            return [{field: None, "_id": {"$lt": key}}]
        if self.direction > 0:
            return [{field: {"$gte": value}}, {"$nor": [{field: value, "_id": {"$lte": key}}]}]
        # "at most value" written as "below the next value": when a filter's lower
        # bound equals the value, a closed range would collapse to a single point,
        # and MongoDB then stops merging several index scans in order.
        next_value = successor(value)
        upto = {"$not": {"$gte": next_value}} if self.nullable else {"$lt": next_value}
        return [{field: upto}, {"$nor": [{field: value, "_id": {"$gte": key}}]}]


def successor(value: Any) -> Any:
    """The least value above ``value`` among stored values of its type (ints, BSON
    dates with millisecond precision, floats, strings in binary order)."""
    if isinstance(value, bool):
        raise TypeError("no order on booleans")
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return math.nextafter(value, math.inf)
    if isinstance(value, datetime):
        return value + timedelta(milliseconds=1)
    if isinstance(value, str):
        return value + "\0"
    raise TypeError(f"no successor for {type(value).__name__}")


def _get(doc: Mapping[str, Any], dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


NEWEST_FIRST = Order("published-desc", "publishedDateTime", -1)


@dataclass
class Page:
    docs: list[Document]
    has_next: bool
    has_previous: bool


def _bounded(match: Document, order: Order, window: Window, exploded: bool) -> Document:
    clauses = [match] if match else []
    if window.after is not None:
        clauses += order.after(*order.decode(window.after), exploded)
    if window.before is not None:
        clauses += order.reversed().after(*order.decode(window.before), exploded)
    if len(clauses) > 1:
        return {"$and": clauses}
    return clauses[0] if clauses else {}


def _page(docs: list[Document], window: Window) -> Page:
    more = len(docs) > window.size
    docs = docs[: window.size]
    if window.backward:
        docs.reverse()
        return Page(docs, has_next=window.before is not None, has_previous=more)
    return Page(docs, has_next=more, has_previous=window.after is not None)


async def fetch_page(
    collection: AsyncCollection[Document],
    match: Document,
    order: Order,
    window: Window,
    projection: Mapping[str, Any] | None = None,
    hint: str | None = None,
    exploded: bool = False,
) -> Page:
    """One page in keyset order: one round trip. ``hint`` names the index that serves
    the match and the order; ``exploded`` says its leading field is an ``$in``."""
    query = _bounded(match, order, window, exploded)
    scan = order.reversed() if window.backward else order
    cursor = collection.find(query, projection).sort(scan.sort()).limit(window.size + 1)
    if hint is not None:
        cursor = cursor.hint(hint)
    with _index_named(collection, hint):
        return _page(await cursor.to_list(), window)


class MissingIndex(ApiError):
    """A query names an index the database does not have (an older load)."""


@contextmanager
def _index_named(collection: AsyncCollection[Document], hint: str | None) -> Iterator[None]:
    """Turns MongoDB's answer to a hint naming no index into what to do about it."""
    try:
        yield
    except OperationFailure as exc:
        if hint is None or "hint" not in str(exc):
            raise
        raise MissingIndex(
            f"the index {hint!r} on {collection.name!r} is missing: the loader creates "
            "every index the API needs; run `python -m loaders` once on this database"
        ) from exc


async def count_articles(db: Database, where: ArticleConditions) -> int:
    """Counts the loader maintains are read, not recounted: O(1) at any size."""
    source = where.count_source()
    if source is None:
        return await count_matching(db[ARTICLES], where.match(), where.count_index())
    if source is ALL_ARTICLES:
        return await count_all(db, ARTICLES)
    return await sum_counts(db, source.collection, source.field, source.ids)


async def count_matching(
    collection: AsyncCollection[Document], match: Document, hint: str | None = None
) -> int:
    """Counted from the index ``hint`` names, and only up to COUNT_LIMIT."""
    options: dict[str, Any] = {"limit": COUNT_LIMIT}
    if hint is not None:
        options["hint"] = hint
    with _index_named(collection, hint):
        return await collection.count_documents(match, **options)


async def sum_counts(db: Database, collection: str, field: str, keys: Sequence[str]) -> int:
    """The sum of counts the loader maintains: one indexed read by ``_id``."""
    docs = await db[collection].find({"_id": {"$in": list(keys)}}, {field: 1}).to_list()
    return sum(int(doc.get(field, 0)) for doc in docs)


async def count_all(db: Database, collection: str) -> int:
    return await db[collection].estimated_document_count()


async def all_sorted(
    db: Database, collection: str, sort: list[tuple[str, int]], hint: str
) -> list[Document]:
    """A whole (small) collection in the order of the index ``hint`` names."""
    return await db[collection].find({}).sort(sort).hint(hint).to_list()


def any_of(field: str, keys: list[Any]) -> Document:
    """The match of documents whose ``field`` is one of ``keys``. One string key is
    matched by equality: on ``_id`` MongoDB then takes its fast path (IDHACK), which
    skips query planning; an ``$in`` of one is planned like any other. Only a string:
    any other value could be an operator document or a pattern under equality."""
    if len(keys) == 1 and isinstance(keys[0], str):
        return {field: keys[0]}
    return {field: {"$in": keys}}


async def find_by(
    db: Database, collection: str, field: str, keys: Sequence[str]
) -> dict[str, Document]:
    """The documents whose ``field`` is one of ``keys``, by that key: one round trip."""
    projection = ARTICLE_PROJECTION if collection == ARTICLES else None
    docs = await db[collection].find(any_of(field, list(set(keys))), projection).to_list()
    return {doc[field]: doc for doc in docs}


async def articles_by_keys(
    db: Database, keys: Sequence[str], projection: Mapping[str, Any]
) -> dict[str, Document]:
    """The articles of a search page, by key: one read by ``_id``."""
    docs = await db[ARTICLES].find({"_id": {"$in": list(keys)}}, projection).to_list()
    return {str(doc["_id"]): doc for doc in docs}


@dataclass(frozen=True)
class Ranked:
    """The ``limit`` rows of ``collection`` whose ``owner`` field is ``key``, by count
    descending then ``other`` ascending (the order of the pair collections' indexes)."""

    collection: str
    owner: str
    other: str
    key: str
    limit: int

    def pipeline(self, tag: int) -> list[Document]:
        return [
            {"$match": {self.owner: self.key}},
            {"$sort": {"count": -1, self.other: 1}},
            {"$limit": self.limit},
            {"$set": {"_q": tag}},
        ]


async def ranked_many(db: Database, requests: Sequence[Ranked]) -> list[list[Document]]:
    """Several ranked lists in one round trip: one index-served branch each, joined
    with ``$unionWith``."""
    results: list[list[Document]] = [[] for _ in requests]
    wanted = [(tag, r) for tag, r in enumerate(requests) if r.limit > 0]
    if not wanted:
        return results
    (tag, head), *rest = wanted
    pipeline = head.pipeline(tag) + [
        {"$unionWith": {"coll": r.collection, "pipeline": r.pipeline(t)}} for t, r in rest
    ]
    for doc in await (await db[head.collection].aggregate(pipeline)).to_list():
        results[doc.pop("_q")].append(doc)
    return results


async def ping(db: Database) -> None:
    await db.command("ping")
