"""The article model, declared once: every input format (front matter, JSON, JSON
Lines) is validated by ``ARTICLE.clean(raw)``.

A model is a tree of field types. Each type checks one value and returns it cleaned
(text repaired and stripped, dates in UTC) or raises ``InputError``; the records and
lists it passes through on the way out name the field path, e.g. ``related[1].webUrl``
(built only for an error: most values are fine). Keys a ``Record`` does not declare
are kept under its ``extra`` mapping, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ftfy

from loaders.errors import InputError
from loaders.urls import is_absolute_http_url

MAX_INT = 2**63 - 1  # BSON's widest integer


# UTF-8 read as cp1252 or Latin-1 always leaves a lead byte (Â..ô) followed by what a
# continuation byte (0x80-0xBF) decodes to: text without such a pair skips ftfy.
_MOJIBAKE = re.compile(
    "[\xc2-\xf4][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122\ufffd]"
)


def repair_text(value: str) -> str:
    """Undo double encoding (UTF-8 read as cp1252); text that is not damaged is
    returned unchanged."""
    if value.isascii() or not _MOJIBAKE.search(value):
        return value
    return ftfy.fix_encoding(value)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class Type:
    """One field's type. ``required`` fields may not be missing (nor null)."""

    required: bool = False

    def clean(self, value: Any) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Type):
    required: bool = False

    def clean(self, value: Any) -> str:
        return _text(value, self.required)


def _text(value: Any, required: bool) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected text, got {_type_name(value)}")
    if not value.isascii():  # repair_text, inline: this runs for every text field
        value = repair_text(value)
    text = value.strip()
    if required and not text:
        raise InputError("empty")
    return text


@dataclass(frozen=True)
class Opaque(Type):
    """Text kept exactly as it came (no repair, no stripping)."""

    required: bool = False

    def clean(self, value: Any) -> str:
        if not isinstance(value, str):
            raise InputError(f"expected text, got {_type_name(value)}")
        return value


@dataclass(frozen=True)
class Url(Type):
    required: bool = False

    def clean(self, value: Any) -> str:
        text = _text(value, self.required)
        if not is_absolute_http_url(text):
            raise InputError("not an absolute http(s) URL")
        return text


@dataclass(frozen=True)
class Count(Type):
    """An integer >= 0."""

    required: bool = False

    def clean(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"expected an integer, got {_type_name(value)}")
        if value < 0:
            raise InputError("must be >= 0")
        if value > MAX_INT:
            raise InputError("too large (more than 64 bits)")
        return value


@dataclass(frozen=True)
class Flag(Type):
    required: bool = False

    def clean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise InputError(f"expected true or false, got {_type_name(value)}")
        return value


@dataclass(frozen=True)
class DateTime(Type):
    """ISO 8601; a time without a zone is UTC. Stored in UTC, to the millisecond
    (BSON's precision), so that the content hash of a reloaded file is stable."""

    required: bool = False

    def clean(self, value: Any) -> datetime:
        if not isinstance(value, str):
            raise InputError(f"expected an ISO 8601 date-time, got {_type_name(value)}")
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise InputError(f"not an ISO 8601 date-time: {value!r} ({exc})") from None
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class ListOf(Type):
    item: Type
    required: bool = False

    def clean(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise InputError(f"expected a list, got {_type_name(value)}")
        clean = self.item.clean
        cleaned = []
        for index, entry in enumerate(value):
            try:
                if entry is None:
                    raise InputError("missing (null list item)")
                cleaned.append(clean(entry))
            except InputError as exc:
                raise exc.within(f"[{index}]") from None
        return cleaned


@dataclass(frozen=True)
class Record(Type):
    fields: Mapping[str, Type] = field(default_factory=dict)
    required: bool = False
    _plan: tuple[tuple[str, Callable[[Any], Any], bool], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # What clean() walks: bound methods and flags looked up once, not per value.
        plan = tuple((name, kind.clean, kind.required) for name, kind in self.fields.items())
        object.__setattr__(self, "_plan", plan)

    def clean(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise InputError(f"expected a mapping, got {_type_name(value)}")
        cleaned: dict[str, Any] = {}
        get = value.get
        missing: list[str] = []
        wrong: InputError | None = None  # the first other error, when fields are missing
        for name, clean, required in self._plan:
            raw = get(name)
            if raw is None:  # missing, or null: the same to the model
                if required:
                    missing.append(name)
                continue
            try:
                cleaned[name] = clean(raw)
            except InputError as exc:
                if not missing and not self._any_missing(get):
                    raise exc.within(name) from None
                # Reported with the missing fields, all in one error, below.
                wrong = wrong or exc.within(name)
        if missing:
            raise _missing(missing, wrong)
        if len(cleaned) < len(value):  # undeclared keys, or declared ones set to null
            extra = {key: raw for key, raw in value.items() if key not in self.fields}
            if extra:
                cleaned["extra"] = storable(extra)
        return cleaned

    def _any_missing(self, get: Callable[[str], Any]) -> bool:
        """Whether a required field is missing (only asked on the way to an error)."""
        return any(required and get(name) is None for name, _, required in self._plan)

    def unknown_fields(self, value: dict[str, Any]) -> list[str]:
        return [str(key) for key in value if key not in self.fields]


def _missing(names: list[str], wrong: InputError | None) -> InputError:
    """Every required field that is missing, in one error, and the first other
    mistake of the record if there is one: one run to see what to fix."""
    if wrong is None and len(names) == 1:
        return InputError("missing", field=names[0])
    if len(names) == 1:
        text = f"{names[0]}: missing"
    else:
        text = f"missing required fields: {', '.join(names)}"
    if wrong is not None:
        text += f"; {wrong.field}: {wrong.reason}" if wrong.field else f"; {wrong.reason}"
    return InputError(text)


def _storable_key(key: Any) -> str:
    text = str(key).replace("\x00", "\\0")
    return "\uff04" + text[1:] if text.startswith("$") else text  # $ would read as an operator


def storable(value: Any) -> Any:
    """A YAML/JSON value made safe for BSON: text keys without NUL or a leading $,
    integers that fit in 64 bits (wider ones kept as text)."""
    if isinstance(value, dict):
        return {_storable_key(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return str(value)
    return value


PROVIDER = Record({"name": Text(), "domain": Text()})

IMAGE = Record(
    {
        "url": Url(required=True),
        "width": Count(),
        "height": Count(),
        "title": Text(),
        "isCached": Flag(),
    }
)

RELATED = Record(
    {
        "title": Text(required=True),
        "webUrl": Url(required=True),
        "excerpt": Text(),
        "publishedDateTime": DateTime(),
        "ampWebUrl": Url(),
        "cdnAmpWebUrl": Url(),
        "type": Text(),
        "provider": PROVIDER,
        "quality": Count(),
        "images": ListOf(IMAGE),
    }
)

ARTICLE = Record(
    {
        "title": Text(required=True),
        "webUrl": Url(required=True),
        "publishedDateTime": DateTime(required=True),
        "category": Text(),
        "excerpt": Text(),
        "originalUrl": Url(),
        "type": Text(),
        "quality": Count(),
        "heat": Count(),
        "published": Flag(),
        "provider": PROVIDER,
        "topics": ListOf(Text(required=True)),
        "images": ListOf(IMAGE),
        "related": ListOf(RELATED),
        "secured": Opaque(),
    }
)
