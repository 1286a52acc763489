"""Every filter and order, alone and combined, on the corpus: the answers against a
plain-Python oracle, and every query the API sent explained by MongoDB: no
collection scan, no in-memory sort."""

from __future__ import annotations

import itertools
import json
from typing import Any

from pymongo import MongoClient

from tests.conftest import ServedAPI
from tests.query_corpus import Recorder, corpus_api, expected_ids, explain, walk

__all__ = ["corpus_api"]

LEADS: list[dict[str, Any]] = [
    {},
    {"topics": ["ai"]},
    {"topics": ["AI", "tech policy"]},
    {"anyTopics": ["Space"]},
    {"anyTopics": ["space", "HEALTH", "climate"]},
    {"providerDomains": ["P1.example"]},
    {"providerDomains": ["p1.example", "www.p2.example"]},
    {"category": "news"},
    {"topics": ["AI"], "providerDomains": ["p0.example", "p2.example"]},
    {"topic": "ai", "providerDomain": "www.p0.example", "category": "news"},
]
RESIDUALS: list[dict[str, Any]] = [
    {},
    {"minHeat": 1},
    {
        "type": "article",
        "published": True,
        "publishedAfter": "2024-02-03T00:00:00+00:00",
        "publishedBefore": "2024-02-18T00:00:00+00:00",
        "minQuality": 2,
    },
]
ORDERS = list(itertools.product(["PUBLISHED_DATE_TIME", "HEAT", "QUALITY"], ["DESC", "ASC"]))

PAGE = """query($f: ArticleFilter, $o: ArticleOrder, $cursor: String) {
  articles(first: 9, after: $cursor, filter: $f, orderBy: $o) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id heat quality publishedDateTime } } } }"""
BACK = PAGE.replace("first: 9, after:", "last: 9, before:")


def test_every_filter_and_order_pages_like_the_oracle(corpus_api: ServedAPI) -> None:
    combinations = 0
    for lead, residual, (field, direction) in itertools.product(LEADS, RESIDUALS, ORDERS):
        f = {**lead, **residual}
        variables = {"f": f, "o": {"field": field, "direction": direction}}
        want = expected_ids(f, field, direction)
        edges = walk(corpus_api, PAGE, lambda d: d["articles"], variables)
        assert [e["node"]["id"] for e in edges] == want, (f, field, direction)
        total = corpus_api.data(PAGE, {**variables, "cursor": None})["articles"]["totalCount"]
        assert total == len(want), f
        combinations += 1
    assert combinations == len(LEADS) * len(RESIDUALS) * len(ORDERS)


def test_paging_backward_returns_the_same_items(corpus_api: ServedAPI) -> None:
    for f, (field, direction) in [
        ({}, ("HEAT", "DESC")),
        ({"anyTopics": ["space", "health"]}, ("QUALITY", "ASC")),
        ({"providerDomains": ["p1.example", "p3.example"]}, ("HEAT", "DESC")),
        ({"category": "sport"}, ("PUBLISHED_DATE_TIME", "ASC")),
    ]:
        variables = {"f": f, "o": {"field": field, "direction": direction}}
        forward = walk(corpus_api, PAGE, lambda d: d["articles"], variables)
        backward = walk(corpus_api, BACK, lambda d: d["articles"], variables, backward=True)
        assert [e["node"]["id"] for e in backward] == [e["node"]["id"] for e in forward]
        assert [e["cursor"] for e in backward] == [e["cursor"] for e in forward]
        assert len(forward) == len(expected_ids(f, field, direction)) > 9


def test_every_query_sent_is_served_by_an_index(
    corpus_api: ServedAPI, mongo_client: MongoClient[dict[str, Any]]
) -> None:
    """Runs after the oracle tests in this module, so it explains every page and
    count those tests made (and runs the combinations itself when alone)."""
    recorder = corpus_api.counter
    assert isinstance(recorder, Recorder)
    if len(recorder.queries) < len(LEADS) * len(RESIDUALS) * len(ORDERS):
        test_every_filter_and_order_pages_like_the_oracle(corpus_api)
        test_paging_backward_returns_the_same_items(corpus_api)
    for catalog in ("providers", "topics"):
        for field, direction in itertools.product(["ARTICLE_COUNT", "NAME"], ["ASC", "DESC"]):
            query = f"""query($cursor: String) {{ {catalog}(first: 2, after: $cursor,
                orderBy: {{field: {field}, direction: {direction}}}) {{ totalCount
                pageInfo {{ hasNextPage endCursor }} edges {{ cursor }} }} }}"""
            walk(corpus_api, query, lambda d, c=catalog: d[c], {})
    corpus_api.data(
        """{ categories { name } articles(first: 5) { nodes { mentionedIn(first: 2) { totalCount }
             provider { topics(first: 3) { count } } topics { relatedTopics { count }
             providers { count } } related { article { id } } } } }"""
    )
    db = mongo_client[corpus_api.settings.database]
    seen: set[str] = set()
    collections: set[str] = set()
    explained = 0
    for query in recorder.queries:
        command = {k: v for k, v in query.items() if k not in ("lsid", "$db", "$clusterTime")}
        key = json.dumps(command, default=str, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        collections.add(command.get("find") or command.get("aggregate"))
        collections.update(
            s["$unionWith"]["coll"] for s in command.get("pipeline", []) if "$unionWith" in s
        )
        stages = explain(db, command)
        assert stages, command
        assert "COLLSCAN" not in stages, (json.dumps(command, default=str), stages)
        if "find" in command or "$unionWith" in json.dumps(command, default=str):
            assert "SORT" not in stages, (json.dumps(command, default=str), stages)
        explained += 1
    assert explained > 300
    assert collections == {
        "articles", "providers", "topics", "categories", "providerTopics", "topicPairs"
    }  # fmt: skip
    # Cursors landed on every kind of position, including missing values behind a
    # lead of several topics (the bound that must stay a filter).
    sent = [json.dumps(q.get("filter", {}), default=str) for q in recorder.queries]
    assert any('"$nor": [{"heat": {"$ne": null}}' in f and '"$in"' in f for f in sent)
    assert any('{"heat": null, "_id": {"$lt"' in f for f in sent)
    assert any('"$nor": [{"quality": null, "_id": {"$lte"' in f for f in sent)


SINGLE_FILTERS: list[dict[str, Any]] = [
    {"topics": ["Climate"]},
    {"anyTopics": ["elections"]},
    {"providerDomains": ["p3.example"]},
    {"category": "tech"},
    {"type": "video"},
    {"published": False},
    {"published": True},
    {"publishedAfter": "2024-02-15T10:00:00+00:00"},
    {"publishedBefore": "2024-02-04T10:00:00+00:00"},
    {"minQuality": 7},
    {"minHeat": 3},
    {"topic": "SPACE"},
    {"providerDomain": "WWW.P2.EXAMPLE"},
]


def test_each_filter_alone(corpus_api: ServedAPI) -> None:
    query = (
        "query($f: ArticleFilter) { articles(first: 100, filter: $f) { totalCount nodes { id } } }"
    )
    sizes = set()
    for f in SINGLE_FILTERS:
        got = corpus_api.data(query, {"f": f})["articles"]
        want = expected_ids(f, "PUBLISHED_DATE_TIME", "DESC")
        assert [a["id"] for a in got["nodes"]] == want, f
        assert got["totalCount"] == len(want), f
        sizes.add(len(want))
    assert 0 not in sizes and 60 not in sizes  # every filter narrows, none empties


def test_a_missing_index_says_how_to_create_it(seeded_api: ServedAPI, db: Any) -> None:
    db["articles"].drop_index("heat_desc")
    body = seeded_api.query(
        "{ articles(orderBy: {field: HEAT, direction: DESC}) { nodes { id } } }"
    )
    message = body["errors"][0]["message"]
    assert "heat_desc" in message and "python -m loaders" in message
    assert seeded_api.data("{ articles { totalCount } }") == {"articles": {"totalCount": 2}}
