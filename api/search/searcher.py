"""One page of search results from the index: keys, scores, cursors, the count and
the highlights. The articles themselves are then read from MongoDB by key."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import html
import json
from dataclasses import dataclass, field
from typing import Any

import orjson
import tantivy
from tantivy import FieldType, Order, Query

from api.errors import BadCursor
from api.search import fields as f
from api.search.fields import SCHEMA
from api.search.index import SearchIndex, Snapshot
from api.search.query import Parsed, engine_query, highlight_query
from api.store.filters import ArticleConditions
from api.store.pagination import Window

RELEVANCE = "relevance"
NEWEST = "newest"
# A relevance cursor whose snapshot is gone is found again among this many results
# past its position in the current index (BM25 scores move a little as articles
# arrive, so its position does too).
SLACK = 100
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
# Titles and excerpts are highlighted whole, up to this length.
MAX_HIGHLIGHT_CHARS = 100_000


@dataclass
class Hit:
    key: str
    score: float
    position: tuple[Any, ...]  # what the hit's cursor holds, encoded only when asked

    @property
    def cursor(self) -> str:
        return _encode(*self.position)


@dataclass
class SearchPage:
    hits: list[Hit]
    has_next: bool
    has_previous: bool
    snapshot: Snapshot
    query: Query
    parsed: Parsed
    highlighters: dict[str, tantivy.SnippetGenerator] = field(default_factory=dict)

    def count(self) -> int:
        """Exact: every match is counted (a separate pass, run only when asked)."""
        if self.parsed.matches_nothing:
            return 0
        return count_matches(self.snapshot.searcher, self.query)

    def highlight(self, name: str, text: str | None) -> str | None:
        """``text`` HTML-escaped, with each word that matched the query in
        ``<mark>``...``</mark>`` (stemmed: "bans" marks "banned")."""
        if text is None:
            return None
        generator = self.highlighters.get(name)
        if generator is None:
            generator = tantivy.SnippetGenerator.create(
                self.snapshot.searcher, highlight_query(self.parsed), SCHEMA, name
            )
            generator.set_max_num_chars(MAX_HIGHLIGHT_CHARS)
            self.highlighters[name] = generator
        snippet = generator.snippet_from_doc(tantivy.Document(**{name: text}))
        return _marked(text, [(r.start, r.end) for r in snippet.highlighted()])


def _marked(text: str, ranges: list[tuple[int, int]]) -> str:
    """Byte ranges (tantivy's) of ``text`` marked; the rest escaped."""
    raw = text.encode()
    out: list[str] = []
    at = 0
    for start, end in sorted(ranges):
        if start < at:
            continue
        out.append(html.escape(raw[at:start].decode(errors="replace")))
        out.append(MARK_OPEN + html.escape(raw[start:end].decode(errors="replace")) + MARK_CLOSE)
        at = end
    out.append(html.escape(raw[at:].decode(errors="replace")))
    return "".join(out)


def query_kind(text: str, where: ArticleConditions, order: str) -> str:
    """Names the search a cursor belongs to: another query, filter or order refuses it."""
    identity = json.dumps([text, repr(where), order]).encode()
    return f"search-{order}-{hashlib.blake2b(identity, digest_size=6).hexdigest()}"


def _encode(kind: str, *values: Any) -> str:
    payload = orjson.dumps([kind, *values])
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def _decode(cursor: str, kind: str, types: tuple[type, ...]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        found, *values = orjson.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, TypeError):
        raise BadCursor(f"{cursor!r} is not a valid cursor") from None
    if found != kind:
        raise BadCursor(f"{cursor!r} is a cursor for another connection, search or order")
    if len(values) != len(types) or not all(
        isinstance(v, t) and not isinstance(v, bool) for v, t in zip(values, types, strict=True)
    ):
        raise BadCursor(f"{cursor!r} is not a valid cursor")
    return values


def count_matches(searcher: tantivy.Searcher, query: Query) -> int:
    result = searcher.search(query, 1, count=True)
    return int(result.count)  # type: ignore[attr-defined]  # missing from the stubs


def _dated(lower: int | None, upper: int | None, exact: bool = False) -> Query:
    """Published from ``lower`` to ``upper`` (milliseconds, both included); ``exact``:
    one millisecond, found through the inverted index rather than the fast field."""
    return Query.range_query(
        SCHEMA, f.DATE, FieldType.Integer, lower, upper, use_inverted_index=exact
    )


def _key(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> str:
    return str(searcher.doc(address).get_first(f.KEY))


async def engine_page(search: Search, window: Window) -> SearchPage:
    """``search.page(window)``, in a worker thread when it is costly."""
    return await search.page_in_thread(window) if search.costly() else search.page(window)


class Search:
    """One search request on the index: ``page`` answers a window of it."""

    def __init__(
        self,
        index: SearchIndex,
        text: str,
        parsed: Parsed,
        where: ArticleConditions,
        order: str,
        thread_postings: int,
    ) -> None:
        self.index = index
        self.parsed = parsed
        self.thread_postings = thread_postings
        self.where = where
        self.order = order
        self.kind = query_kind(text, where, order)
        self.query = engine_query(parsed, where)

    def costly(self) -> bool:
        """Whether the page is worth a worker thread (``page_in_thread``): the postings
        of its words, phrases and exclusions in both fields, from the index's term
        statistics."""
        searcher = self.index.current.searcher
        threshold = self.thread_postings
        if searcher.num_docs < threshold:
            return False  # a small index: no page costs a hand-off
        postings = 0
        for terms in [*self.parsed.positive, *self.parsed.excluded]:
            for term in terms:
                postings += searcher.doc_freq(f.TITLE, term) + searcher.doc_freq(f.EXCERPT, term)
                if postings >= threshold:
                    return True
        return False

    async def page_in_thread(self, window: Window) -> SearchPage:
        """``page(window)`` in a worker thread: at a million articles a common word's
        page takes milliseconds, with the GIL released, and the event loop serves
        other requests meanwhile instead of waiting for it."""
        return await asyncio.to_thread(self.page, window)

    def page(self, window: Window) -> SearchPage:
        if self.order == NEWEST:
            return self._newest(window)
        return self._relevance(window)

    def _empty(self, snapshot: Snapshot) -> SearchPage:
        return SearchPage([], False, False, snapshot, self.query, self.parsed)

    # Relevance: positions in a snapshot.

    def _relevance(self, window: Window) -> SearchPage:
        cursor = window.before if window.backward else window.after
        snapshot, position = self.index.current, None
        if cursor is not None:
            instance, generation, position, score, key = _decode(
                cursor, self.kind, (str, int, int, float, str)
            )
            pinned = self.index.snapshot(generation) if instance == self.index.instance else None
            if pinned is not None:
                snapshot = pinned
            else:
                position, found = self._find(snapshot, position, score, key)
                if window.backward and not found:
                    position += 1
        if self.parsed.matches_nothing or window.size == 0:
            return self._empty(snapshot)
        if window.backward:
            if position is None:
                total = count_matches(snapshot.searcher, self.query)
                start, end = max(0, total - window.size), total
            else:
                start, end = max(0, position - window.size), position
            hits = self._ranked(snapshot, start, end - start)
            return self._page(hits, snapshot, has_next=position is not None, has_previous=start > 0)
        start = 0 if position is None else position + 1
        hits = self._ranked(snapshot, start, window.size + 1)
        more = len(hits) > window.size
        return self._page(hits[: window.size], snapshot, has_next=more, has_previous=start > 0)

    def _ranked(self, snapshot: Snapshot, offset: int, limit: int) -> list[Hit]:
        if limit <= 0:
            return []
        searcher = snapshot.searcher
        result = searcher.search(self.query, limit, count=False, offset=offset)
        hits = []
        for rank, (score, address) in enumerate(result.hits, start=offset):
            key = _key(searcher, address)
            position = (self.kind, self.index.instance, snapshot.generation, rank, score, key)
            hits.append(Hit(key, float(score), position))
        return hits

    def _find(self, snapshot: Snapshot, position: int, score: float, key: str) -> tuple[int, bool]:
        """Where a cursor of a snapshot gone is in ``snapshot``: at its article
        (found), else just before the first result that scores below it."""
        limit = position + SLACK + 1
        searcher = snapshot.searcher
        result = searcher.search(self.query, limit, count=False)
        below = len(result.hits)
        for rank, (found, address) in enumerate(result.hits):
            if _key(searcher, address) == key:
                return rank, True
            if found < score and below == len(result.hits):
                below = rank
        return below - 1, False

    def _page(
        self, hits: list[Hit], snapshot: Snapshot, has_next: bool, has_previous: bool
    ) -> SearchPage:
        return SearchPage(hits, has_next, has_previous, snapshot, self.query, self.parsed)

    # Newest first: a keyset on (date, key), stable as articles arrive.

    def _newest(self, window: Window) -> SearchPage:
        snapshot = self.index.current
        if self.parsed.matches_nothing or window.size == 0:
            return self._empty(snapshot)
        cursor = window.before if window.backward else window.after
        bound = None
        if cursor is not None:
            date_ms, key = _decode(cursor, self.kind, (int, str))
            bound = (date_ms, f.newest_value(date_ms, key))
        if window.backward:
            keys = self._keyset(snapshot, window.size + 1, bound, Order.Asc)
            more = len(keys) > window.size
            keys = keys[: window.size][::-1]
            has_next, has_previous = cursor is not None, more
        else:
            keys = self._keyset(snapshot, window.size + 1, bound, Order.Desc)
            more = len(keys) > window.size
            keys = keys[: window.size]
            has_next, has_previous = more, cursor is not None
        scores = self._scores(snapshot, [key for key, _ in keys])
        hits = [
            Hit(key, scores.get(key, 0.0), (self.kind, int(value[:13]), key)) for key, value in keys
        ]
        return self._page(hits, snapshot, has_next=has_next, has_previous=has_previous)

    def _keyset(
        self, snapshot: Snapshot, limit: int, bound: tuple[int, str] | None, order: Order
    ) -> list[tuple[str, str]]:
        """(key, newest value) of up to ``limit`` matches past ``bound`` in ``order``.

        tantivy orders by the integer date at about half the cost a match of the
        (date, key) string, so the matches are ordered by date, and only the two
        milliseconds that may hold ties, the bound's and the last one the page
        reaches, are ordered by the string (matches of one millisecond, so few)."""
        desc = order == Order.Desc
        first = self._tied(snapshot, limit, bound, order) if bound is not None else []
        if len(first) >= limit:
            return first
        strictly = None if bound is None else (None, bound[0] - 1) if desc else (bound[0] + 1, None)
        query = self.query if strictly is None else self._within(_dated(*strictly))
        searcher = snapshot.searcher
        result = searcher.search(query, limit, count=False, order_by_field=f.DATE, order=order)
        dated = [(int(v), _key(searcher, a)) for v, a in result.hits]
        edge = dated[-1][0] if len(dated) == limit else None
        # Every match of a date before the edge's came back; of the edge's, maybe not.
        inside = sorted([d for d in dated if d[0] != edge], reverse=desc)
        middle = [(key, f.newest_value(date, key)) for date, key in inside]
        last = [] if edge is None else self._tied(snapshot, limit, (edge, ""), order, past=False)
        return (first + middle + last)[:limit]

    def _within(self, dates: Query) -> Query:
        return engine_query(self.parsed, self.where, [dates])

    def _tied(
        self,
        snapshot: Snapshot,
        limit: int,
        bound: tuple[int, str],
        order: Order,
        past: bool = True,
    ) -> list[tuple[str, str]]:
        """Up to ``limit`` matches of the bound's very millisecond in ``order``, only
        those past its key when ``past``."""
        date_ms, value = bound
        query = self._within(_dated(date_ms, date_ms, exact=True))
        searcher = snapshot.searcher
        extra = 0
        while True:
            result = searcher.search(
                query, limit + extra, count=False, order_by_field=f.NEWEST, order=order
            )
            found = [str(v) for v, _ in result.hits]
            kept = found
            if past:
                kept = [v for v in found if (v < value if order == Order.Desc else v > value)]
            if len(kept) >= limit or len(found) < limit + extra:
                return [(v.split("|", 1)[1], v) for v in kept[:limit]]
            extra = extra * 2 + limit

    def _scores(self, snapshot: Snapshot, keys: list[str]) -> dict[str, float]:
        """The relevance of each listed article (newest-first pages show it too)."""
        if not keys:
            return {}
        only = Query.term_set_query(SCHEMA, f.KEY, keys)
        query = engine_query(self.parsed, self.where, [only])
        searcher = snapshot.searcher
        result = searcher.search(query, len(keys), count=False)
        return {_key(searcher, address): float(score) for score, address in result.hits}
