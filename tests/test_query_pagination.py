"""Relay pagination: keyset cursors across inserts, both directions, Apollo Client's
relayStylePagination merge, bounds and bad cursors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from api.schema.ids import from_global_id
from tests.articles import write_article
from tests.conftest import ServedAPI
from tests.query_corpus import corpus_api, corpus_doc, walk, write_corpus

__all__ = ["corpus_api"]

HEAT_PAGE = """query($cursor: String, $first: Int, $last: Int, $before: String) {
  articles(first: $first, after: $cursor, last: $last, before: $before,
           orderBy: {field: HEAT, direction: DESC}) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id heat } } } }"""


def _position(edge: dict[str, Any]) -> tuple[int, int, str]:
    """Where an edge sorts in HEAT DESC: missing heat lowest, ties by key."""
    heat = edge["node"]["heat"]
    key = from_global_id(edge["node"]["id"])[1]
    return (0, 0, key) if heat is None else (1, heat, key)


def _insert(tmp_path: Path, load: Any, n: int) -> None:
    for m in (n, n + 1):
        heat = None if m % 3 == 0 else m % 4
        write_article(tmp_path / "new", f"{m}.txt", corpus_doc(m) | {"heat": heat})
    assert load(tmp_path / "new").errors == []


def test_inserts_while_paging_neither_shift_nor_repeat(
    tmp_path: Path, load: Any, api: ServedAPI
) -> None:
    write_corpus(tmp_path / "old", range(40))
    assert load(tmp_path / "old").errors == []
    original = {e["node"]["id"] for e in api.data(HEAT_PAGE, {"first": 100})["articles"]["edges"]}
    for backward in (False, True):
        seen: list[dict[str, Any]] = []
        cursor = None
        for page_number in range(50):
            variables = (
                {"last": 7, "before": cursor} if backward else {"first": 7, "cursor": cursor}
            )
            page = api.data(HEAT_PAGE, variables)["articles"]
            seen = page["edges"] + seen if backward else seen + page["edges"]
            info = page["pageInfo"]
            if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
                break
            cursor = info["startCursor"] if backward else info["endCursor"]
            _insert(tmp_path, load, 100 + 10 * page_number + (5 if backward else 0))
        ids = [e["node"]["id"] for e in seen]
        assert len(ids) == len(set(ids))
        assert original <= set(ids)
        positions = [_position(e) for e in seen]
        assert positions == sorted(positions, reverse=True)


def apollo_merge(
    existing: list[dict[str, Any]] | None, incoming: list[dict[str, Any]], args: dict[str, Any]
) -> list[dict[str, Any]]:
    """The edge merge of Apollo Client's relayStylePagination (utilities/policies/
    pagination.ts): keep existing edges up to the `after` cursor (or from the
    `before` cursor), then the incoming ones."""
    prefix = list(existing or [])
    suffix: list[dict[str, Any]] = []
    if args.get("after"):
        cursors = [e["cursor"] for e in prefix]
        if args["after"] in cursors:
            prefix = prefix[: cursors.index(args["after"]) + 1]
    elif args.get("before"):
        cursors = [e["cursor"] for e in prefix]
        index = cursors.index(args["before"]) if args["before"] in cursors else -1
        suffix = prefix if index < 0 else prefix[index:]
        prefix = []
    else:
        prefix = []
    return prefix + incoming + suffix


CONNECTIONS = {
    "articles": """query($after: String) { c: articles(first: 7, after: $after,
        filter: {anyTopics: ["ai", "space"]}, orderBy: {field: QUALITY, direction: ASC}) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }""",
    "providers": """query($after: String) { c: providers(first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }""",
    "topics": """query($after: String) { c: topics(first: 2, after: $after,
        orderBy: {field: NAME, direction: DESC}) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }""",
    "search": """query($after: String) { c: search(query: "story", first: 8, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }""",
    "topic.articles": """query($after: String) { topic(name: "ai") { c: articles(first: 4,
        after: $after, orderBy: {field: HEAT, direction: ASC}) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } } }""",
    "mentionedIn": """query($after: String) { articles(first: 1, filter: {category: "sport"}) {
        nodes { c: mentionedIn(first: 1, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } } } }""",
}


def _connection(data: dict[str, Any]) -> dict[str, Any]:
    if "c" in data:
        return data["c"]
    inner = data.get("topic") or data["articles"]["nodes"][0]
    return inner["c"]


def test_apollo_relay_style_pagination_merges_every_connection(corpus_api: ServedAPI) -> None:
    for name, query in CONNECTIONS.items():
        edges: list[dict[str, Any]] | None = None
        args: dict[str, Any] = {}
        pages = 0
        while True:
            page = _connection(corpus_api.data(query, {"after": args.get("after")}))
            edges = apollo_merge(edges, page["edges"], args)
            pages += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            args = {"after": page["pageInfo"]["endCursor"]}
        ids = [e["node"]["id"] for e in edges]
        assert len(ids) == len(set(ids)) == page["totalCount"], name
        assert pages > 1, name
        # Refetching the first page (as Apollo does on refetch) restarts the list.
        first = _connection(corpus_api.data(query, {"after": None}))
        assert apollo_merge(edges, first["edges"], {}) == first["edges"]


def test_page_sizes_are_bounded_and_named(corpus_api: ServedAPI) -> None:
    for arguments in ("first: 101", "last: 101", "first: -1"):
        body = corpus_api.query(f"{{ articles({arguments}) {{ totalCount }} }}")
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "100" in error["message"] and error["extensions"]["limit"] == 100
    body = corpus_api.query('{ topic(name: "ai") { relatedTopics(first: 500) { count } } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = corpus_api.query("{ articles(first: 2, last: 2) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(corpus_api.data("{ articles { nodes { id } } }")["articles"]["nodes"]) == 20
    ids = [f'"{i}"' for i in ["QXJ0aWNsZTp4"] * 101]
    body = corpus_api.query(f"{{ nodes(ids: [{', '.join(ids)}]) {{ id }} }}")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def _forge(kind: str, value: Any, key: Any) -> str:
    raw = json.dumps([kind, value, key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_malformed_and_foreign_cursors_are_bad_cursor(corpus_api: ServedAPI) -> None:
    heat_cursor = corpus_api.data(
        "{ articles(first: 1, orderBy: {field: HEAT, direction: DESC}) { pageInfo { endCursor } } }"
    )["articles"]["pageInfo"]["endCursor"]
    search_cursor = corpus_api.data(
        '{ search(query: "story", first: 1) { pageInfo { endCursor } } }'
    )["search"]["pageInfo"]["endCursor"]
    heat = "orderBy: {field: HEAT, direction: DESC}, "
    cases = [
        ("articles", "", "garbage!"),
        ("articles", "", ""),
        ("articles", "", heat_cursor),  # another order
        ("articles", "orderBy: {field: HEAT, direction: ASC}, ", heat_cursor),  # direction
        ("articles", "", _forge("published-desc", "not a date", "k")),
        ("articles", "", _forge("published-desc", {"t": 1}, {"$gt": ""})),
        ("articles", heat, _forge("heat-desc", {"$ne": None}, "k")),
        ("providers", "", heat_cursor),
        ("search", 'query: "other words", ', search_cursor),  # another query
    ]
    for field, arguments, cursor in cases:
        body = corpus_api.query(
            f"query($c: String) {{ {field}({arguments}after: $c) {{ totalCount }} }}", {"c": cursor}
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR", (field, body)
        assert body["data"] is None
    back = corpus_api.query(
        "query($c: String) { articles(last: 2, before: $c) { totalCount } }", {"c": "%%%"}
    )
    assert back["errors"][0]["extensions"]["code"] == "BAD_CURSOR"


def test_backward_paging_on_search_and_catalogs(corpus_api: ServedAPI) -> None:
    for field, arguments, size in [
        ("search", 'query: "story 7 ai"', 7),
        ("topics", "orderBy: {field: NAME, direction: ASC}", 3),
        ("providers", "", 1),
    ]:
        forward = f"""query($cursor: String) {{ c: {field}({arguments} first: {size}, after: $cursor) {{
            pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} edges {{ cursor }} }} }}"""
        backward = forward.replace(f"first: {size}, after:", f"last: {size}, before:")
        ahead = walk(corpus_api, forward, lambda d: d["c"], {})
        behind = walk(corpus_api, backward, lambda d: d["c"], {}, backward=True)
        assert behind == ahead and len(ahead) > size, field
