"""Bounds on page sizes, and the window a connection's arguments ask for."""

from __future__ import annotations

from dataclasses import dataclass

from api.errors import BadUserInput

DEFAULT_PAGE = 20
MAX_PAGE = 100


def page_size(first: int | None, argument: str = "first") -> int:
    """``first`` as asked (null means the default), refused outside 0..MAX_PAGE."""
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise BadUserInput(
            f"{argument} must be between 0 and {MAX_PAGE}, got {first}",
            argument=argument,
            limit=MAX_PAGE,
        )
    return first


@dataclass(frozen=True)
class Window:
    """Which slice of a connection to read: ``size`` items after ``after`` (forward),
    or the last ``size`` items before ``before`` (backward, with ``last``)."""

    size: int
    backward: bool = False
    after: str | None = None
    before: str | None = None


def window(
    first: int | None, after: str | None, last: int | None = None, before: str | None = None
) -> Window:
    """The window for Relay's first/after/last/before (first 20 when neither is given)."""
    if first is not None and last is not None:
        raise BadUserInput(
            "give first (to page forward) or last (to page backward), not both",
            argument="last",
        )
    if last is not None:
        return Window(page_size(last, "last"), backward=True, after=after, before=before)
    return Window(page_size(first), after=after, before=before)
