"""Per-request DataLoaders: every nested field of a page is fetched in one batch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from strawberry.dataloader import DataLoader

from api.store.reads import Database, Document, Ranked, find_by, ranked_many
from storage.contract import ARTICLES, CATEGORIES, PROVIDERS, TOPICS

Batch = Callable[[list[str]], Awaitable[Sequence[Document | None]]]


def _batch(db: Database, collection: str, field: str) -> Batch:
    async def load(keys: list[str]) -> list[Document | None]:
        found = await find_by(db, collection, field, keys)
        return [found.get(key) for key in keys]

    return load


class Loaders:
    """One set per request, so nothing is cached across requests."""

    def __init__(self, db: Database) -> None:
        self.article = DataLoader(_batch(db, ARTICLES, "_id"))
        self.article_by_url = DataLoader(_batch(db, ARTICLES, "canonicalUrl"))
        self.provider = DataLoader(_batch(db, PROVIDERS, "_id"))
        self.topic = DataLoader(_batch(db, TOPICS, "_id"))
        self.category = DataLoader(_batch(db, CATEGORIES, "_id"))

        async def load_ranked(requests: list[Ranked]) -> list[list[Document]]:
            return await ranked_many(db, requests)

        # Provider.topics, Topic.relatedTopics and Topic.providers of a whole page.
        self.ranked: DataLoader[Ranked, list[Document]] = DataLoader(load_ranked)
