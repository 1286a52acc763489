"""Resource limits over HTTP: each just under and just over its bound, refused with
its code and limit before any resolver or MongoDB command runs."""

from __future__ import annotations

from typing import Any

from graphql import Lexer, Source, TokenKind

from tests.conftest import ServedAPI

# Fields to nest, in a cycle, and the scalar that ends the query after each.
NESTING = ["articles(first: 1)", "nodes", "provider"]
LEAF = ["totalCount", "id", "id"]


def nested(depth: int) -> str:
    """A query exactly ``depth`` fields deep: articles > nodes > provider > articles..."""
    wrappers = [NESTING[i % 3] for i in range(depth - 1)]
    inner = LEAF[(depth - 2) % 3]
    for wrapper in reversed(wrappers):
        inner = f"{wrapper} {{ {inner} }}"
    return "{ " + inner + " }"


def token_count(query: str) -> int:
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


def refused(api: ServedAPI, db_name: str, query: str, code: str) -> dict[str, Any]:
    """Send ``query``; it must be refused with ``code`` and no MongoDB command."""
    api.counter.reset()
    response = api.client.post("/graphql", json={"query": query})
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == [code], body["errors"]
    assert body["data"] is None
    assert api.counter.count(db_name) == 0
    error: dict[str, Any] = body["errors"][0]
    return error


def test_depth_12_runs_and_13_is_refused(seeded_api: ServedAPI, db_name: str) -> None:
    assert "provider" in str(seeded_api.data(nested(12)))
    error = refused(seeded_api, db_name, nested(13), "QUERY_TOO_DEEP")
    assert error["extensions"]["limit"] == 12
    assert error["extensions"]["depth"] == 13
    assert "13 fields deep; the limit is 12" in error["message"]


def test_30_aliases_run_and_31_are_refused(seeded_api: ServedAPI, db_name: str) -> None:
    def aliased(n: int) -> str:
        fields = " ".join(f"t{i}: title" for i in range(n))
        return "{ articles(first: 1) { nodes { " + fields + " } } }"

    node = seeded_api.data(aliased(30))["articles"]["nodes"][0]
    assert len(node) == 30
    error = refused(seeded_api, db_name, aliased(31), "TOO_MANY_ALIASES")
    assert (error["extensions"]["limit"], error["extensions"]["aliases"]) == (30, 31)


def test_aliases_are_counted_through_fragments(seeded_api: ServedAPI, db_name: str) -> None:
    fragment = "fragment F on Article { " + " ".join(f"t{i}: title" for i in range(8)) + " }"
    query = "{ articles(first: 1) { nodes { ...F ... on Article { ...F } } } } "
    assert seeded_api.query(query + fragment).get("errors") is None
    spread = "{ articles(first: 1) { a: nodes { ...F } b: nodes { ...F } c: nodes { ...F } d: nodes { ...F } } } "
    refused(seeded_api, db_name, spread + fragment, "TOO_MANY_ALIASES")


def test_5000_tokens_run_and_5001_are_refused(seeded_api: ServedAPI, db_name: str) -> None:
    # Many small operations (operationName picks one): 5 tokens each.
    operations = " ".join(f"query Q{i} {{ __typename }}" for i in range(999))
    under = operations + " query Last { __typename }"
    over = operations + " query Last { __typename __typename }"
    assert (token_count(under), token_count(over)) == (5000, 5001)
    ok = seeded_api.client.post("/graphql", json={"query": under, "operationName": "Last"})
    assert ok.json()["data"] == {"__typename": "Query"}
    error = refused(seeded_api, db_name, over, "TOO_MANY_TOKENS")
    assert error["extensions"]["limit"] == 5000


def test_100_kb_runs_and_one_byte_more_is_refused(seeded_api: ServedAPI, db_name: str) -> None:
    query = "{ articles(first: 1) { totalCount } }\n#"
    under = query + "x" * (100_000 - len(query))
    assert len(under.encode()) == 100_000
    assert seeded_api.data(under) == {"articles": {"totalCount": 2}}
    error = refused(seeded_api, db_name, under + "x", "QUERY_TOO_LARGE")
    assert (error["extensions"]["limit"], error["extensions"]["size"]) == (100_000, 100_001)


def test_a_1_mb_query_is_refused(seeded_api: ServedAPI, db_name: str) -> None:
    query = "{ " + "articles { totalCount } " * 45_000 + "}"
    assert len(query) > 1_000_000
    error = refused(seeded_api, db_name, query, "QUERY_TOO_LARGE")
    assert error["extensions"]["size"] == len(query)


def test_a_body_over_its_limit_is_refused_as_it_arrives(serve_api: Any, db_name: str) -> None:
    api = serve_api(max_body_bytes=50_000)
    variables = {"pad": "x" * 60_000}
    api.counter.reset()
    response = api.client.post("/graphql", json={"query": "{ __typename }", "variables": variables})
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "QUERY_TOO_LARGE", "limit": 50_000}
    assert api.counter.count(db_name) == 0
    small = api.client.post("/graphql", json={"query": "{ __typename }", "variables": {"a": 1}})
    assert small.json()["data"] == {"__typename": "Query"}


def test_cost_is_reported_in_every_response(seeded_api: ServedAPI) -> None:
    # 1 connection + 3 articles + 3 providers.
    body = seeded_api.query("{ articles(first: 3) { nodes { id provider { id } } } }")
    assert body["extensions"]["cost"] == {"requested": 7, "limit": 50_000}
    # Variables count: 1 + 2 x (1 article + 1 provider).
    body = seeded_api.query(
        "query($n: Int) { articles(first: $n) { edges { node { provider { name } } } } }",
        {"n": 2},
    )
    assert body["extensions"]["cost"]["requested"] == 1 + 2 * (1 + 1 + 1)
    invalid = seeded_api.query("{ nope }")
    assert invalid["extensions"]["cost"] == {"requested": 0, "limit": 50_000}


def test_cost_just_under_and_over_a_configured_limit(serve_api: Any, db_name: str) -> None:
    query = "{ articles(first: 10) { nodes { topics { name } } } }"
    cost = 1 + 10 * (1 + 10)  # a plain list of objects counts 10 (DEFAULT_LIST_BOUND)
    at_limit = serve_api(max_cost=cost)
    assert at_limit.query(query)["extensions"]["cost"] == {"requested": cost, "limit": cost}
    below = serve_api(max_cost=cost - 1)
    error = refused(below, db_name, query, "COST_EXCEEDED")
    assert error["extensions"] == {"code": "COST_EXCEEDED", "requested": cost, "limit": cost - 1}


def test_shallow_nested_connections_are_refused_by_cost(
    seeded_api: ServedAPI, db_name: str
) -> None:
    query = """{ providers(first: 100) { nodes { articles(first: 100) { nodes {
        topics { articles(first: 100) { nodes { id } } } } } } } }"""
    error = refused(seeded_api, db_name, query, "COST_EXCEEDED")
    assert error["extensions"]["requested"] > 10_000_000
    assert error["extensions"]["limit"] == 50_000
    assert "could return up to" in error["message"]


def test_fragment_cycles_and_unknown_fragments_get_validation_errors(
    seeded_api: ServedAPI, db_name: str
) -> None:
    cycle = """{ articles { ...A } }
      fragment A on ArticleConnection { totalCount ...B }
      fragment B on ArticleConnection { totalCount ...A }"""
    error = refused(seeded_api, db_name, cycle, "GRAPHQL_VALIDATION_FAILED")
    assert "Cannot spread fragment 'A' within itself via 'B'" in error["message"]
    error = refused(seeded_api, db_name, "{ ...Nowhere }", "GRAPHQL_VALIDATION_FAILED")
    assert error["message"] == "Unknown fragment 'Nowhere'."


def test_fragment_spread_bombs_are_measured_without_blowing_up(
    seeded_api: ServedAPI, db_name: str
) -> None:
    # Each fragment spreads the next twice: 2^30 paths if expanded naively.
    levels = 30
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ articles(first: 1) {{ totalCount }} }}")
    query = "{ ...F0 } " + " ".join(fragments)
    body = seeded_api.client.post("/graphql", json={"query": query}, timeout=10).json()
    assert body["extensions"]["cost"]["requested"] == 2**levels
    assert body["errors"][0]["extensions"]["code"] == "COST_EXCEEDED"


def test_a_batch_is_refused_with_a_graphql_error(seeded_api: ServedAPI, db_name: str) -> None:
    seeded_api.counter.reset()
    batch = [{"query": "{ __typename }"}, {"query": "{ __typename }"}]
    response = seeded_api.client.post("/graphql", json=batch)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "batch" in error["message"].lower()
    assert seeded_api.counter.count(db_name) == 0
