"""``search``: its connection, edges (score, highlights) and order. The index finds
the page's keys (api.search); the articles are then read from MongoDB in one read."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

import strawberry

from api.schema.context import Info
from api.schema.prefetch import prefetch
from api.schema.projection import article_projection
from api.schema.types import Article, PageInfo, Paging
from api.search.searcher import NEWEST, RELEVANCE, Hit, SearchPage, engine_page
from api.search.service import SearchService
from api.store import reads
from api.store.filters import ArticleConditions
from api.store.pagination import window


@strawberry.enum(description="How search results are ordered.")
class SearchOrder(Enum):
    RELEVANCE = strawberry.enum_value(
        RELEVANCE, description="Most relevant first (BM25; a title match weighs double)."
    )
    NEWEST = strawberry.enum_value(NEWEST, description="Newest first, ties by key.")


@strawberry.type(
    description="Why a result matched: its title and excerpt, HTML-escaped, with each "
    "word that matched the query (stemmed: `bans` marks `banned`) inside "
    "`<mark>`...`</mark>`. Safe to insert as HTML."
)
class SearchHighlights:
    title: str
    excerpt: str | None


@strawberry.type
class ArticleSearchEdge:
    score: float = strawberry.field(description="Relevance (BM25): higher is more relevant.")
    node: Article
    hit: strawberry.Private[Hit]
    page: strawberry.Private[SearchPage]

    @strawberry.field
    def cursor(self) -> str:
        return self.hit.cursor  # encoded only when a client asks for it

    @strawberry.field(description="The title and excerpt with the matched words marked.")
    def highlights(self) -> SearchHighlights:
        doc = self.node.doc
        return SearchHighlights(
            title=self.page.highlight("title", doc.get("title", "")) or "",
            excerpt=self.page.highlight("excerpt", doc.get("excerpt")),
        )


@strawberry.type
class ArticleSearchConnection:
    edges: list[ArticleSearchEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], int]]

    @strawberry.field
    def nodes(self) -> list[Article]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="Every result, over every page: exact.")
    def total_count(self) -> int:
        return self.count()


def _selects_highlights(info: Info) -> bool:
    for connection in info.selected_fields:
        for child in connection.selections:
            if getattr(child, "name", None) == "edges":
                for part in getattr(child, "selections", ()):
                    if getattr(part, "name", None) == "highlights":
                        return True
    return False


async def search_connection(
    info: Info, text: str, where: ArticleConditions, order: SearchOrder, paging: Paging
) -> ArticleSearchConnection:
    service: SearchService = info.context.request.app.state.search
    search = await service.search(text, where, NEWEST if order is SearchOrder.NEWEST else RELEVANCE)
    page = await engine_page(search, window(*paging))
    extra = ("title", "excerpt") if _selects_highlights(info) else ()
    projection = article_projection(info, *extra) or reads.ARTICLE_PROJECTION
    keys = [hit.key for hit in page.hits]
    docs = await reads.articles_by_keys(info.context.db, keys, projection) if keys else {}
    # An article deleted in MongoDB since the index last heard of it is left out.
    hits = [hit for hit in page.hits if hit.key in docs]
    known = await prefetch(info, [docs[hit.key] for hit in hits])
    edges = [
        ArticleSearchEdge(
            hit=hit,
            score=hit.score,
            node=Article.from_doc(docs[hit.key], known),
            page=page,
        )
        for hit in hits
    ]
    page_info = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=hits[0].cursor if hits else None,
        end_cursor=hits[-1].cursor if hits else None,
    )
    return ArticleSearchConnection(edges=edges, page_info=page_info, count=page.count)
