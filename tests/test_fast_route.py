"""The view's fast route (api.http.fast_route): a document the compiled path has
answered is answered again straight from the view, with the same bytes, headers and
log line; anything it cannot answer as the Strawberry path would goes that way."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strawberry.http.parse_content_type import parse_content_type

from api.http.fast_route import media_type
from tests.conftest import SEEDS, ServedAPI, assert_same_response
from tests.test_api import HOME

PAGE = "query Page($n: Int, $after: String) { articles(first: $n, after: $after) { totalCount nodes { id title } pageInfo { endCursor } } }"
DOCUMENTS = [
    ("query Home " + HOME, None),
    (PAGE, {"n": 1}),
    (
        "{ a: articles(first: 1) { nodes { title } } b: articles(last: 1) { nodes { title } } }",
        None,
    ),
    (
        "query($t: Boolean!) { articles(first: 2) { nodes { ...F excerpt @skip(if: $t) } } } "
        "fragment F on Article { __typename id provider { name } }",
        {"t": True},
    ),
    ("{ providers(first: 2) { nodes { name articles(first: 1) { nodes { title } } } } }", None),
    ("{ topics(first: 3) { edges { cursor node { name articleCount } } } }", None),
]


def post(api: ServedAPI, payload: dict[str, Any]) -> Any:
    return api.client.post("/graphql", json=payload)


def test_repeated_documents_take_the_fast_route_with_the_same_bytes(
    seeded_api: ServedAPI,
) -> None:
    plans = seeded_api.plans
    for query, variables in DOCUMENTS:
        fast, compiled = plans.fast, plans.compiled
        seeded_api.query(query, variables, repeat=True)
        assert (plans.fast - fast, plans.compiled - compiled) == (1, 2), query
    # Other values of the variables: the same document, so the fast route.
    fast = plans.fast
    seeded_api.query(PAGE, {"n": 2})
    assert plans.fast == fast + 1


def test_get_with_etag_and_304_on_the_fast_route(seeded_api: ServedAPI) -> None:
    params = {"query": "query Home " + HOME}
    headers = {"Accept": "application/json", "Origin": "http://localhost:5173"}
    first = seeded_api.client.get("/graphql", params=params, headers=headers)
    fast = seeded_api.plans.fast
    second = seeded_api.client.get("/graphql", params=params, headers=headers)
    assert seeded_api.plans.fast == fast + 1
    assert_same_response(second, first)
    assert second.headers["etag"] and second.headers["cache-control"].startswith("public")
    assert second.headers["content-length"] == first.headers["content-length"]
    revalidated = seeded_api.client.get(
        "/graphql", params=params, headers={**headers, "If-None-Match": second.headers["etag"]}
    )
    assert revalidated.status_code == 304
    assert seeded_api.plans.fast == fast + 2
    # The IDE page is never the fast route's.
    page = seeded_api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert seeded_api.plans.fast == fast + 2


def test_persisted_queries_on_the_fast_route_log_as_before(
    seeded_api: ServedAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="newsgraph.request")
    query = "query Count { articles { totalCount } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    registered = post(seeded_api, {"query": query, "extensions": extensions})
    fast = seeded_api.plans.fast
    again = post(seeded_api, {"query": query, "extensions": extensions})
    by_hash = post(seeded_api, {"extensions": extensions})
    by_get = seeded_api.client.get(
        "/graphql", params={"extensions": json.dumps(extensions)}, headers={"Accept": "*/*"}
    )
    assert seeded_api.plans.fast == fast + 3
    assert_same_response(again, registered)
    assert by_hash.content == registered.content
    assert by_get.content == registered.content
    assert by_get.headers["cache-control"].startswith("public")
    lines = {
        r.getMessage().split()[0]: dict(pair.split("=", 1) for pair in r.getMessage().split())
        for r in caplog.records
    }
    expected = {registered: "registered", again: "registered", by_hash: "hit", by_get: "hit"}
    for response, apq in expected.items():
        line = lines["request_id=" + response.headers["x-request-id"]]
        assert (line["apq"], line["operation"], line["outcome"]) == (apq, "Count", "ok")
        assert line["cost"] == str(registered.json()["extensions"]["cost"]["requested"])


def test_what_the_fast_route_cannot_answer_goes_the_strawberry_way(
    seeded_api: ServedAPI,
) -> None:
    plans = seeded_api.plans
    seeded_api.data(PAGE, {"n": 1})
    fast, compiled = plans.fast, plans.compiled
    bad_variable = seeded_api.query(PAGE, {"n": "one"})
    assert bad_variable["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    over_cost = seeded_api.query(PAGE, {"n": 100_000})
    assert over_cost["errors"][0]["extensions"]["code"] == "COST_EXCEEDED"
    assert (plans.fast, plans.compiled) == (fast, compiled)
    # Planned and run by the fast route, which declines (a bad cursor): counted once,
    # and answered by the reference path.
    declined = plans.declined
    bad_cursor = seeded_api.query(PAGE, {"n": 1, "after": "nonsense"})
    assert bad_cursor["errors"][0]["extensions"]["code"] == "BAD_CURSOR"
    assert (plans.fast, plans.compiled, plans.declined) == (fast, compiled, declined + 1)


def test_safelist_on_the_fast_route(serve_api: Any, load: Any) -> None:
    assert load(SEEDS).errors == []
    query = "query Count { articles { totalCount } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    open_api = serve_api()
    post(
        open_api,
        {"query": query, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}},
    )
    safelist = serve_api(apq_safelist=True)
    safelist.query(query, repeat=True)
    fast = safelist.plans.fast
    assert safelist.data(query) == {"articles": {"totalCount": 2}}
    assert safelist.plans.fast == fast + 1
    refused = safelist.query("{ articles { totalCount } }", repeat=True)
    assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_SAFELIST"
    assert safelist.plans.fast == fast + 1


def test_executor_reference_has_no_fast_route(serve_api: Any, load: Any) -> None:
    load(SEEDS)
    api = serve_api(executor="reference")
    for _ in range(2):
        api.data("{ articles { totalCount } }")
    assert (api.plans.fast, api.plans.compiled) == (0, 0)


# Header values as HTTP delivers them: printable ASCII and tabs, quotes and semicolons
# likely, around the media types clients send.
HEADER_TEXT = st.text(alphabet=st.sampled_from(' \t;=",/+-.abcjnosAJNOS0123456789'), max_size=40)


@given(
    st.one_of(
        HEADER_TEXT,
        st.builds(
            lambda before, media, after: before + media + after,
            st.sampled_from(["", " ", "\t"]),
            st.sampled_from(["application/json", "Application/JSON", "text/plain", '"a;b"']),
            HEADER_TEXT,
        ),
    )
)
def test_the_media_type_is_read_as_strawberry_reads_it(header: str) -> None:
    assert media_type(header) == parse_content_type(header)[0]
