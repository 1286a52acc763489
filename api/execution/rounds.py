"""One round of reads: every read the fields of one level of the plan need, sent
together. Lookups by key are merged per (collection, field) across all parents into
one ``$in`` read, projected to the union of the stored fields they use; ranked lists
into one ``$unionWith`` aggregate; pages and counts, which each need their own
index-served query, are sent side by side."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from api.execution.pages import PageRead, read_pages
from api.store.reads import (
    ARTICLE_PROJECTION,
    Database,
    Document,
    Page,
    Ranked,
    any_of,
    ranked_many,
)
from storage.contract import ARTICLES

Found = list[Document | None]


def projection(paths: Iterable[str], *always: str) -> dict[str, int]:
    """An inclusion projection of ``paths`` (dotted), without a path whose parent is
    there too (MongoDB refuses such a collision)."""
    return dict.fromkeys(_projected(frozenset(paths).union(always)), 1)


# A request asks for the same few projections as the last: sorting and pruning
# them again cost more than the rest of a read's set-up.
@functools.lru_cache(maxsize=4096)
def _projected(paths: frozenset[str]) -> tuple[str, ...]:
    chosen: list[str] = []
    for path in sorted(paths):
        if not any(path.startswith(parent + ".") for parent in chosen):
            chosen.append(path)
    return tuple(chosen)


class _Lookup:
    def __init__(self) -> None:
        self.keys: dict[Any, None] = {}
        self.paths: set[str] | None = set()  # None: the whole stored document
        self.merged: set[str] | None = None  # the paths last merged into ``paths``
        # (keys, then, one): ``one`` waiters asked for the single key ``keys``.
        self.waiters: list[tuple[Any, Callable[[Any], None], bool]] = []

    def want(self, keys: list[Any], paths: set[str] | None, then: Callable[[Found], None]) -> None:
        self.keys.update(dict.fromkeys(keys))
        self._merge(paths)
        self.waiters.append((keys, then, False))

    def want_one(
        self, key: Any, paths: set[str] | None, then: Callable[[Document | None], None]
    ) -> None:
        self.keys[key] = None
        self._merge(paths)
        self.waiters.append((key, then, True))

    def _merge(self, paths: set[str] | None) -> None:
        # The objects of one list all ask with their plan's one set of paths.
        if paths is self.merged and paths is not None:
            return
        self.merged = paths
        if paths is None or self.paths is None:
            self.paths = None
        else:
            self.paths |= paths

    async def read(self, db: Database, collection: str, field: str) -> dict[Any, Document]:
        if self.paths is None:
            shape: dict[str, int] | None = ARTICLE_PROJECTION if collection == ARTICLES else None
        else:
            shape = projection(self.paths, field)
        match = any_of(field, list(self.keys))
        return {doc[field]: doc for doc in await db[collection].find(match, shape).to_list()}


class Seen:
    """The documents this request has already read by key, and with which stored
    fields (None: all): a later round that needs no more is answered from here, as
    a DataLoader's cache would."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict[Any, tuple[Document | None, set[str] | None]]] = {}

    def find_one(
        self, where: tuple[str, str], key: Any, paths: set[str] | None
    ) -> tuple[Document | None] | None:
        """``(document,)`` when ``key`` has been read with ``paths``, else None."""
        known = self.docs.get(where)
        if known is None:
            return None
        entry = known.get(key)
        if entry is None or not _covers(entry[1], paths):
            return None
        return (entry[0],)

    def find(self, where: tuple[str, str], keys: list[Any], paths: set[str] | None) -> Found | None:
        known = self.docs.get(where)
        if known is None:
            return None
        found: Found = []
        for key in keys:
            entry = known.get(key)
            if entry is None or not _covers(entry[1], paths):
                return None
            found.append(entry[0])
        return found

    def add(
        self,
        where: tuple[str, str],
        keys: Iterable[Any],
        docs: dict[Any, Document],
        paths: set[str] | None,
    ) -> None:
        known = self.docs.setdefault(where, {})
        for key in keys:
            known[key] = (docs.get(key), paths)


def _covers(read: set[str] | None, wanted: set[str] | None) -> bool:
    return read is None or (wanted is not None and wanted <= read)


class Round:
    def __init__(self, seen: Seen) -> None:
        self.seen = seen
        self.lookups: dict[tuple[str, str], _Lookup] = {}
        self.ranked: list[tuple[Ranked, Callable[[list[Document]], None]]] = []
        self.calls: list[tuple[Callable[[], Awaitable[Any]], Callable[[Any], None]]] = []
        self.pages: dict[object, list[tuple[PageRead, Callable[[Page], None]]]] = {}

    def __bool__(self) -> bool:
        return bool(self.lookups or self.ranked or self.calls or self.pages)

    def lookup(
        self,
        collection: str,
        field: str,
        keys: list[Any],
        paths: set[str] | None,
        then: Callable[[Found], None],
    ) -> None:
        """``then`` gets the stored documents whose ``field`` is each of ``keys``
        (None where there is none), with at least ``paths`` (None: all)."""
        known = self.seen.find((collection, field), keys, paths)
        if known is not None:
            then(known)
            return
        entry = self.lookups.get((collection, field))
        if entry is None:
            entry = self.lookups[collection, field] = _Lookup()
        entry.want(keys, paths, then)

    def lookup_one(
        self,
        collection: str,
        field: str,
        key: Any,
        paths: set[str] | None,
        then: Callable[[Document | None], None],
    ) -> None:
        """``lookup`` of the single ``key``: ``then`` gets its document or None."""
        known = self.seen.find_one((collection, field), key, paths)
        if known is not None:
            then(known[0])
            return
        entry = self.lookups.get((collection, field))
        if entry is None:
            entry = self.lookups[collection, field] = _Lookup()
        entry.want_one(key, paths, then)

    def rank(self, request: Ranked, then: Callable[[list[Document]], None]) -> None:
        self.ranked.append((request, then))

    def call(self, read: Callable[[], Awaitable[Any]], then: Callable[[Any], None]) -> None:
        """``read()`` is sent with the round (not before: a field after this one may
        still fail, and the round never be sent)."""
        self.calls.append((read, then))

    def page(self, group: object, read: PageRead, then: Callable[[Page], None]) -> None:
        """Pages asked for under the same ``group`` (one connection field of the
        plan) are read together."""
        self.pages.setdefault(group, []).append((read, then))

    async def run(self, db: Database) -> None:
        """Send every read, then hand each result to its ``then``: these may fill
        in the response and ask for the next round's reads."""
        lookups = list(self.lookups.items())
        reads: list[Awaitable[Any]] = [entry.read(db, *where) for where, entry in lookups]
        if self.ranked:
            reads.append(ranked_many(db, [request for request, _ in self.ranked]))
        reads.extend(read() for read, _ in self.calls)
        groups = list(self.pages.values())
        reads.extend(read_pages(db, [read for read, _ in group]) for group in groups)
        # One read alone is awaited as it is: a task for it would cost a loop turn.
        results = iter([await reads[0]] if len(reads) == 1 else await asyncio.gather(*reads))
        for where, entry in lookups:
            found = next(results)
            self.seen.add(where, entry.keys, found, entry.paths)
            for keys, then, one in entry.waiters:
                then(found.get(keys) if one else [found.get(key) for key in keys])
        if self.ranked:
            for (_, rank_then), rows in zip(self.ranked, next(results), strict=True):
                rank_then(rows)
        for _, call_then in self.calls:
            call_then(next(results))
        for group in groups:
            for (_, page_then), page in zip(group, next(results), strict=True):
                page_then(page)
