"""The HTTP edge: caching, CORS and CSRF, request ids, masked errors, the log line
and /metrics."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from api.devserver import dev_settings
from api.http.cors import DEV_ORIGINS
from api.store import reads
from tests.conftest import SEEDS, ServedAPI
from tests.test_api import HOME

COUNT = "{ articles { totalCount } }"
APOLLO_HEADERS = (
    "content-type,apollo-require-preflight,x-apollo-operation-name,"
    "apollographql-client-name,apollographql-client-version"
)


def get(api: ServedAPI, query: str, **headers: str) -> Any:
    return api.client.get(
        "/graphql", params={"query": query}, headers={"Accept": "application/json", **headers}
    )


def test_get_successes_are_cacheable_with_an_etag(seeded_api: ServedAPI) -> None:
    response = get(seeded_api, COUNT)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=30"
    etag = response.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert get(seeded_api, COUNT).headers["etag"] == etag  # same body, same tag

    revalidated = get(seeded_api, COUNT, **{"If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == etag
    stale = get(seeded_api, COUNT, **{"If-None-Match": '"something-else"'})
    assert stale.status_code == 200
    assert stale.json()["data"] == {"articles": {"totalCount": 2}}


def test_errors_and_posts_are_not_stored(seeded_api: ServedAPI) -> None:
    with_errors = get(seeded_api, "{ nope }")
    assert with_errors.headers["cache-control"] == "no-store"
    assert "etag" not in with_errors.headers
    post = seeded_api.client.post("/graphql", json={"query": COUNT})
    assert post.json()["data"] == {"articles": {"totalCount": 2}}
    assert post.headers["cache-control"] == "no-store"
    assert "etag" not in post.headers


def test_max_age_is_configurable(serve_api: Any, load: Any) -> None:
    assert load(SEEDS).errors == []
    api = serve_api(cache_max_age=5)
    assert get(api, COUNT).headers["cache-control"] == "public, max-age=5"


def preflight(api: ServedAPI, origin: str) -> Any:
    return api.client.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": APOLLO_HEADERS,
        },
    )


def test_cors_preflight_allows_configured_origins_with_apollo_headers(serve_api: Any) -> None:
    api = serve_api(cors_origins=("https://news.example", "http://localhost:*"))
    for origin in ("https://news.example", "http://localhost:5173", "http://localhost"):
        response = preflight(api, origin)
        assert response.status_code == 200, origin
        assert response.headers["access-control-allow-origin"] == origin
        allowed = response.headers["access-control-allow-headers"].lower()
        assert all(header in allowed for header in APOLLO_HEADERS.split(","))
        assert "POST" in response.headers["access-control-allow-methods"]
    simple = api.client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://news.example"}
    )
    assert simple.headers["access-control-allow-origin"] == "https://news.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


def test_cors_preflight_refuses_other_origins(serve_api: Any) -> None:
    api = serve_api(cors_origins=("https://news.example",))
    for origin in ("https://evil.example", "https://news.example.evil.example"):
        response = preflight(api, origin)
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
    by_default = serve_api()
    assert preflight(by_default, "http://localhost:3000").status_code == 400


def test_make_serve_allows_localhost_unless_told_otherwise(monkeypatch: Any) -> None:
    monkeypatch.delenv("CORS_ORIGINS", raising=False)
    assert dev_settings().cors_origins == DEV_ORIGINS
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    assert dev_settings().cors_origins == ("https://a.example", "https://b.example")


def test_post_requires_json_and_get_never_runs_a_mutation(
    seeded_api: ServedAPI, db_name: str
) -> None:
    seeded_api.counter.reset()
    form = seeded_api.client.post(
        "/graphql", content='{"query": "{ __typename }"}', headers={"Content-Type": "text/plain"}
    )
    assert form.status_code == 400
    assert form.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "application/json" in form.json()["errors"][0]["message"]
    mutation = get(seeded_api, "mutation { __typename }")
    assert mutation.status_code in (400, 405)
    assert mutation.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "mutation" in mutation.json()["errors"][0]["message"]
    assert seeded_api.counter.count(db_name) == 0


def test_every_response_has_a_request_id(api: ServedAPI) -> None:
    generated = api.client.post("/graphql", json={"query": "{ __typename }"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    other = api.client.post("/graphql", json={"query": "{ __typename }"})
    assert other.headers["x-request-id"] != generated.headers["x-request-id"]
    given = api.client.get("/healthz", headers={"X-Request-Id": "edge-test.42"})
    assert given.headers["x-request-id"] == "edge-test.42"
    forged = api.client.get("/healthz", headers={"X-Request-Id": "a b c"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])
    assert api.client.get("/nowhere").headers["x-request-id"]


def test_an_unexpected_exception_is_masked_with_the_id_in_the_log(
    seeded_api: ServedAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("secret connection detail")

    monkeypatch.setattr(reads, "count_articles", broken)
    caplog.set_level(logging.INFO)
    response = seeded_api.client.post("/graphql", json={"query": "query Broken " + COUNT})
    request_id = response.headers["x-request-id"]
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == [
        {
            "message": "Internal server error",
            "locations": [{"line": 1, "column": 27}],
            "path": ["articles", "totalCount"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        }
    ]
    assert "secret" not in response.text
    traceback = [r for r in caplog.records if r.exc_info and request_id in r.getMessage()]
    assert len(traceback) == 1
    assert "secret connection detail" in str(traceback[0].exc_info[1])
    lines = [r.getMessage() for r in caplog.records if r.name == "newsgraph.request"]
    assert [line for line in lines if f"request_id={request_id} " in line] == [
        line for line in lines if "outcome=internal_server_error" in line
    ]
    assert any("operation=Broken" in line for line in lines)


def test_one_log_line_per_request_with_round_trips(
    seeded_api: ServedAPI, db_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="newsgraph.request")
    seeded_api.counter.reset()
    response = seeded_api.client.post("/graphql", json={"query": "query Home " + HOME})
    round_trips = seeded_api.counter.count(db_name)
    request_id = response.headers["x-request-id"]
    (record,) = [r for r in caplog.records if request_id in r.getMessage()]
    fields = dict(pair.split("=", 1) for pair in record.getMessage().split())
    assert fields["request_id"] == request_id
    assert fields["operation"] == "Home"
    assert fields["outcome"] == "ok"
    assert fields["status"] == "200"
    assert int(fields["mongo_round_trips"]) == round_trips > 0
    assert int(fields["cost"]) == response.json()["extensions"]["cost"]["requested"]
    assert float(fields["duration_ms"]) > 0
    assert record.request["request_id"] == request_id  # type: ignore[attr-defined]


def metric(text: str, name: str, **labels: str) -> float:
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name + ("{" + selector + "}" if labels else "")) + r" ([0-9.e+]+)"
    match = re.search(pattern, text)
    assert match, f"{name} {labels} not in /metrics"
    return float(match.group(1))


def test_metrics_after_traffic(seeded_api: ServedAPI) -> None:
    for _ in range(2):
        seeded_api.data("query Home " + HOME)
    seeded_api.query(
        "query Deep { providers(first: 100) { nodes { articles(first: 100) { nodes { topics { articles(first: 100) { nodes { id } } } } } } } }"
    )
    seeded_api.client.post(
        "/graphql",
        json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
    )
    response = seeded_api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert metric(text, "newsgraph_graphql_requests_total", operation="Home", outcome="ok") == 2
    assert (
        metric(text, "newsgraph_graphql_requests_total", operation="Deep", outcome="cost_exceeded")
        == 1
    )
    assert metric(text, "newsgraph_graphql_request_duration_seconds_count", operation="Home") == 2
    assert metric(text, "newsgraph_graphql_query_cost_count") == 3
    assert metric(text, "newsgraph_graphql_query_cost_bucket", le="100000.0") == 2
    assert metric(text, "newsgraph_apq_lookups_total", result="miss") == 1
    assert (
        metric(
            text, "newsgraph_mongodb_command_duration_seconds_count", command="find", outcome="ok"
        )
        >= 2
    )
