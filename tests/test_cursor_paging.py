"""Keyset cursors over HTTP: times with milliseconds page exactly, in both
directions, and made-up cursors of every order are BAD_CURSOR, never a crash."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.search.searcher import RELEVANCE, query_kind
from api.store.filters import ArticleConditions
from tests.articles import article, write_article
from tests.conftest import ServedAPI

PAGE = """query($first: Int, $after: String, $last: Int, $before: String, $o: ArticleOrder) {
  articles(first: $first, after: $after, last: $last, before: $before, orderBy: $o) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id publishedDateTime } } } }"""
ORDERS = [
    {"field": "PUBLISHED_DATE_TIME", "direction": "DESC"},
    {"field": "PUBLISHED_DATE_TIME", "direction": "ASC"},
]
# 1073745639.929 s is 1073745639928.9999 ms in floating point: the time that
# float-encoded cursors moved back by a millisecond.
TIMES = ["2004-01-10T14:40:39.929Z", "2004-01-10T14:40:39.929Z", "2004-01-10T14:40:40.417Z"]


def walk(api: ServedAPI, order: dict[str, str], backward: bool) -> list[str]:
    """Every article's id, one page of one at a time, in the order's direction
    (backward: from the end with last/before, then reversed)."""
    ids: list[str] = []
    cursor = None
    for _ in range(10):
        variables: dict[str, Any] = {"o": order}
        variables |= {"last": 1, "before": cursor} if backward else {"first": 1, "after": cursor}
        page = api.data(PAGE, variables)["articles"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        info = page["pageInfo"]
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            return ids[::-1] if backward else ids
        cursor = info["startCursor"] if backward else info["endCursor"]
    raise AssertionError(f"paging did not end: {ids}")


def test_times_with_milliseconds_page_exactly_both_ways(
    tmp_path: Path, load: Any, api: ServedAPI
) -> None:
    for n, time in enumerate(TIMES):
        write_article(tmp_path, f"{n}.txt", article(n, publishedDateTime=time))
    assert load(tmp_path).errors == []
    for order in ORDERS:
        everything = [e["node"]["id"] for e in api.data(PAGE, {"o": order})["articles"]["edges"]]
        assert len(everything) == 3
        assert walk(api, order, backward=False) == everything
        assert walk(api, order, backward=True) == everything


def test_last_before_a_cursor_never_returns_its_own_article(
    tmp_path: Path, load: Any, api: ServedAPI
) -> None:
    for n, time in enumerate(TIMES):
        write_article(tmp_path, f"{n}.txt", article(n, publishedDateTime=time))
    assert load(tmp_path).errors == []
    edges = api.data(PAGE, {"o": ORDERS[0]})["articles"]["edges"]
    for index, edge in enumerate(edges):
        page = api.data(PAGE, {"o": ORDERS[0], "last": 5, "before": edge["cursor"]})
        assert [e["node"]["id"] for e in page["articles"]["edges"]] == [
            e["node"]["id"] for e in edges[:index]
        ]


# Numbers of every magnitude, up to far beyond int64 and the datetime range.
magnitudes = st.builds(
    lambda digits, sign, offset: sign * 10**digits + offset,
    st.integers(0, 25),
    st.sampled_from([1, -1]),
    st.integers(-2, 2),
)
GARBAGE = (
    st.none()
    | st.booleans()
    | st.integers()
    | magnitudes
    | st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 2**64])
    | st.floats()
    | st.text(max_size=8)
)
garbage_values = GARBAGE | st.builds(lambda t: {"t": t}, GARBAGE) | st.lists(GARBAGE, max_size=2)
garbage_keys = GARBAGE | st.lists(GARBAGE, max_size=2)
# Each connection's query, with $c as its cursor, and how its cursors name their order.
CONNECTIONS = {
    "published-desc": "articles(after: $c) { nodes { id } }",
    "heat-desc": "articles(after: $c, orderBy: {field: HEAT, direction: DESC}) { nodes { id } }",
    "quality-asc": "articles(before: $c, last: 3, orderBy: {field: QUALITY, direction: ASC}) { nodes { id } }",
    "count-desc": "topics(after: $c) { nodes { name } }",
    "name-asc": "providers(after: $c, orderBy: {field: NAME, direction: ASC}) { nodes { name } }",
    "search": 'search(query: "news", after: $c) { nodes { id } }',
}


def test_made_up_cursors_are_bad_cursor_errors(seeded_api: ServedAPI) -> None:
    kinds = {name: name for name in CONNECTIONS} | {
        "search": query_kind("news", ArticleConditions(), RELEVANCE)
    }

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        connection=st.sampled_from(sorted(CONNECTIONS)),
        value=garbage_values,
        key=garbage_keys,
    )
    def check(connection: str, value: Any, key: Any) -> None:
        payload = json.dumps([kinds[connection], value, key]).encode()
        cursor = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        body = seeded_api.query(f"query($c: String) {{ {CONNECTIONS[connection]} }}", {"c": cursor})
        codes = {error["extensions"]["code"] for error in body.get("errors") or []}
        assert codes <= {"BAD_CURSOR"}, body

    check()
