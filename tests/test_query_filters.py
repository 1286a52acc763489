"""Every filter and order, alone and combined, on the corpus: the answers against a
plain-Python oracle, and every query the API sent explained by MongoDB: no
collection scan, no in-memory sort."""

from __future__ import annotations

import itertools
import json
from typing import Any

from pymongo import MongoClient

from tests.conftest import ServedAPI
from tests.query_corpus import Recorder, corpus_api, expected_ids, walk

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


def _stages(plan: dict[str, Any]) -> list[str]:
    plan = plan.get("queryPlan", plan)
    found = [plan["stage"]]
    for child in [plan.get("inputStage"), *plan.get("inputStages", [])]:
        if child:
            found += _stages(child)
    return found


def _winning_plans(explained: dict[str, Any]) -> list[dict[str, Any]]:
    if "queryPlanner" in explained:
        return [explained["queryPlanner"]["winningPlan"]]
    plans = []
    for stage in explained.get("stages", []):
        if "$cursor" in stage:
            plans.append(stage["$cursor"]["queryPlanner"]["winningPlan"])
    return plans


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
    db = mongo_client[corpus_api.settings.database]
    seen: set[str] = set()
    explained = 0
    for query in recorder.queries:
        command = {k: v for k, v in query.items() if k not in ("lsid", "$db", "$clusterTime")}
        if "aggregate" in command and any(
            "$text" in json.dumps(s, default=str) for s in command["pipeline"][:1]
        ):
            continue  # search: the text index serves it (see test_query_search)
        key = json.dumps(command, default=str, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        result = db.command({"explain": command, "verbosity": "queryPlanner"})
        plans = _winning_plans(result)
        assert plans, result
        for plan in plans:
            stages = _stages(plan)
            assert "COLLSCAN" not in stages, (json.dumps(command, default=str), stages)
            if "find" in command:
                assert "SORT" not in stages, (json.dumps(command, default=str), stages)
        explained += 1
    assert explained > 300
