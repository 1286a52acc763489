"""The root Query and the schema."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import strawberry

from api.errors import BadUserInput
from api.execution.hook import CompiledExecution
from api.limits.guard import schema_extensions
from api.live.subscription import Subscription
from api.schema.context import Info
from api.schema.ids import from_global_id
from api.schema.inputs import MOST_ARTICLES, ArticleFilter, ArticleOrder, CatalogOrder, conditions
from api.schema.loaded import RequireLoadedDatabase
from api.schema.search import ArticleSearchConnection, SearchOrder, search_connection
from api.schema.types import (
    Article,
    Category,
    Connection,
    Node,
    Paging,
    Provider,
    Topic,
    article_connection,
    make_connection,
)
from api.store import reads
from api.store.pagination import MAX_PAGE, window
from storage.contract import CATEGORIES, PROVIDERS, TOPICS
from storage.keys import provider_key, topic_key

T = TypeVar("T")

__all__ = ["ArticleFilter", "Query", "schema"]


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
    if type_name == "Category":
        doc = await loaders.category.load(key)
        return Category.from_doc(doc) if doc else None
    return None


async def catalog_connection(
    info: Info,
    collection: str,
    to_node: Callable[[reads.Document], T],
    order_by: CatalogOrder | None,
    paging: Paging,
) -> Connection[T]:
    """Providers or topics, by article count or by name."""
    db = info.context.db
    order, hint = (order_by or MOST_ARTICLES).keyset()
    page = await reads.fetch_page(db[collection], {}, order, window(*paging), hint=hint)
    return make_connection(page, order, to_node, lambda: reads.count_all(db, collection))


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await load_node(info, *from_global_id(id))

    @strawberry.field(description=f"Objects by their global ids (at most {MAX_PAGE}), in order.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_PAGE:
            raise BadUserInput(
                f"nodes takes at most {MAX_PAGE} ids, got {len(ids)}",
                argument="ids",
                limit=MAX_PAGE,
            )
        keys = [from_global_id(global_id) for global_id in ids]
        return list(await asyncio.gather(*(load_node(info, *key) for key in keys)))

    @strawberry.field
    async def article(self, info: Info, id: strawberry.ID) -> Article | None:
        type_name, key = from_global_id(id)
        node = await load_node(info, type_name, key) if type_name == "Article" else None
        return node if isinstance(node, Article) else None

    @strawberry.field(description="Articles, newest first by default.")
    async def articles(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ArticleFilter | None = None,
        order_by: ArticleOrder | None = None,
    ) -> Connection[Article]:
        paging = (first, after, last, before)
        return await article_connection(info, conditions(filter), order_by, paging)

    @strawberry.field(
        description="Articles whose title or excerpt match, most relevant first by "
        'default. Words (any of them, stemmed), "quoted phrases" (each must appear) and '
        "-excluded words or phrases; every other character is text. At most 500 "
        "characters."
    )
    async def search(
        self,
        info: Info,
        query: str,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ArticleFilter | None = None,
        order_by: SearchOrder = SearchOrder.RELEVANCE,
    ) -> ArticleSearchConnection:
        paging = (first, after, last, before)
        return await search_connection(info, query, conditions(filter), order_by, paging)

    @strawberry.field(description="A provider by its domain (www. and case ignored).")
    async def provider(self, info: Info, domain: str) -> Provider | None:
        doc = await info.context.loaders.provider.load(provider_key(domain))
        return Provider.from_doc(doc) if doc else None

    @strawberry.field(description="Providers, most articles first by default.")
    async def providers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: CatalogOrder | None = None,
    ) -> Connection[Provider]:
        paging = (first, after, last, before)
        return await catalog_connection(info, PROVIDERS, Provider.from_doc, order_by, paging)

    @strawberry.field(description="A topic by its name (case ignored).")
    async def topic(self, info: Info, name: str) -> Topic | None:
        doc = await info.context.loaders.topic.load(topic_key(name))
        return Topic.from_doc(doc) if doc else None

    @strawberry.field(description="Topics, most articles first by default.")
    async def topics(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: CatalogOrder | None = None,
    ) -> Connection[Topic]:
        paging = (first, after, last, before)
        return await catalog_connection(info, TOPICS, Topic.from_doc, order_by, paging)

    @strawberry.field(description="Every category, most articles first, then by name.")
    async def categories(self, info: Info) -> list[Category]:
        docs = await reads.all_sorted(
            info.context.db, CATEGORIES, [("articleCount", -1), ("_id", 1)], hint="count_name"
        )
        return [Category.from_doc(doc) for doc in docs]


schema = strawberry.Schema(
    query=Query,
    subscription=Subscription,
    types=[Article, Provider, Topic, Category],
    # Limits, cost, and parse/validation caches: see api.limits.guard; then no query
    # runs on a database the loader has not prepared (api.schema.loaded); then the
    # compiled execution path (api.execution), unless EXECUTOR=reference.
    extensions=[*schema_extensions(), RequireLoadedDatabase, CompiledExecution],
)
