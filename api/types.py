"""The GraphQL object types. Scalar fields are plain attributes; only fields that
need another read have resolvers, and those go through the request's DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Generic, TypeVar

import strawberry

from api import store
from api.context import Info
from api.ids import to_global_id
from api.pagination import page_size

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="All items of the connection, over every page.")
    async def total_count(self) -> int:
        return await self.count()


def make_connection(
    page: store.Page,
    order: store.Order,
    to_node: Callable[[store.Document], T],
    count: Callable[[], Awaitable[int]],
) -> Connection[T]:
    edges = [Edge(cursor=order.cursor(doc), node=to_node(doc)) for doc in page.docs]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=count,
    )


@strawberry.interface(description="An object with a stable, opaque global id.")
class Node:
    id: strawberry.ID


@strawberry.type
class Image:
    url: str
    width: int | None = None
    height: int | None = None
    title: str | None = None
    is_cached: bool | None = None

    @classmethod
    def from_doc(cls, doc: store.Document) -> Image:
        return cls(
            url=doc["url"],
            width=doc.get("width"),
            height=doc.get("height"),
            title=doc.get("title"),
            is_cached=doc.get("isCached"),
        )


async def article_connection(
    info: Info, match: store.Document, first: int | None, after: str | None
) -> Connection[Article]:
    """Shared by every field that lists articles."""
    db = info.context.db
    page = await store.articles_page(db, match, page_size(first), after)
    return make_connection(
        page, store.NEWEST_FIRST, Article.from_doc, lambda: store.count_articles(db, match)
    )


@strawberry.type
class Provider(Node):
    name: str
    domain: str
    article_count: int

    @classmethod
    def from_doc(cls, doc: store.Document) -> Provider:
        return cls(
            id=strawberry.ID(to_global_id("Provider", doc["_id"])),
            name=doc["name"],
            domain=doc["_id"],
            article_count=doc.get("articleCount", 0),
        )

    @strawberry.field
    async def articles(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Article]:
        return await article_connection(info, {"provider.domain": self.domain}, first, after)


async def load_provider(info: Info, embedded: store.Document) -> Provider:
    """The provider behind an embedded {name, domain}; one that has no stored
    articles (a related item's source) still answers, with a count of 0."""
    stored = await info.context.loaders.provider.load(embedded["domain"])
    if stored is None:
        stored = {"_id": embedded["domain"], "name": embedded.get("name") or embedded["domain"]}
    return Provider.from_doc(stored)


@strawberry.type
class Topic(Node):
    name: str
    article_count: int
    key: strawberry.Private[str]

    @classmethod
    def from_doc(cls, doc: store.Document) -> Topic:
        return cls(
            id=strawberry.ID(to_global_id("Topic", doc["_id"])),
            name=doc["name"],
            article_count=doc.get("articleCount", 0),
            key=doc["_id"],
        )

    @strawberry.field
    async def articles(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Article]:
        return await article_connection(info, {"topicKeys": self.key}, first, after)


@strawberry.type
class RelatedItem:
    title: str
    excerpt: str | None
    published_date_time: datetime | None
    web_url: str
    amp_web_url: str | None
    cdn_amp_web_url: str | None
    type: str | None
    quality: int | None
    images: list[Image]
    doc: strawberry.Private[store.Document]

    @classmethod
    def from_doc(cls, doc: store.Document) -> RelatedItem:
        return cls(
            title=doc["title"],
            excerpt=doc.get("excerpt"),
            published_date_time=doc.get("publishedDateTime"),
            web_url=doc["webUrl"],
            amp_web_url=doc.get("ampWebUrl"),
            cdn_amp_web_url=doc.get("cdnAmpWebUrl"),
            type=doc.get("type"),
            quality=doc.get("quality"),
            images=[Image.from_doc(image) for image in doc.get("images", ())],
            doc=doc,
        )

    @strawberry.field
    async def provider(self, info: Info) -> Provider | None:
        embedded = self.doc.get("provider")
        return await load_provider(info, embedded) if embedded else None

    @strawberry.field(description="The stored article with the same canonical URL, if any.")
    async def article(self, info: Info) -> Article | None:
        doc = await info.context.loaders.article_by_url.load(self.doc["canonicalUrl"])
        return Article.from_doc(doc) if doc else None


@strawberry.type
class Article(Node):
    web_url: str
    original_url: str | None
    title: str
    excerpt: str | None
    category: str | None
    type: str | None
    published_date_time: datetime
    quality: int | None
    heat: int | None
    published: bool | None
    images: list[Image]
    related: list[RelatedItem]
    doc: strawberry.Private[store.Document]

    @classmethod
    def from_doc(cls, doc: store.Document) -> Article:
        return cls(
            id=strawberry.ID(to_global_id("Article", doc["_id"])),
            web_url=doc["webUrl"],
            original_url=doc.get("originalUrl"),
            title=doc["title"],
            excerpt=doc.get("excerpt"),
            category=doc.get("category"),
            type=doc.get("type"),
            published_date_time=doc["publishedDateTime"],
            quality=doc.get("quality"),
            heat=doc.get("heat"),
            published=doc.get("published"),
            images=[Image.from_doc(image) for image in doc.get("images", ())],
            related=[RelatedItem.from_doc(item) for item in doc.get("related", ())],
            doc=doc,
        )

    @strawberry.field
    async def provider(self, info: Info) -> Provider:
        return await load_provider(info, self.doc["provider"])

    @strawberry.field
    async def topics(self, info: Info) -> list[Topic]:
        docs = await info.context.loaders.topic.load_many(self.doc.get("topicKeys", []))
        names = dict(zip(self.doc.get("topicKeys", []), self.doc.get("topics", []), strict=False))
        return [
            Topic.from_doc(doc or {"_id": key, "name": names.get(key, key)})
            for key, doc in zip(self.doc.get("topicKeys", []), docs, strict=True)
        ]
