"""The API's handle on its MongoDB database: made once, at start-up. Every read the
API makes goes through it, and is sent with the time left of the request's deadline
as ``maxTimeMS`` (api.store.time_limit)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.command_cursor import AsyncCommandCursor
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.asynchronous.mongo_client import AsyncMongoClient

from api.store.reads import Document
from api.store.time_limit import max_time, max_time_ms


class TimedCollection(AsyncCollection[Document]):
    """A collection whose reads carry ``maxTimeMS``: MongoDB stops working on a read
    once its request has run out of time. Outside a request they have no limit.
    (``find_one`` is a ``find``; the writes, the loader's business, are as pymongo's.)"""

    def find(self, *args: Any, **kwargs: Any) -> AsyncCursor[Document]:
        kwargs.setdefault("max_time_ms", max_time_ms())
        return super().find(*args, **kwargs)

    async def aggregate(self, *args: Any, **kwargs: Any) -> AsyncCommandCursor[Document]:
        return await super().aggregate(*args, **(max_time() | kwargs))

    async def count_documents(self, *args: Any, **kwargs: Any) -> int:
        return await super().count_documents(*args, **(max_time() | kwargs))

    async def estimated_document_count(self, *args: Any, **kwargs: Any) -> int:
        return await super().estimated_document_count(*args, **(max_time() | kwargs))


class CollectionCache(AsyncDatabase[Document]):
    """A database whose ``db[name]`` is the same (timed) collection object each time.
    pymongo builds a new one (and its codec and read options) on every lookup, and a
    request looks up a collection per read: about 10 µs each, for objects that never
    change."""

    def __init__(self, client: AsyncMongoClient[Document], name: str) -> None:
        super().__init__(client, name)
        self._collections: dict[str, AsyncCollection[Document]] = {}

    def __getitem__(self, name: str) -> AsyncCollection[Document]:
        collection = self._collections.get(name)
        if collection is None:
            collection = self._collections[name] = TimedCollection(self, name)
        return collection
