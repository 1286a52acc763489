"""Opaque keyset cursors: the sort value and the id of the last item seen."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from api.errors import BadCursor


def encode_cursor(kind: str, value: Any, key: str) -> str:
    """``kind`` names the order the cursor belongs to, so a cursor taken from one
    connection is refused by another instead of silently paging wrongly."""
    if isinstance(value, datetime):
        value = {"t": int(value.timestamp() * 1000)}
    payload = json.dumps([kind, value, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def decode_cursor(
    cursor: str, kind: str, value_type: type, nullable: bool = False
) -> tuple[Any, str]:
    """The (sort value, id) in ``cursor``; BAD_CURSOR unless it was made by
    ``encode_cursor`` for the same kind and carries a value of ``value_type``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        found_kind, value, key = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, TypeError):
        raise BadCursor(f"{cursor!r} is not a valid cursor") from None
    if found_kind != kind or not isinstance(key, str):
        raise BadCursor(f"{cursor!r} is a cursor for another connection or order")
    if isinstance(value, dict) and isinstance(value.get("t"), int):
        value = datetime.fromtimestamp(value["t"] / 1000, tz=UTC)
    if value_type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if value is None and nullable:
        return value, key
    if not isinstance(value, value_type) or isinstance(value, bool):
        raise BadCursor(f"{cursor!r} is not a valid cursor")
    return value, key
