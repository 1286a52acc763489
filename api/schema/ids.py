"""Opaque, stable Relay global ids: the type's name and its key, base64url-encoded."""

from __future__ import annotations

import base64
import binascii

from api.errors import BadUserInput

NODE_TYPES = ("Article", "Provider", "Topic", "Category")


# base64.urlsafe_b64encode's own steps, without its two Python calls: a home page
# writes an id for every article (tests/test_ids.py checks it gives the same text).
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def to_global_id(type_name: str, key: str) -> str:
    raw = binascii.b2a_base64(f"{type_name}:{key}".encode(), newline=False)
    return raw.translate(_URLSAFE).decode("ascii").rstrip("=")


def from_global_id(global_id: str) -> tuple[str, str]:
    """The (type name, key) in a global id; BAD_USER_INPUT when it is not one of ours."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, key = base64.urlsafe_b64decode(padded).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        type_name, key = "", ""
    if type_name not in NODE_TYPES or not key:
        raise BadUserInput(f"{global_id!r} is not a valid newsgraph id", argument="id")
    return type_name, key
