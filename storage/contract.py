"""Collection names, stored document shape and indexes: the one storage contract.

Stored shapes (field names follow the source feed, as its users know them):

``articles``::

    _id               str   stable id: digest of the canonical webUrl (see loaders.urls)
    webUrl            str   as it came
    canonicalUrl      str   lower-cased scheme and host, no fragment, no utm_* parameters
    originalUrl, title, excerpt, category, type     str | absent
    publishedDateTime datetime (UTC)
    quality, heat     int | absent
    published         bool | absent
    provider          {name: str, domain: str}     domain lower-cased, no "www."
    topics            [str]  display spellings, as in the source (duplicates merged)
    topicKeys         [str]  the same, case-folded: what filters and counts use
    images            [{url, width?, height?, title?, isCached?}]
    related           [{title, webUrl, canonicalUrl, excerpt?, publishedDateTime?, ampWebUrl?,
                        cdnAmpWebUrl?, type?, quality?, provider?, images: [...]}]
    secured           str | absent   opaque; stored, never served
    extra             {..} | absent  fields the model does not know (also in related
                                     items, images and provider when they have some)
    contentHash       str            digest of the normalised content: unchanged => no rewrite

``providers``:  {_id: domain, name, articleCount}
``topics``:     {_id: case-folded name, name, articleCount}
``categories``: {_id: category, name, articleCount}
``providerTopics``: {_id: "<domain>|<topic key>", provider: domain, topic: topic key, count}
    how many of a provider's articles carry a topic (Provider.topics, Topic.providers)
``topicPairs``: {_id: "<topic key>|<other key>", topic, other, count}
    how many articles carry both topics, stored in both directions (Topic.relatedTopics)

Every count is recomputed from ``articles`` by the loader after it writes, so the
derived collections agree with ``articles`` after every run. Each derived row also
carries ``run``: the ObjectId of the recount that wrote it (loader bookkeeping).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

ARTICLES = "articles"
PROVIDERS = "providers"
TOPICS = "topics"
CATEGORIES = "categories"
PROVIDER_TOPICS = "providerTopics"
TOPIC_PAIRS = "topicPairs"
# Automatic persisted queries: {_id: sha256 of the query text, query, registeredAt}.
# Written by the API (the one collection it writes), shared by every API process.
PERSISTED_QUERIES = "persistedQueries"

DEFAULT_DB = "newsgraph"


def database_name() -> str:
    """The database named by ``NEWSGRAPH_DB`` (default ``newsgraph``)."""
    return os.environ.get("NEWSGRAPH_DB") or DEFAULT_DB


@dataclass(frozen=True)
class Index:
    collection: str
    keys: tuple[tuple[str, int | str], ...]  # 1 / -1, or "text"
    name: str
    unique: bool = False


# The sort fields articles can be ordered by, and the equality filters that lead an
# index ahead of them. Every (lead, sort) pair has an index, so every order the API
# accepts, alone or behind one of these filters, is read from an index in order.
ARTICLE_SORT_FIELDS = {"published": "publishedDateTime", "heat": "heat", "quality": "quality"}
ARTICLE_INDEX_LEADS = {"topic": "topicKeys", "provider": "provider.domain", "category": "category"}


def article_index_name(lead: str | None, sort: str) -> str:
    """The name of the index that serves ``sort`` behind the equality filter ``lead``."""
    return f"{lead}_{sort}" if lead else f"{sort}_desc"


def _article_order_indexes() -> tuple[Index, ...]:
    indexes = []
    for sort, sort_field in ARTICLE_SORT_FIELDS.items():
        tail = ((sort_field, -1), ("_id", -1))
        indexes.append(Index(ARTICLES, tail, article_index_name(None, sort)))
        for lead, lead_field in ARTICLE_INDEX_LEADS.items():
            indexes.append(
                Index(ARTICLES, ((lead_field, 1), *tail), article_index_name(lead, sort))
            )
    return tuple(indexes)


# Every index the API's queries rely on. `ensure_indexes` creates them; creating
# an index that already exists with the same spec is a no-op in MongoDB.
INDEXES: tuple[Index, ...] = (
    *_article_order_indexes(),
    Index(ARTICLES, (("canonicalUrl", 1),), "canonical_url", unique=True),
    # Article.mentionedIn: the reverse edge of `related`, newest first.
    Index(
        ARTICLES,
        (("related.canonicalUrl", 1), ("publishedDateTime", -1), ("_id", -1)),
        "mentioned_in",
    ),
    Index(PROVIDERS, (("articleCount", -1), ("_id", -1)), "count_desc"),
    Index(PROVIDERS, (("name", 1), ("_id", 1)), "name"),
    Index(TOPICS, (("articleCount", -1), ("_id", -1)), "count_desc"),
    Index(TOPICS, (("name", 1), ("_id", 1)), "name"),
    Index(CATEGORIES, (("articleCount", -1), ("_id", -1)), "count_desc"),
    # `categories`: most articles first, then by name.
    Index(CATEGORIES, (("articleCount", -1), ("_id", 1)), "count_name"),
    Index(PROVIDER_TOPICS, (("provider", 1), ("count", -1), ("topic", 1)), "provider_count"),
    Index(PROVIDER_TOPICS, (("topic", 1), ("count", -1), ("provider", 1)), "topic_count"),
    Index(TOPIC_PAIRS, (("topic", 1), ("count", -1), ("other", 1)), "topic_count"),
    Index(PERSISTED_QUERIES, (("registeredAt", 1),), "registered_at"),
)

# Indexes earlier versions created and nothing reads any more: `ensure_indexes` drops
# them. "text" served `search` through MongoDB's $text before search moved to its own
# engine (api/search); it was the heaviest index to build and to maintain on insert.
RETIRED_INDEXES: tuple[tuple[str, str], ...] = ((ARTICLES, "text"),)


# Loader bookkeeping: the provider domains, topic keys and categories whose counts a
# run may have changed, recorded before it writes the articles and cleared after it
# recounted them, so that a run killed in between is finished by the next one.
# {_id: "<kind>|<key>", kind: "provider" | "topic" | "category", key}
LOAD_PENDING = "loadPending"

_TEXT = {"bsonType": "string"}
_URL = {"bsonType": "string", "pattern": "^[hH][tT][tT][pP][sS]?://"}
_COUNT = {"bsonType": ["int", "long"], "minimum": 0}
_TEXTS = {"bsonType": "array", "items": _TEXT}
_IMAGES = {
    "bsonType": "array",
    "items": {
        "bsonType": "object",
        "required": ["url"],
        "properties": {
            "url": _URL,
            "width": _COUNT,
            "height": _COUNT,
            "isCached": {"bsonType": "bool"},
        },
    },
}
_PROVIDER = {
    "bsonType": "object",
    "required": ["name", "domain"],
    "properties": {"name": _TEXT, "domain": {"bsonType": "string", "minLength": 1}},
}

# The `$jsonSchema` validator on `articles`: whoever writes, a stored article has the
# fields the API relies on, with their types.
ARTICLE_VALIDATOR: dict[str, Any] = {
    "$jsonSchema": {
        "bsonType": "object",
        # What the API cannot do without; the other fields are checked when present.
        "required": ["_id", "webUrl", "canonicalUrl", "title", "publishedDateTime", "provider"],
        "properties": {
            "_id": {"bsonType": "string"},
            "webUrl": _URL,
            "canonicalUrl": _URL,
            "originalUrl": _URL,
            "title": {"bsonType": "string", "minLength": 1},
            "excerpt": _TEXT,
            "category": _TEXT,
            "type": _TEXT,
            "publishedDateTime": {"bsonType": "date"},
            "quality": _COUNT,
            "heat": _COUNT,
            "published": {"bsonType": "bool"},
            "provider": _PROVIDER,
            "topics": _TEXTS,
            "topicKeys": _TEXTS,
            "images": _IMAGES,
            "related": {
                "bsonType": "array",
                "items": {
                    "bsonType": "object",
                    "required": ["title", "webUrl"],
                    "properties": {
                        "title": _TEXT,
                        "webUrl": _URL,
                        "publishedDateTime": {"bsonType": "date"},
                        "provider": _PROVIDER,
                        "quality": _COUNT,
                        "images": _IMAGES,
                    },
                },
            },
            "secured": _TEXT,
            "extra": {"bsonType": "object"},
            "contentHash": _TEXT,
        },
    }
}
