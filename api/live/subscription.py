"""The root Subscription: articles as they are added and updated by the loader."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from api.live.hub import Change
from api.live.transport import Live, current_operation
from api.schema.context import Info
from api.schema.inputs import ArticleFilter, conditions
from api.schema.types import Article


async def article_events(
    info: Info, change: Change, filter: ArticleFilter | None
) -> AsyncGenerator[Article, None]:
    where = conditions(filter)  # a bad filter is refused before anything is opened
    live: Live = info.context.request.app.state.live
    assert live.hub is not None
    connection = info.context.connection
    operation = current_operation.get()

    def overflow() -> None:
        if connection is not None:
            connection.slow_consumer(operation)

    subscriber = await live.hub.subscribe(change, where, overflow)
    try:
        while (doc := await subscriber.next()) is not None:
            info.context.fresh_loaders()
            yield Article.from_doc(doc)
            live.metrics.delivered.inc()
    finally:
        live.hub.unsubscribe(subscriber)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each article the loader inserts from now on, in commit order, that "
        "matches the filter (the same filter as articles)."
    )
    async def article_added(
        self, info: Info, filter: ArticleFilter | None = None
    ) -> AsyncGenerator[Article, None]:
        async with aclosing(article_events(info, Change.ADDED, filter)) as events:
            async for article in events:
                yield article

    @strawberry.subscription(
        description="Each stored article a re-load changes from now on, in commit order, "
        "that matches the filter after the change."
    )
    async def article_updated(
        self, info: Info, filter: ArticleFilter | None = None
    ) -> AsyncGenerator[Article, None]:
        async with aclosing(article_events(info, Change.UPDATED, filter)) as events:
            async for article in events:
                yield article
