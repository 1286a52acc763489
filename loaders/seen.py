"""The article ids seen so far in a run, in 8 bytes each.

A Python set of a million ids costs ~100 MB; here they are 64-bit fingerprints (the
first 16 hex digits of the id: the chance of two of a million articles sharing one is
about 3e-8) in a sorted ``array`` plus a small set of recent ones, merged into the
array every ``MERGE_EVERY`` additions.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left

MERGE_EVERY = 65_536


def fingerprint(article_id: str) -> int:
    return int(article_id[:16], 16)


class SeenIds:
    def __init__(self) -> None:
        self._sorted = array("Q")
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def __contains__(self, article_id: str) -> bool:
        value = fingerprint(article_id)
        if value in self._recent:
            return True
        index = bisect_left(self._sorted, value)
        return index < len(self._sorted) and self._sorted[index] == value

    def add(self, article_id: str) -> None:
        self._recent.add(fingerprint(article_id))
        if len(self._recent) >= MERGE_EVERY:
            merged = array("Q", heapq.merge(self._sorted, sorted(self._recent)))
            self._sorted = merged
            self._recent = set()
