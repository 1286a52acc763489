"""Handing freed memory back to the operating system.

glibc keeps what the search engine frees (its writer's buffers are freed at every
flush and commit) in its arenas, where it still counts as the process's resident
memory; ``malloc_trim`` returns it. Elsewhere than glibc this does nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Return the free memory of every malloc arena to the system (a few ms)."""
    if _TRIM is not None:
        _TRIM(0)
