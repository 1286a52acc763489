"""The GraphQL object types. Scalar fields are plain attributes; only fields that
need another read have resolvers, and those go through the request's DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Generic, Protocol, TypeVar

import strawberry

from api.schema.context import Info
from api.schema.ids import to_global_id
from api.schema.inputs import NEWEST_FIRST, ArticleFilter, ArticleOrder, conditions
from api.schema.prefetch import Prefetched, prefetch
from api.schema.projection import article_projection
from api.store import reads
from api.store.filters import ArticleConditions
from api.store.pagination import page_size, window
from storage.contract import ARTICLES, PROVIDER_TOPICS, TOPIC_PAIRS

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, page: reads.Page, cursors: list[str]) -> PageInfo:
        return cls(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


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

    @strawberry.field(
        description="All items of the connection, over every page. Exact where the "
        "loader keeps the count; otherwise counted up to 10000 (10000 means at least)."
    )
    async def total_count(self) -> int:
        return await self.count()


def make_connection(
    page: reads.Page,
    order: reads.Order,
    to_node: Callable[[reads.Document], T],
    count: Callable[[], Awaitable[int]],
) -> Connection[T]:
    edges = [Edge(cursor=order.cursor(doc), node=to_node(doc)) for doc in page.docs]
    return Connection(
        edges=edges, page_info=PageInfo.of(page, [e.cursor for e in edges]), count=count
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
    aspect_ratio: float | None = strawberry.field(
        default=None, description="width / height, when both are known."
    )

    @classmethod
    def from_doc(cls, doc: reads.Document) -> Image:
        width, height = doc.get("width"), doc.get("height")
        return cls(
            url=doc["url"],
            width=width,
            height=height,
            title=doc.get("title"),
            is_cached=doc.get("isCached"),
            aspect_ratio=width / height if width is not None and height else None,
        )


def lead_image(images: list[Image]) -> Image | None:
    """The largest image by area; the first when none has both dimensions."""
    sized = [image for image in images if image.width is not None and image.height is not None]
    if sized:
        return max(sized, key=lambda image: (image.width or 0) * (image.height or 0))
    return images[0] if images else None


# A connection's first, after, last and before, as given.
Paging = tuple[int | None, str | None, int | None, str | None]


async def article_connection(
    info: Info,
    where: ArticleConditions,
    order_by: ArticleOrder | None,
    paging: Paging,
) -> Connection[Article]:
    """Shared by every field that lists articles with a filter and an order."""
    db = info.context.db
    order_by = order_by or NEWEST_FIRST
    hint, exploded = where.index(order_by.field.value)
    return await articles_page(
        info,
        where.match(),
        order_by.keyset(),
        paging,
        lambda: reads.count_articles(db, where),
        hint,
        exploded,
    )


async def articles_page(
    info: Info,
    match: reads.Document,
    order: reads.Order,
    paging: Paging,
    count: Callable[[], Awaitable[int]],
    hint: str | None,
    exploded: bool = False,
) -> Connection[Article]:
    """One page of the articles ``match`` selects: read with the selection's
    projection, their providers and topics prefetched (api.schema.prefetch)."""
    projection = article_projection(info, order.field) or reads.ARTICLE_PROJECTION
    page = await reads.fetch_page(
        info.context.db[ARTICLES], match, order, window(*paging), projection, hint, exploded
    )
    known = await prefetch(info, page.docs)
    return make_connection(page, order, lambda doc: Article.from_doc(doc, known), count)


@strawberry.type
class TopicCount:
    topic: Topic
    count: int


@strawberry.type
class ProviderCount:
    provider: Provider
    count: int


async def ranked(info: Info, request: reads.Ranked) -> list[reads.Document]:
    return await info.context.loaders.ranked.load(request)


async def topic_counts(info: Info, rows: list[reads.Document], field: str) -> list[TopicCount]:
    """The ranked rows as TopicCounts, the topic named by each row's ``field``. A
    topic that has no stored document (counts briefly ahead of topics) keeps its key."""
    keys = [row[field] for row in rows]
    docs = await info.context.loaders.topic.load_many(keys)
    return [
        TopicCount(topic=Topic.from_doc(doc or {"_id": key, "name": key}), count=row["count"])
        for key, row, doc in zip(keys, rows, docs, strict=True)
    ]


class ArticleOwner(Protocol):
    def narrow(self, where: ArticleConditions) -> None: ...


async def owned_articles(
    root: strawberry.Parent[ArticleOwner],
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: ArticleFilter | None = None,
    order_by: ArticleOrder | None = None,
) -> Connection[Article]:
    """The articles of a provider, topic or category: one resolver, so the three
    fields take the same arguments and page the same way."""
    where = conditions(filter)
    root.narrow(where)
    return await article_connection(info, where, order_by, (first, after, last, before))


@strawberry.type
class Provider(Node):
    name: str
    domain: str
    article_count: int

    @classmethod
    def from_doc(cls, doc: reads.Document) -> Provider:
        return cls(
            id=strawberry.ID(to_global_id("Provider", doc["_id"])),
            name=doc["name"],
            domain=doc["_id"],
            article_count=doc.get("articleCount", 0),
        )

    articles: Connection[Article] = strawberry.field(
        resolver=owned_articles, description="This provider's articles, newest first by default."
    )

    def narrow(self, where: ArticleConditions) -> None:
        """Keep only this provider's articles."""
        where.domains.append([self.domain])

    @strawberry.field(
        description="The topics this provider writes on most: count descending, then "
        "topic key ascending."
    )
    async def topics(self, info: Info, first: int = 10) -> list[TopicCount]:
        rows = await ranked(
            info,
            reads.Ranked(PROVIDER_TOPICS, "provider", "topic", self.domain, page_size(first)),
        )
        return await topic_counts(info, rows, "topic")


async def load_provider(info: Info, embedded: reads.Document) -> Provider:
    """The provider behind an embedded {name, domain}."""
    return provider_of(embedded, await info.context.loaders.provider.load(embedded["domain"]))


def provider_of(embedded: reads.Document, stored: reads.Document | None) -> Provider:
    """The provider of an embedded {name, domain}; one that has no stored articles
    (a related item's source) still answers, with a count of 0."""
    if stored is None:
        stored = {"_id": embedded["domain"], "name": embedded.get("name") or embedded["domain"]}
    return Provider.from_doc(stored)


def provider_field(
    info: Info, embedded: reads.Document, known: Prefetched | None
) -> Provider | Awaitable[Provider]:
    """The provider from the page's prefetched providers, else loaded (awaitable:
    graphql-core awaits what a sync resolver returns when it is awaitable)."""
    if known is not None and embedded["domain"] in known.providers:
        return provider_of(embedded, known.providers[embedded["domain"]])
    return load_provider(info, embedded)


@strawberry.type
class Topic(Node):
    name: str
    article_count: int
    key: strawberry.Private[str]

    @classmethod
    def from_doc(cls, doc: reads.Document) -> Topic:
        return cls(
            id=strawberry.ID(to_global_id("Topic", doc["_id"])),
            name=doc["name"],
            article_count=doc.get("articleCount", 0),
            key=doc["_id"],
        )

    articles: Connection[Article] = strawberry.field(
        resolver=owned_articles, description="Articles on this topic, newest first by default."
    )

    def narrow(self, where: ArticleConditions) -> None:
        """Keep only this topic's articles."""
        where.all_topics.append(self.key)

    @strawberry.field(
        description="Topics that appear on the same articles: count descending, then "
        "topic key ascending."
    )
    async def related_topics(self, info: Info, first: int = 10) -> list[TopicCount]:
        rows = await ranked(
            info, reads.Ranked(TOPIC_PAIRS, "topic", "other", self.key, page_size(first))
        )
        return await topic_counts(info, rows, "other")

    @strawberry.field(
        description="Who writes on this topic most: count descending, then domain ascending."
    )
    async def providers(self, info: Info, first: int = 10) -> list[ProviderCount]:
        rows = await ranked(
            info, reads.Ranked(PROVIDER_TOPICS, "topic", "provider", self.key, page_size(first))
        )
        keys = [row["provider"] for row in rows]
        docs = await info.context.loaders.provider.load_many(keys)
        return [
            ProviderCount(provider=provider_of({"domain": key}, doc), count=row["count"])
            for key, row, doc in zip(keys, rows, docs, strict=True)
        ]


@strawberry.type
class Category(Node):
    name: str
    article_count: int

    @classmethod
    def from_doc(cls, doc: reads.Document) -> Category:
        return cls(
            id=strawberry.ID(to_global_id("Category", doc["_id"])),
            name=doc.get("name") or doc["_id"],
            article_count=doc.get("articleCount", 0),
        )

    articles: Connection[Article] = strawberry.field(
        resolver=owned_articles, description="Articles in this category, newest first by default."
    )

    def narrow(self, where: ArticleConditions) -> None:
        """Keep only this category's articles."""
        where.categories.append(self.name)


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
    doc: strawberry.Private[reads.Document]
    known: strawberry.Private[Prefetched | None] = None

    @classmethod
    def from_doc(cls, doc: reads.Document, known: Prefetched | None = None) -> RelatedItem:
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
            known=known,
        )

    # Sync, so a prefetched provider costs no await; see api.schema.prefetch.
    @strawberry.field
    def provider(self, info: Info) -> Provider | None:
        embedded = self.doc.get("provider")
        return provider_field(info, embedded, self.known) if embedded else None  # type: ignore[return-value]

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
    lead_image: Image | None = strawberry.field(
        description="The largest image by area, else the first."
    )
    related: list[RelatedItem]
    doc: strawberry.Private[reads.Document]
    known: strawberry.Private[Prefetched | None] = None

    @classmethod
    def from_doc(cls, doc: reads.Document, known: Prefetched | None = None) -> Article:
        # A connection reads only the fields its query selects (api.schema.projection), so
        # a required field may be absent here: it was not selected, so never served.
        images = [Image.from_doc(image) for image in doc.get("images", ())]
        return cls(
            id=strawberry.ID(to_global_id("Article", doc["_id"])),
            web_url=doc.get("webUrl", ""),
            original_url=doc.get("originalUrl"),
            title=doc.get("title", ""),
            excerpt=doc.get("excerpt"),
            category=doc.get("category"),
            type=doc.get("type"),
            published_date_time=doc.get("publishedDateTime"),  # type: ignore[arg-type]
            quality=doc.get("quality"),
            heat=doc.get("heat"),
            published=doc.get("published"),
            images=images,
            lead_image=lead_image(images),
            related=[RelatedItem.from_doc(item, known) for item in doc.get("related", ())],
            doc=doc,
            known=known,
        )

    # Sync, so prefetched providers and topics cost no await; see api.schema.prefetch.
    @strawberry.field
    def provider(self, info: Info) -> Provider:
        return provider_field(info, self.doc["provider"], self.known)  # type: ignore[return-value]

    @strawberry.field
    def topics(self, info: Info) -> list[Topic]:
        keys = self.doc.get("topicKeys", [])
        known = self.known
        if known is not None and all(key in known.topics for key in keys):
            return self.topics_of([known.topics[key] for key in keys])
        return self.load_topics(info)  # type: ignore[return-value]

    async def load_topics(self, info: Info) -> list[Topic]:
        return self.topics_of(
            await info.context.loaders.topic.load_many(self.doc.get("topicKeys", []))
        )

    def topics_of(self, docs: list[reads.Document | None]) -> list[Topic]:
        """The article's topics from their stored documents (None where a topic has
        none yet: it answers with the name the article gives it)."""
        keys = self.doc.get("topicKeys", [])
        names = dict(zip(keys, self.doc.get("topics", []), strict=False))
        return [
            Topic.from_doc(doc or {"_id": key, "name": names.get(key, key)})
            for key, doc in zip(keys, docs, strict=True)
        ]

    @strawberry.field(
        description="The articles whose related items point at this one, newest first."
    )
    async def mentioned_in(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Article]:
        collection = info.context.db[ARTICLES]
        match = {"related.canonicalUrl": self.doc["canonicalUrl"]}
        return await articles_page(
            info,
            match,
            reads.NEWEST_FIRST,
            (first, after, last, before),
            lambda: reads.count_matching(collection, match, "mentioned_in"),
            "mentioned_in",
        )
