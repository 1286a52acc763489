"""A bounded least-recently-used mapping: the plan cache, the shape cache, the fast
route's documents and the persisted queries' texts all keep one."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(OrderedDict[K, V]):
    """At most ``size`` entries; ``put`` drops the least recently used beyond it."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def touch(self, key: K) -> V | None:
        """The value under ``key``, now the most recently used; None if absent."""
        found = self.get(key)
        if found is not None:
            self.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
