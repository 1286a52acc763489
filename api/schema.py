"""The root Query and the schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry

from api import store
from api.context import Info
from api.guard import schema_extensions
from api.ids import from_global_id
from api.pagination import page_size
from api.types import (
    Article,
    Connection,
    Node,
    Provider,
    Topic,
    article_connection,
    make_connection,
)
from storage.contract import PROVIDERS, TOPICS
from storage.keys import provider_key, topic_key

T = TypeVar("T")


@strawberry.input(description="All given conditions must hold.")
class ArticleFilter:
    topic: str | None = None
    provider_domain: str | None = None
    category: str | None = None

    def to_match(self) -> store.Document:
        match: store.Document = {}
        if self.topic is not None:
            match["topicKeys"] = topic_key(self.topic)
        if self.provider_domain is not None:
            match["provider.domain"] = provider_key(self.provider_domain)
        if self.category is not None:
            match["category"] = self.category
        return match


async def load_node(info: Info, type_name: str, key: str) -> Node | None:
    loaders = info.context.loaders
    if type_name == "Article":
        doc = await loaders.article.load(key)
        return Article.from_doc(doc) if doc else None
    if type_name == "Provider":
        doc = await loaders.provider.load(key)
        return Provider.from_doc(doc) if doc else None
    if type_name == "Topic":
        doc = await loaders.topic.load(key)
        return Topic.from_doc(doc) if doc else None
    return None


async def counted_connection(
    info: Info,
    collection: str,
    to_node: Callable[[store.Document], T],
    first: int | None,
    after: str | None,
) -> Connection[T]:
    db = info.context.db
    page = await store.counted_page(db, collection, page_size(first), after)
    return make_connection(
        page, store.MOST_ARTICLES, to_node, lambda: store.count_all(db, collection)
    )


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await load_node(info, *from_global_id(id))

    @strawberry.field
    async def article(self, info: Info, id: strawberry.ID) -> Article | None:
        type_name, key = from_global_id(id)
        node = await load_node(info, type_name, key) if type_name == "Article" else None
        return node if isinstance(node, Article) else None

    @strawberry.field(description="Articles, newest first.")
    async def articles(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: ArticleFilter | None = None,
    ) -> Connection[Article]:
        match = filter.to_match() if filter else {}
        return await article_connection(info, match, first, after)

    @strawberry.field(description="A provider by its domain (www. and case ignored).")
    async def provider(self, info: Info, domain: str) -> Provider | None:
        doc = await info.context.loaders.provider.load(provider_key(domain))
        return Provider.from_doc(doc) if doc else None

    @strawberry.field(description="Providers, most articles first.")
    async def providers(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Provider]:
        return await counted_connection(info, PROVIDERS, Provider.from_doc, first, after)

    @strawberry.field(description="A topic by its name (case ignored).")
    async def topic(self, info: Info, name: str) -> Topic | None:
        doc = await info.context.loaders.topic.load(topic_key(name))
        return Topic.from_doc(doc) if doc else None

    @strawberry.field(description="Topics, most articles first.")
    async def topics(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Topic]:
        return await counted_connection(info, TOPICS, Topic.from_doc, first, after)


schema = strawberry.Schema(
    query=Query,
    types=[Article, Provider, Topic],
    # Limits, cost, and parse/validation caches: see api.guard.
    extensions=schema_extensions(),
)
