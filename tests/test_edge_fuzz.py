"""Property-based fuzzing of the endpoint: generated queries (valid against the
schema, from hypothesis-graphql), generated variables, and malformed documents.
Whatever comes in, the answer is a GraphQL response (data or errors) in time,
never a 500 page and never an unexpected exception."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from api.schema.root import schema
from tests.conftest import ServedAPI

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SDL = schema.as_str()

# Documents whose variables the fuzzer fills with anything JSON can carry.
WITH_VARIABLES = [
    "query($first: Int, $after: String) { articles(first: $first, after: $after) { nodes { id } } }",
    "query($id: ID!) { node(id: $id) { id } }",
    "query($filter: ArticleFilter) { articles(filter: $filter) { totalCount } }",
    "query($d: String!, $n: Int) { provider(domain: $d) { articles(first: $n) { totalCount } } }",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


def assert_graphql_response(response: httpx.Response) -> None:
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert "data" in body or "errors" in body
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
    assert "INTERNAL_SERVER_ERROR" not in codes, body


def post(api: ServedAPI, payload: Any) -> httpx.Response:
    return api.client.post("/graphql", json=payload, timeout=10)


def test_generated_queries_get_graphql_answers(seeded_api: ServedAPI) -> None:
    @FUZZ
    @given(query=queries(SDL), over_get=st.booleans())
    def check(query: str, over_get: bool) -> None:
        if over_get:
            response = seeded_api.client.get(
                "/graphql", params={"query": query}, headers={"Accept": "application/json"}
            )
        else:
            response = post(seeded_api, {"query": query})
        assert_graphql_response(response)

    check()


def test_generated_variables_get_graphql_answers(seeded_api: ServedAPI) -> None:
    @FUZZ
    @given(
        query=st.sampled_from(WITH_VARIABLES),
        variables=st.dictionaries(
            st.sampled_from(["first", "after", "id", "filter", "d", "n", "x"]), json_values
        ),
    )
    def check(query: str, variables: dict[str, Any]) -> None:
        assert_graphql_response(post(seeded_api, {"query": query, "variables": variables}))

    check()


def test_malformed_documents_and_payloads_get_graphql_answers(seeded_api: ServedAPI) -> None:
    valid = "{ articles(first: 2) { nodes { id title provider { name } } } }"
    mangled = st.tuples(st.integers(0, len(valid)), st.text(max_size=5)).map(
        lambda cut: valid[: cut[0]] + cut[1] + valid[cut[0] :]
    )

    @FUZZ
    @given(
        payload=st.one_of(
            st.builds(lambda q: {"query": q}, st.text(max_size=200) | mangled),
            st.dictionaries(st.sampled_from(["query", "variables", "operationName"]), json_values),
            json_values,
        )
    )
    def check(payload: Any) -> None:
        assert_graphql_response(post(seeded_api, payload))

    check()
