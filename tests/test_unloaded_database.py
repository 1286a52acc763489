"""A database the loader never prepared is not served as an empty one: /readyz says
what to do, queries answer DATABASE_NOT_LOADED, and once the loader has run the
same process serves it without a restart."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from tests.conftest import SEEDS, ServedAPI
from tests.test_compose import compose

QUERIES = [
    "{ articles(first: 5) { totalCount nodes { id } } }",
    '{ search(query: "facial recognition") { totalCount nodes { id } } }',
    "{ topics { totalCount } }",
    "{ categories { name } }",
]


def assert_not_loaded(api: ServedAPI, query: str, db_name: str) -> None:
    response = api.client.post("/graphql", json={"query": query})
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "DATABASE_NOT_LOADED"
    assert f"{db_name!r} has not been prepared by the loader" in error["message"]
    assert "run the loader" in error["message"]


def test_an_empty_server_is_not_ready_until_loaded(api: ServedAPI, load: Any, db_name: str) -> None:
    response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not_loaded"
    assert "run the loader" in response.json()["reason"]
    for query in QUERIES:
        assert_not_loaded(api, query, db_name)

    assert load(SEEDS).errors == []
    api.ready()
    assert api.data(QUERIES[0])["articles"]["totalCount"] == 2
    assert api.data(QUERIES[1])["search"]["totalCount"] == 2


def test_articles_written_without_the_loader_are_not_ready(
    api: ServedAPI, db: Database[dict[str, Any]], db_name: str
) -> None:
    db["articles"].insert_one({"_id": "x", "title": "Not loaded"})
    assert api.client.get("/readyz").status_code == 503
    assert_not_loaded(api, QUERIES[0], db_name)


def test_introspection_and_limits_answer_before_the_database_is_loaded(api: ServedAPI) -> None:
    assert api.data("{ __schema { queryType { name } } }") == {
        "__schema": {"queryType": {"name": "Query"}}
    }
    deep = "{ articles { nodes { " + "mentionedIn { nodes { " * 12 + "id" + " } }" * 12 + " } } }"
    codes = {error["extensions"]["code"] for error in api.query(deep)["errors"]}
    assert codes == {"QUERY_TOO_DEEP"}


def test_compose_starts_the_api_after_the_loader_completed() -> None:
    depends_on = compose()["services"]["api"]["depends_on"]
    assert depends_on["loader"] == {"condition": "service_completed_successfully"}
