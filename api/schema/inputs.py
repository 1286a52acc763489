"""The GraphQL input types and enums: filters and orders, and what they mean."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum

import strawberry

from api.errors import BadUserInput
from api.store.filters import ArticleConditions
from api.store.reads import Order
from storage.contract import ARTICLE_SORT_FIELDS
from storage.keys import provider_key, topic_key

# Each value of a list filter is one more index scan merged in order; more than
# this many is refused rather than slowly served.
MAX_FILTER_VALUES = 20


@strawberry.enum
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"

    @property
    def sign(self) -> int:
        return 1 if self is OrderDirection.ASC else -1


@strawberry.enum
class ArticleOrderField(Enum):
    PUBLISHED_DATE_TIME = "published"
    HEAT = "heat"
    QUALITY = "quality"


@strawberry.input(description="Newest first when not given.")
class ArticleOrder:
    field: ArticleOrderField
    direction: OrderDirection

    def keyset(self) -> Order:
        name = self.field.value
        dated = self.field is ArticleOrderField.PUBLISHED_DATE_TIME
        return Order(
            f"{name}-{self.direction.value}",
            ARTICLE_SORT_FIELDS[name],
            self.direction.sign,
            value_type=datetime if dated else int,
            nullable=not dated,
        )


NEWEST_FIRST = ArticleOrder(
    field=ArticleOrderField.PUBLISHED_DATE_TIME, direction=OrderDirection.DESC
)


def _keys(values: list[str] | None, argument: str, normalise: Callable[[str], str]) -> list[str]:
    if not values:
        return []
    if len(values) > MAX_FILTER_VALUES:
        raise BadUserInput(
            f"filter.{argument} takes at most {MAX_FILTER_VALUES} values, got {len(values)}",
            argument=f"filter.{argument}",
            limit=MAX_FILTER_VALUES,
        )
    return [normalise(value) for value in values]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


@strawberry.input(description="All given conditions must hold. An empty list is no condition.")
class ArticleFilter:
    topic: str | None = strawberry.field(default=None, description="Carries this topic.")
    provider_domain: str | None = None
    category: str | None = None
    topics: list[str] | None = strawberry.field(
        default=None, description="Carries all of these topics (case ignored)."
    )
    any_topics: list[str] | None = strawberry.field(
        default=None, description="Carries at least one of these topics (case ignored)."
    )
    provider_domains: list[str] | None = strawberry.field(
        default=None, description="From one of these providers (www. and case ignored)."
    )
    type: str | None = None
    published: bool | None = None
    published_after: datetime | None = strawberry.field(
        default=None, description="Published at or after this moment."
    )
    published_before: datetime | None = strawberry.field(
        default=None, description="Published before this moment."
    )
    min_quality: int | None = None
    min_heat: int | None = None

    def conditions(self) -> ArticleConditions:
        all_topics = _keys(self.topics, "topics", topic_key)
        if self.topic is not None:
            all_topics.append(topic_key(self.topic))
        domains = [_keys(self.provider_domains, "providerDomains", provider_key)]
        if self.provider_domain is not None:
            domains.append([provider_key(self.provider_domain)])
        return ArticleConditions(
            all_topics=all_topics,
            any_topics=_keys(self.any_topics, "anyTopics", topic_key),
            domains=[d for d in domains if d],
            categories=[self.category] if self.category is not None else [],
            type=self.type,
            published=self.published,
            published_after=_utc(self.published_after),
            published_before=_utc(self.published_before),
            min_quality=self.min_quality,
            min_heat=self.min_heat,
        )


def conditions(filter: ArticleFilter | None) -> ArticleConditions:
    return filter.conditions() if filter else ArticleConditions()


@strawberry.enum
class CatalogOrderField(Enum):
    ARTICLE_COUNT = "count"
    NAME = "name"


@strawberry.input(description="Most articles first when not given.")
class CatalogOrder:
    field: CatalogOrderField
    direction: OrderDirection

    def keyset(self) -> tuple[Order, str]:
        """The order and the name of the index that serves it."""
        kind = f"{self.field.value}-{self.direction.value}"
        if self.field is CatalogOrderField.NAME:
            return Order(kind, "name", self.direction.sign, str), "name"
        return Order(kind, "articleCount", self.direction.sign, int), "count_desc"


MOST_ARTICLES = CatalogOrder(field=CatalogOrderField.ARTICLE_COUNT, direction=OrderDirection.DESC)
