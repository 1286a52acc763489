"""Automatic persisted queries as Apollo Client's persisted-queries link uses them,
over POST and GET, shared between API processes, bounded, and in safelist mode."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pymongo.database import Database

from storage.contract import PERSISTED_QUERIES
from tests.conftest import SEEDS, ServedAPI

QUERY = "query Count { articles { totalCount } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def post(api: ServedAPI, query: str | None, digest: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"extensions": persisted(digest)}
    if query is not None:
        payload["query"] = query
    body: dict[str, Any] = api.client.post("/graphql", json=payload).json()
    return body


def get(api: ServedAPI, digest: str) -> Any:
    params = {"extensions": json.dumps(persisted(digest))}
    return api.client.get("/graphql", params=params, headers={"Accept": "application/json"})


def code_of(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def test_apq_flow_over_post_and_get(seeded_api: ServedAPI) -> None:
    miss = post(seeded_api, None, HASH)
    assert miss["errors"][0]["message"] == "PersistedQueryNotFound"
    assert code_of(miss) == "PERSISTED_QUERY_NOT_FOUND"
    assert miss["data"] is None
    assert get(seeded_api, HASH).json()["errors"][0]["message"] == "PersistedQueryNotFound"

    registered = post(seeded_api, QUERY, HASH)
    assert registered["data"] == {"articles": {"totalCount": 2}}
    assert post(seeded_api, None, HASH)["data"] == {"articles": {"totalCount": 2}}
    response = get(seeded_api, HASH)
    assert response.status_code == 200
    assert response.json()["data"] == {"articles": {"totalCount": 2}}
    assert response.headers["cache-control"].startswith("public")


def test_a_wrong_hash_is_refused_and_not_registered(seeded_api: ServedAPI) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    response = seeded_api.client.post(
        "/graphql", json={"query": QUERY, "extensions": persisted(wrong)}
    )
    assert response.status_code == 400
    assert code_of(response.json()) == "BAD_REQUEST"
    assert "does not match" in response.json()["errors"][0]["message"]
    assert code_of(post(seeded_api, None, wrong)) == "PERSISTED_QUERY_NOT_FOUND"
    malformed = post(seeded_api, None, "not-a-hash")
    assert code_of(malformed) == "BAD_REQUEST"


def test_registered_queries_are_shared_by_processes(
    seeded_api: ServedAPI, serve_api: Any, db: Database[dict[str, Any]]
) -> None:
    post(seeded_api, QUERY, HASH)
    assert db[PERSISTED_QUERIES].find_one({"_id": HASH})["query"] == QUERY
    other = serve_api()
    assert post(other, None, HASH)["data"] == {"articles": {"totalCount": 2}}


def test_the_number_of_registered_queries_is_bounded(
    serve_api: Any, db: Database[dict[str, Any]]
) -> None:
    api = serve_api(apq_max_queries=2)
    queries = [f"query Q{i} {{ __typename }}" for i in range(3)]
    digests = [hashlib.sha256(q.encode()).hexdigest() for q in queries]
    for query, digest in zip(queries, digests, strict=True):
        assert post(api, query, digest)["data"] == {"__typename": "Query"}
    assert sorted(doc["_id"] for doc in db[PERSISTED_QUERIES].find()) == sorted(digests[1:])
    # The oldest was evicted: the client is told to send it again, and can.
    assert code_of(post(api, None, digests[0])) == "PERSISTED_QUERY_NOT_FOUND"
    assert post(api, None, digests[2])["data"] == {"__typename": "Query"}


def test_safelist_mode_runs_only_registered_queries(serve_api: Any, load: Any) -> None:
    assert load(SEEDS).errors == []
    open_api = serve_api()
    post(open_api, QUERY, HASH)
    safelist = serve_api(apq_safelist=True)
    assert post(safelist, None, HASH)["data"] == {"articles": {"totalCount": 2}}
    assert safelist.data(QUERY) == {"articles": {"totalCount": 2}}
    other = "{ articles { totalCount } }"
    other_hash = hashlib.sha256(other.encode()).hexdigest()
    refused = safelist.query(other)
    assert code_of(refused) == "PERSISTED_QUERY_NOT_IN_SAFELIST"
    assert refused["data"] is None
    assert code_of(post(safelist, None, other_hash)) == "PERSISTED_QUERY_NOT_FOUND"
    # Registration is closed: the link's retry with the text is refused too.
    assert code_of(post(safelist, other, other_hash)) == "PERSISTED_QUERY_NOT_IN_SAFELIST"
    assert code_of(post(safelist, None, other_hash)) == "PERSISTED_QUERY_NOT_FOUND"
