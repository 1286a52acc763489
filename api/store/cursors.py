"""Opaque keyset cursors: the sort value and the id of the last item seen.

A cursor is base64url of the JSON ``[kind, value, key]``; a time is ``{"t": <ms>}``,
its milliseconds since the epoch counted in integers (a float product drops a
millisecond for about 0.7% of times). Decoding checks every field for type and
range: a cursor a client made up is ``BAD_CURSOR``, never a value that crashes
the query built from it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from api.errors import BadCursor

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
# The times a cursor may carry: those Python's datetime represents, short of the very
# last millisecond, so that the query's "next value" (time + 1 ms) exists too.
MIN_TIME_MS = (datetime.min.replace(tzinfo=UTC) - EPOCH) // ONE_MS
MAX_TIME_MS = (datetime.max.replace(tzinfo=UTC) - EPOCH) // ONE_MS - 1
# Numbers are stored as BSON int64; the query's next value (n + 1) must be one too.
MIN_INT = -(2**63)
MAX_INT = 2**63 - 2


def encode_cursor(kind: str, value: Any, key: str) -> str:
    """``kind`` names the order the cursor belongs to, so a cursor taken from one
    connection is refused by another instead of silently paging wrongly."""
    if isinstance(value, datetime):
        value = {"t": time_to_ms(value)}
    payload = json.dumps([kind, value, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def decode_cursor(
    cursor: str, kind: str, value_type: type, nullable: bool = False
) -> tuple[Any, str]:
    """The (sort value, id) in ``cursor``; BAD_CURSOR unless it was made by
    ``encode_cursor`` for the same kind and carries a value of ``value_type``."""
    payload = _payload(cursor)
    if not (isinstance(payload, list) and len(payload) == 3):
        raise BadCursor(f"{cursor!r} is not a valid cursor")
    found_kind, value, key = payload
    if found_kind != kind:
        raise BadCursor(f"{cursor!r} is a cursor for another connection or order")
    if not _is_text(key):
        raise BadCursor(f"{cursor!r} is not a valid cursor: its id is not a string")
    if value is None and nullable:
        return None, key
    decoded = _value(value, value_type)
    if decoded is None:
        raise BadCursor(
            f"{cursor!r} is not a valid cursor: its sort value is not a "
            f"{_TYPE_NAMES.get(value_type, value_type.__name__)} in range"
        )
    return decoded, key


def time_to_ms(value: datetime) -> int:
    """Whole milliseconds since the epoch, exactly (a naive time is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - EPOCH) // ONE_MS


def ms_to_time(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def _payload(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, TypeError):
        raise BadCursor(f"{cursor!r} is not a valid cursor") from None


_TYPE_NAMES = {datetime: "time", int: "whole number", float: "number", str: "string"}


def _value(value: Any, value_type: type) -> Any:
    """``value`` as a ``value_type`` a query can use, or None when it is not one."""
    if value_type is datetime:
        if not (isinstance(value, dict) and value.keys() == {"t"}):
            return None
        ms = value["t"]
        return ms_to_time(ms) if _is_int_in(ms, MIN_TIME_MS, MAX_TIME_MS) else None
    if value_type is int:
        return value if _is_int_in(value, MIN_INT, MAX_INT) else None
    if value_type is float:
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                value = float(value)
            except OverflowError:
                return None
        return value if isinstance(value, float) and math.isfinite(value) else None
    if value_type is str:
        return value if _is_text(value) else None
    return None


def _is_int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_text(value: Any) -> bool:
    """A string that BSON can carry: UTF-8 encodable (JSON admits lone surrogates)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
