"""The MongoDB queries the API makes. Resolvers call these, never the driver directly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from api.cursors import decode_cursor, encode_cursor
from storage.contract import ARTICLES, CATEGORIES, PROVIDERS, TOPICS

Document = dict[str, Any]
Database = AsyncDatabase[Document]

# Never read from MongoDB, so never served.
ARTICLE_PROJECTION = {"secured": 0, "contentHash": 0, "extra": 0}


@dataclass(frozen=True)
class Order:
    """A keyset order: a sort field, then ``_id`` in the same direction as tie-break."""

    kind: str
    field: str
    direction: int  # 1 ascending, -1 descending

    def sort(self) -> list[tuple[str, int]]:
        return [(self.field, self.direction), ("_id", self.direction)]

    def after(self, value: Any, key: str) -> Document:
        op = "$gt" if self.direction > 0 else "$lt"
        return {"$or": [{self.field: {op: value}}, {self.field: value, "_id": {op: key}}]}

    def cursor(self, doc: Mapping[str, Any]) -> str:
        return encode_cursor(self.kind, _get(doc, self.field), doc["_id"])


def _get(doc: Mapping[str, Any], dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


NEWEST_FIRST = Order("published", "publishedDateTime", -1)
MOST_ARTICLES = Order("count", "articleCount", -1)


@dataclass
class Page:
    docs: list[Document]
    has_next: bool
    has_previous: bool


async def fetch_page(
    collection: AsyncCollection[Document],
    match: Document,
    order: Order,
    first: int,
    after: str | None,
    projection: Mapping[str, Any] | None = None,
) -> Page:
    query = match
    if after is not None:
        value, key = decode_cursor(after, order.kind)
        bound = order.after(value, key)
        query = {"$and": [match, bound]} if match else bound
    cursor = collection.find(query, projection).sort(order.sort()).limit(first + 1)
    docs = await cursor.to_list()
    return Page(docs=docs[:first], has_next=len(docs) > first, has_previous=after is not None)


async def articles_page(db: Database, match: Document, first: int, after: str | None) -> Page:
    return await fetch_page(db[ARTICLES], match, NEWEST_FIRST, first, after, ARTICLE_PROJECTION)


async def count_articles(db: Database, match: Document) -> int:
    """Counts that the loader maintains are read, not recounted: O(1) at any size."""
    if not match:
        return await db[ARTICLES].estimated_document_count()
    if len(match) == 1:
        ((field, value),) = match.items()
        counted = {"topicKeys": TOPICS, "provider.domain": PROVIDERS, "category": CATEGORIES}
        if field in counted and isinstance(value, str):
            doc = await db[counted[field]].find_one({"_id": value}, {"articleCount": 1})
            return int(doc["articleCount"]) if doc else 0
    return await db[ARTICLES].count_documents(match)


async def counted_page(db: Database, collection: str, first: int, after: str | None) -> Page:
    return await fetch_page(db[collection], {}, MOST_ARTICLES, first, after)


async def count_all(db: Database, collection: str) -> int:
    return await db[collection].estimated_document_count()


async def find_by(
    db: Database, collection: str, field: str, keys: Sequence[str]
) -> dict[str, Document]:
    """The documents whose ``field`` is one of ``keys``, by that key: one round trip."""
    projection = ARTICLE_PROJECTION if collection == ARTICLES else None
    docs = await db[collection].find({field: {"$in": list(set(keys))}}, projection).to_list()
    return {doc[field]: doc for doc in docs}


async def ping(db: Database) -> None:
    await db.command("ping")
