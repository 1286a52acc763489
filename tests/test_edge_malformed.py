"""Pathological request bodies over HTTP: nesting far deeper than any query needs,
in the body, its ``variables`` or its ``extensions``, broken or truncated JSON,
invalid UTF-8, values of the wrong type. Each is answered as a GraphQL error
(400 BAD_REQUEST when the request itself is unusable), never a 500."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ServedAPI

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
QUERY = "query($v: [ID!]) { nodes(ids: $v) { id } }"
# orjson's own limit: deeper than this is a parse error, not a recursion.
JSON_DEPTH_LIMIT = 1024


def nested(depth: int, leaf: bytes, opener: bytes) -> bytes:
    closer = b"]" if opener == b"[" else b"}"
    if opener == b"{":
        return b'{"k":' * depth + leaf + closer * depth
    return opener * depth + leaf + closer * depth


def post(api: ServedAPI, body: bytes, content_type: str = "application/json") -> httpx.Response:
    return api.client.post("/graphql", content=body, headers={"Content-Type": content_type})


def assert_answered(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 400, 413), (response.status_code, response.text[:300])
    body: dict[str, Any] = response.json()
    codes = [error["extensions"]["code"] for error in body.get("errors") or []]
    assert "INTERNAL_SERVER_ERROR" not in codes, body
    if response.status_code == 400:
        assert codes == ["BAD_REQUEST"], body
        assert body["errors"][0]["message"]
    return body


def test_the_issues_400000_deep_variables_are_a_bad_request(api: ServedAPI) -> None:
    deep = nested(400_000, b"1", b"[")
    body = b'{"query": "{ __typename }", "variables": {"v": ' + deep + b"}}"
    response = post(api, body)
    assert response.status_code == 400
    error = assert_answered(response)["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"].startswith("The request is not valid JSON: depth limit exceeded")


def test_deep_get_variables_and_extensions_are_a_bad_request(api: ServedAPI) -> None:
    deep = nested(5_000, b"1", b"[").decode()
    for name in ("variables", "extensions"):
        response = api.client.get(
            "/graphql",
            params={"query": "{ __typename }", name: '{"v": ' + deep + "}"},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 400, name
        assert "depth limit exceeded" in assert_answered(response)["errors"][0]["message"]


where = st.sampled_from(["body", "variables", "extensions", "query", "operationName"])
depths = st.integers(min_value=1, max_value=3 * JSON_DEPTH_LIMIT)
leaves = st.sampled_from([b"1", b'"x"', b"null", b"{}", b"[]", b"1e999", b"-0", b'"\\ud800"'])


def test_generated_deep_nesting_is_answered(api: ServedAPI) -> None:
    @FUZZ
    @given(where=where, depth=depths, leaf=leaves, opener=st.sampled_from([b"[", b"{"]))
    def check(where: str, depth: int, leaf: bytes, opener: bytes) -> None:
        value = nested(depth, leaf, opener)
        if where == "body":
            body = value
        else:
            fields = {"query": b'"' + QUERY.encode() + b'"', where: value}
            body = b"{" + b",".join(b'"%s":%s' % (k.encode(), v) for k, v in fields.items()) + b"}"
        response = post(api, body)
        answered = assert_answered(response)
        if depth + (where != "body") > JSON_DEPTH_LIMIT:
            assert response.status_code == 400, answered

    check()


garbage = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    # A valid request cut short, or with a byte replaced by anything.
    st.tuples(st.integers(0, 60), st.binary(min_size=1, max_size=3)).map(
        lambda cut: b'{"query": "{ articles { totalCount } }", "variables": {}}'[: cut[0]] + cut[1]
    ),
    st.sampled_from(
        [
            b'{"query": NaN}',
            b'{"query": "{ __typename }", "variables": [1, 2]}',
            b'{"query": "{ __typename }", "variables": "x"}',
            b'{"query": "{ __typename }", "extensions": 7}',
            b'{"query": "{ __typename }", "extensions": {"persistedQuery": [[[]]]}}',
            b'{"query": "{ __typename }", "extensions": {"persistedQuery": {"sha256Hash": {}}}}',
            b'{"query": ["{ __typename }"]}',
            b'{"query": "{ __typename }", "query": 1}',
            b'{"query": "\xff\xfe"}',
            b'{"query": "{ __typename }", "variables": {"v": 1' + b"0" * 5000 + b"}}",
            b"[" * 100,
            b"",
        ]
    ),
)


def test_generated_garbage_bodies_are_answered(seeded_api: ServedAPI) -> None:
    # On a loaded database: a cut that leaves a valid query (hypothesis finds one)
    # is then answered 200, not DATABASE_NOT_LOADED's 503.
    @FUZZ
    @given(body=garbage)
    def check(body: bytes) -> None:
        assert_answered(post(seeded_api, body))

    check()
