"""The index's schema, and an article as the index holds it.

Only what search needs is indexed: the two texts (stemmed, not stored: the page is
read from MongoDB), the key, and every field an ``ArticleFilter`` tests, as raw
terms or numeric fast fields, so that a filter is a term or range lookup inside the
engine, never a scan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import tantivy

# Bumped whenever the schema or the tokenizer changes: an index of another version
# is rebuilt from MongoDB.
SCHEMA_VERSION = 1

KEY = "key"  # the article's _id, a stored raw term: deletes, and the page's read by id
TITLE = "title"
EXCERPT = "excerpt"
TOPIC = "topic"  # topic keys, case-folded
DOMAIN = "domain"
CATEGORY = "category"
TYPE = "type"
PUBLISHED = "published"  # "true" / "false"; absent when the article has no flag
DATE = "date"  # publishedDateTime, in milliseconds since the epoch
HEAT = "heat"
QUALITY = "quality"
# "<date, 13 digits>|<key>": newest first with ties by key, in one fast field.
NEWEST = "newest"

TEXT_FIELDS = (TITLE, EXCERPT)
# BM25 weight of a match in the title over one in the excerpt.
TITLE_BOOST = 2.0


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(KEY, stored=True, tokenizer_name="raw", index_option="basic")
    for text in TEXT_FIELDS:
        builder.add_text_field(text, tokenizer_name="en_stem", index_option="position")
    for raw in (TOPIC, DOMAIN, CATEGORY, TYPE, PUBLISHED):
        builder.add_text_field(raw, tokenizer_name="raw", index_option="basic")
    for number in (DATE, HEAT, QUALITY):
        builder.add_integer_field(number, indexed=True, fast=True)
    builder.add_text_field(NEWEST, tokenizer_name="raw", fast=True, index_option="basic")
    return builder.build()


SCHEMA = build_schema()

# What an article is read with to be indexed: nothing more crosses the wire.
PROJECTION = {
    "title": 1,
    "excerpt": 1,
    "topicKeys": 1,
    "provider.domain": 1,
    "category": 1,
    "type": 1,
    "published": 1,
    "publishedDateTime": 1,
    "heat": 1,
    "quality": 1,
}


class Unindexable(ValueError):
    """A stored article the index cannot hold: it has no date to order and filter by."""


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def newest_value(date_ms: int, key: str) -> str:
    return f"{date_ms:013d}|{key}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def to_document(article: dict[str, Any]) -> tantivy.Document:
    """The article as the index holds it. A stored value of the wrong type (the
    loader never writes one) is left out, as a missing one is; an article without a
    date raises Unindexable."""
    key = str(article["_id"])
    moment = article.get("publishedDateTime")
    if not isinstance(moment, datetime):
        raise Unindexable(f"article {key} has no publishedDateTime date (it has {moment!r})")
    doc = tantivy.Document()
    doc.add_text(KEY, key)
    for text in TEXT_FIELDS:
        doc.add_text(text, _text(article.get(text)))
    topics = article.get("topicKeys")
    for topic in topics if isinstance(topics, list) else ():
        if isinstance(topic, str):
            doc.add_text(TOPIC, topic)
    provider = article.get("provider")
    domain = provider.get("domain") if isinstance(provider, dict) else None
    if isinstance(domain, str) and domain:
        doc.add_text(DOMAIN, domain)
    for raw in (CATEGORY, TYPE):
        if isinstance(article.get(raw), str):
            doc.add_text(raw, article[raw])
    if isinstance(article.get("published"), bool):
        doc.add_text(PUBLISHED, "true" if article["published"] else "false")
    date_ms = millis(moment)
    doc.add_integer(DATE, date_ms)
    doc.add_text(NEWEST, newest_value(date_ms, key))
    for number in (HEAT, QUALITY):
        value = article.get(number)
        if isinstance(value, int) and not isinstance(value, bool):
            doc.add_integer(number, value)
    return doc
