"""Turn a raw article mapping into the stored document (see storage.contract)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from loaders.errors import InputError
from loaders.model import ARTICLE, repair_text
from loaders.urls import article_id, canonical_url, domain_of
from storage.keys import provider_key, topic_key

__all__ = ["content_hash", "normalise_article", "repair_text", "unknown_fields"]


def _provider(raw: dict[str, Any] | None, web_url: str, field: str) -> dict[str, str]:
    raw = raw or {}
    domain = provider_key(raw["domain"]) if raw.get("domain") else domain_of(web_url)
    if not domain:
        raise InputError("not a domain name", field=f"{field}.domain")
    return {"name": raw.get("name") or domain, "domain": domain}


def _topics(names: list[str]) -> tuple[list[str], list[str]]:
    """Display names and keys, a topic that differs only in case kept once (the
    first spelling seen)."""
    kept: dict[str, str] = {}
    for name in names:
        kept.setdefault(topic_key(name), name)
    return list(kept.values()), list(kept)


def _related(item: dict[str, Any], index: int) -> dict[str, Any]:
    item["canonicalUrl"] = canonical_url(item["webUrl"])
    if "provider" in item:
        item["provider"] = _provider(item["provider"], item["webUrl"], f"related[{index}].provider")
    item.setdefault("images", [])
    return item


def normalise_article(raw: Any) -> dict[str, Any]:
    """The stored document for one article; raises InputError naming the field."""
    doc = ARTICLE.clean(raw)
    canonical = canonical_url(doc["webUrl"])
    topics, keys = _topics(doc.get("topics", []))
    doc.update(
        _id=article_id(canonical),
        canonicalUrl=canonical,
        provider=_provider(doc.get("provider"), doc["webUrl"], "provider"),
        topics=topics,
        topicKeys=keys,
        images=doc.get("images", []),
        related=[_related(item, index) for index, item in enumerate(doc.get("related", []))],
    )
    doc["contentHash"] = content_hash(doc)
    return doc


def unknown_fields(raw: dict[str, Any]) -> list[str]:
    """The top-level fields the model does not know (kept under ``extra``)."""
    return ARTICLE.unknown_fields(raw)


def content_hash(doc: dict[str, Any]) -> str:
    """A digest of everything stored: equal hashes mean nothing to rewrite."""
    payload = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.blake2b(payload, digest_size=16).hexdigest()
