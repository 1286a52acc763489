"""The API's handle on its MongoDB database: made once, at start-up."""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.asynchronous.mongo_client import AsyncMongoClient

from api.store.reads import Document


class CollectionCache(AsyncDatabase[Document]):
    """A database whose ``db[name]`` is the same collection object each time. pymongo
    builds a new one (and its codec and read options) on every lookup, and a request
    looks up a collection per read: about 10 µs each, for objects that never change."""

    def __init__(self, client: AsyncMongoClient[Document], name: str) -> None:
        super().__init__(client, name)
        self._collections: dict[str, AsyncCollection[Document]] = {}

    def __getitem__(self, name: str) -> AsyncCollection[Document]:
        collection = self._collections.get(name)
        if collection is None:
            collection = self._collections[name] = super().__getitem__(name)
        return collection
