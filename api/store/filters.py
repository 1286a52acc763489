"""What an article filter means in MongoDB: the match, the index that serves it, and
where its count is kept. Pure data in, plain documents out: values are only ever
compared for equality or order, never read as operators or patterns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.contract import (
    ARTICLES,
    CATEGORIES,
    PROVIDER_TOPICS,
    PROVIDERS,
    TOPIC_PAIRS,
    TOPICS,
    article_index_name,
)

Document = dict[str, Any]


@dataclass(frozen=True)
class CountSource:
    """A count the loader maintains: the sum of ``field`` over ``ids`` in ``collection``."""

    collection: str
    field: str
    ids: tuple[str, ...]


# The collection's own document count (an estimate kept by MongoDB, exact after a
# clean shutdown).
ALL_ARTICLES = CountSource(ARTICLES, "", ())


@dataclass
class ArticleConditions:
    """Every condition an article must meet. Lists of keys are already normalised
    (topic keys case-folded, domains without www.)."""

    all_topics: list[str] = field(default_factory=list)
    any_topics: list[str] = field(default_factory=list)
    # Each list is one condition ("the provider is one of these"); a connection's
    # own provider and a filter's domains are two, and both must hold.
    domains: list[list[str]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    type: str | None = None
    published: bool | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    min_quality: int | None = None
    min_heat: int | None = None

    def match(self) -> Document:
        clauses: list[Document] = []
        if self.all_topics:
            keys = sorted(set(self.all_topics))
            clauses.append({"topicKeys": keys[0] if len(keys) == 1 else {"$all": keys}})
        if self.any_topics:
            clauses.append({"topicKeys": {"$in": sorted(set(self.any_topics))}})
        for domains in self.domains:
            clauses.append({"provider.domain": {"$in": sorted(set(domains))}})
        clauses += [{"category": category} for category in self.categories]
        if self.type is not None:
            clauses.append({"type": self.type})
        if self.published is not None:
            clauses.append({"published": self.published})
        published: Document = {}
        if self.published_after is not None:
            published["$gte"] = self.published_after
        if self.published_before is not None:
            published["$lt"] = self.published_before
        if published:
            clauses.append({"publishedDateTime": published})
        if self.min_quality is not None:
            clauses.append({"quality": {"$gte": self.min_quality}})
        if self.min_heat is not None:
            clauses.append({"heat": {"$gte": self.min_heat}})
        if len(clauses) > 1:
            return {"$and": clauses}
        return clauses[0] if clauses else {}

    def _lead(self) -> tuple[str | None, bool]:
        """The equality filter that leads the index, and whether it is an ``$in``
        over several values (which MongoDB merges in order from several scans)."""
        if self.all_topics:
            return "topic", False
        if self.any_topics:
            return "topic", len(set(self.any_topics)) > 1
        if self.domains:
            return "provider", len(set(self.domains[0])) > 1
        if self.categories:
            return "category", False
        return None, False

    def index(self, sort: str) -> tuple[str, bool]:
        """The name of the index that serves this filter in the order ``sort``, and
        whether its lead is exploded (see ``store.Order.after``)."""
        lead, exploded = self._lead()
        return article_index_name(lead, sort), exploded

    def count_index(self) -> str:
        """The index to count with when the count is not kept: the lead's, on the
        field the filter bounds by a range (heat, quality, date), so that the range
        is read as index bounds instead of checked article by article."""
        lead, _ = self._lead()
        ranges = (
            ("heat", self.min_heat is not None),
            ("quality", self.min_quality is not None),
            ("published", self.published_after is not None or self.published_before is not None),
        )
        sort = next((sort for sort, bounded in ranges if bounded), "published")
        return article_index_name(lead, sort)

    def count_source(self) -> CountSource | None:
        """Where the loader keeps this filter's count, when it does; None when the
        articles must be counted. No filter at all is ``ALL_ARTICLES``."""
        others = (
            self.any_topics
            or self.type is not None
            or self.published is not None
            or self.published_after is not None
            or self.published_before is not None
            or self.min_quality is not None
            or self.min_heat is not None
        )
        topics = sorted(set(self.all_topics))
        if others or len(self.domains) > 1 or len(topics) > 2:
            return None
        domains = sorted(set(self.domains[0])) if self.domains else None
        if self.categories:
            if topics or domains is not None or len(set(self.categories)) > 1:
                return None
            return CountSource(CATEGORIES, "articleCount", (self.categories[0],))
        if domains is not None:
            if not topics:
                return CountSource(PROVIDERS, "articleCount", tuple(domains))
            if len(topics) == 1:
                ids = tuple(f"{domain}|{topics[0]}" for domain in domains)
                return CountSource(PROVIDER_TOPICS, "count", ids)
            return None
        if len(topics) == 2:
            return CountSource(TOPIC_PAIRS, "count", (f"{topics[0]}|{topics[1]}",))
        if len(topics) == 1:
            return CountSource(TOPICS, "articleCount", (topics[0],))
        return ALL_ARTICLES
