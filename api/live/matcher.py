"""What an article filter means for one stored document, evaluated in process.

The same conditions as ``ArticleConditions.match()`` sends to MongoDB, with
MongoDB's comparison rules where Python's differ: values of different BSON types
never compare (``false`` is not ``0``, a number is not a string), a missing or
null field fails every condition on it, an array field matches when one of its
elements does, and dates are compared at BSON's millisecond precision.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from numbers import Real
from typing import Any

from api.store.filters import ArticleConditions, Document


def matches(where: ArticleConditions, doc: Document) -> bool:
    """Whether ``doc`` (a stored article) meets every condition of ``where``."""
    topics = _values(doc.get("topicKeys"))
    domain = _values((doc.get("provider") or {}).get("domain"))
    return (
        all(_contains(topics, key) for key in where.all_topics)
        and (not where.any_topics or any(_contains(topics, key) for key in where.any_topics))
        and all(any(_contains(domain, d) for d in domains) for domains in where.domains)
        and all(_contains(_values(doc.get("category")), c) for c in where.categories)
        and (where.type is None or _contains(_values(doc.get("type")), where.type))
        and (where.published is None or _contains(_values(doc.get("published")), where.published))
        and _in_dates(_values(doc.get("publishedDateTime")), where)
        and _at_least(_values(doc.get("quality")), where.min_quality)
        and _at_least(_values(doc.get("heat")), where.min_heat)
    )


def _values(stored: Any) -> list[Any]:
    """The values a condition on a field is checked against: an array's elements
    (and the array itself, as MongoDB does), a scalar alone, nothing when missing."""
    if stored is None:
        return []
    if isinstance(stored, list):
        return [*stored, stored]
    return [stored]


def _same(stored: Any, wanted: Any) -> bool:
    """MongoDB equality: only values of the same BSON type are ever equal."""
    if isinstance(wanted, bool) or isinstance(stored, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored is wanted
    if isinstance(wanted, str):
        return isinstance(stored, str) and stored == wanted
    return type(stored) is type(wanted) and bool(stored == wanted)


def _contains(values: Iterable[Any], wanted: Any) -> bool:
    return any(_same(value, wanted) for value in values)


def _number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _at_least(values: list[Any], bound: int | None) -> bool:
    if bound is None:
        return True
    return any(_number(value) and value >= bound for value in values)


def _millis(moment: datetime) -> datetime:
    """``moment`` as BSON stores it: whole milliseconds (truncated, as pymongo encodes)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _in_dates(values: list[Any], where: ArticleConditions) -> bool:
    # Each bound on its own, as MongoDB checks each operator against the elements.
    dates = [value for value in values if isinstance(value, datetime)]
    after, before = where.published_after, where.published_before
    return (after is None or any(value >= _millis(after) for value in dates)) and (
        before is None or any(value < _millis(before) for value in dates)
    )
