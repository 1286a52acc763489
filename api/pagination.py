"""Bounds on page sizes."""

from __future__ import annotations

from api.errors import BadUserInput

DEFAULT_PAGE = 20
MAX_PAGE = 100


def page_size(first: int | None) -> int:
    """``first`` as asked (null means the default), refused outside 0..MAX_PAGE."""
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise BadUserInput(
            f"first must be between 0 and {MAX_PAGE}, got {first}",
            argument="first",
            limit=MAX_PAGE,
        )
    return first
