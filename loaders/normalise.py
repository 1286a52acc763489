"""Turn a parsed article mapping into the stored document (see storage.contract)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time
from typing import Any

import ftfy

from loaders.frontmatter import InputError
from loaders.urls import (
    article_id,
    canonical_url,
    domain_of,
    is_absolute_http_url,
)
from storage.keys import provider_key, topic_key

ARTICLE_TEXT = ("title", "excerpt", "category", "type")
IMAGE_FIELDS = ("url", "width", "height", "title", "isCached")


def repair_text(value: str) -> str:
    """Undo double encoding (UTF-8 read as cp1252); text that is not damaged is
    returned unchanged. ASCII cannot be damaged, so it skips ftfy."""
    return value if value.isascii() else ftfy.fix_encoding(value)


def _text(value: Any, field: str, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise InputError("missing", field=field)
        return None
    if not isinstance(value, str):
        raise InputError(f"expected text, got {type(value).__name__}", field=field)
    value = repair_text(value).strip()
    if required and not value:
        raise InputError("empty", field=field)
    return value


def _url(value: Any, field: str, required: bool = False) -> str | None:
    text = _text(value, field, required)
    if text is not None and not is_absolute_http_url(text):
        raise InputError("not an absolute http(s) URL", field=field)
    return text


def _int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"expected an integer, got {type(value).__name__}", field=field)
    if value < 0:
        raise InputError("must be >= 0", field=field)
    return value


def _bool(value: Any, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InputError(f"expected true or false, got {type(value).__name__}", field=field)


def _datetime(value: Any, field: str, required: bool = False) -> datetime | None:
    if value is None:
        if required:
            raise InputError("missing", field=field)
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"not an ISO 8601 date-time: {value!r}", field=field) from None
    else:
        raise InputError(f"expected a date-time, got {type(value).__name__}", field=field)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    # BSON dates have millisecond precision; trim now so the content hash is stable.
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


def _mapping(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"expected a mapping, got {type(value).__name__}", field=field)
    return value


def _list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"expected a list, got {type(value).__name__}", field=field)
    return value


def _compact(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if value is not None}


def _provider(value: Any, field: str, web_url: str) -> dict[str, Any]:
    raw = _mapping(value, field) if value is not None else {}
    domain = _text(raw.get("domain"), f"{field}.domain")
    domain = provider_key(domain) if domain else domain_of(web_url)
    name = _text(raw.get("name"), f"{field}.name") or domain
    return {"name": name, "domain": domain}


def _images(value: Any, field: str) -> list[dict[str, Any]]:
    images = []
    for index, item in enumerate(_list(value, field)):
        where = f"{field}[{index}]"
        raw = _mapping(item, where)
        images.append(
            _compact(
                {
                    "url": _url(raw.get("url"), f"{where}.url", required=True),
                    "width": _int(raw.get("width"), f"{where}.width"),
                    "height": _int(raw.get("height"), f"{where}.height"),
                    "title": _text(raw.get("title"), f"{where}.title"),
                    "isCached": _bool(raw.get("isCached"), f"{where}.isCached"),
                }
            )
        )
    return images


def _topics(value: Any) -> tuple[list[str], list[str]]:
    names: list[str] = []
    keys: list[str] = []
    for index, item in enumerate(_list(value, "topics")):
        name = _text(item, f"topics[{index}]", required=True)
        assert name is not None
        key = topic_key(name)
        if key not in keys:
            names.append(name)
            keys.append(key)
    return names, keys


def _related(value: Any) -> list[dict[str, Any]]:
    related = []
    for index, item in enumerate(_list(value, "related")):
        where = f"related[{index}]"
        raw = _mapping(item, where)
        web_url = _url(raw.get("webUrl"), f"{where}.webUrl", required=True)
        assert web_url is not None
        provider = raw.get("provider")
        related.append(
            _compact(
                {
                    "title": _text(raw.get("title"), f"{where}.title", required=True),
                    "excerpt": _text(raw.get("excerpt"), f"{where}.excerpt"),
                    "publishedDateTime": _datetime(
                        raw.get("publishedDateTime"), f"{where}.publishedDateTime"
                    ),
                    "webUrl": web_url,
                    "canonicalUrl": canonical_url(web_url),
                    "ampWebUrl": _url(raw.get("ampWebUrl"), f"{where}.ampWebUrl"),
                    "cdnAmpWebUrl": _url(raw.get("cdnAmpWebUrl"), f"{where}.cdnAmpWebUrl"),
                    "type": _text(raw.get("type"), f"{where}.type"),
                    "quality": _int(raw.get("quality"), f"{where}.quality"),
                    "provider": (
                        _provider(provider, f"{where}.provider", web_url)
                        if provider is not None
                        else None
                    ),
                    "images": _images(raw.get("images"), f"{where}.images"),
                }
            )
        )
    return related


KNOWN_FIELDS = frozenset(
    (
        *ARTICLE_TEXT,
        "webUrl",
        "originalUrl",
        "publishedDateTime",
        "quality",
        "heat",
        "published",
        "provider",
        "topics",
        "images",
        "related",
        "secured",
    )
)


def normalise_article(raw: dict[str, Any]) -> dict[str, Any]:
    """The stored document for one article; raises InputError naming the field."""
    web_url = _url(raw.get("webUrl"), "webUrl", required=True)
    assert web_url is not None
    canonical = canonical_url(web_url)
    topics, topic_keys = _topics(raw.get("topics"))
    secured = raw.get("secured")
    if secured is not None and not isinstance(secured, str):
        raise InputError(f"expected text, got {type(secured).__name__}", field="secured")
    extra = {key: value for key, value in raw.items() if key not in KNOWN_FIELDS}
    doc = _compact(
        {
            "_id": article_id(canonical),
            "webUrl": web_url,
            "canonicalUrl": canonical,
            "originalUrl": _url(raw.get("originalUrl"), "originalUrl"),
            "title": _text(raw.get("title"), "title", required=True),
            "excerpt": _text(raw.get("excerpt"), "excerpt"),
            "category": _text(raw.get("category"), "category"),
            "type": _text(raw.get("type"), "type"),
            "publishedDateTime": _datetime(
                raw.get("publishedDateTime"), "publishedDateTime", required=True
            ),
            "quality": _int(raw.get("quality"), "quality"),
            "heat": _int(raw.get("heat"), "heat"),
            "published": _bool(raw.get("published"), "published"),
            "provider": _provider(raw.get("provider"), "provider", web_url),
            "topics": topics,
            "topicKeys": topic_keys,
            "images": _images(raw.get("images"), "images"),
            "related": _related(raw.get("related")),
            "secured": secured,
            "extra": _jsonable(extra) if extra else None,
        }
    )
    doc["contentHash"] = content_hash(doc)
    return doc


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def content_hash(doc: dict[str, Any]) -> str:
    """A digest of everything stored: equal hashes mean nothing to rewrite."""
    payload = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()
