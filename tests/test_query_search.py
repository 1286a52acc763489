"""search: relevance over title and excerpt, phrases, exclusions, filters, paging,
and query text that looks like operators or patterns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pymongo import MongoClient

from tests.articles import article, write_article
from tests.conftest import ServedAPI
from tests.query_corpus import Recorder, explain, recorded_api

__all__ = ["recorded_api"]

STORIES = {
    1: ("Police use facial recognition at the station", "Police say facial recognition works."),
    2: ("Facial recognition banned in the city", "The council bans facial recognition."),
    3: ("Police budget is cut", "Officers count the cost."),
    4: ("Recognition for facial artists", "A museum prize, guarded by police."),
    5: ("Why null pointers crash", "Programs and the billion dollar mistake."),
    6: ("Gardening in spring", "Nothing about the others."),
}
SEARCH = """query($q: String!, $f: ArticleFilter, $first: Int, $after: String) {
  search(query: $q, first: $first, after: $after, filter: $f) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor score node { title } } } }"""


def _load(tmp_path: Path, load: Any) -> None:
    for n, (title, excerpt) in STORIES.items():
        category = "sport" if n in (2, 4) else "news"
        write_article(
            tmp_path, f"{n}.txt", article(n, title=title, excerpt=excerpt, category=category)
        )
    assert load(tmp_path).errors == []


def _titles(api: ServedAPI, query: str, **variables: Any) -> list[str]:
    edges = api.data(SEARCH, {"q": query, **variables})["search"]["edges"]
    scores = [edge["score"] for edge in edges]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    return [edge["node"]["title"] for edge in edges]


def test_ranking_phrases_exclusions_and_filters(
    tmp_path: Path, load: Any, recorded_api: ServedAPI, mongo_client: MongoClient[Any]
) -> None:
    _load(tmp_path, load)
    api = recorded_api
    ranked = _titles(api, "police facial recognition", first=20)
    assert ranked[0] == STORIES[1][0]
    assert set(ranked) == {STORIES[n][0] for n in (1, 2, 3, 4)}
    assert set(_titles(api, '"facial recognition"')) == {STORIES[1][0], STORIES[2][0]}
    assert _titles(api, "facial recognition -police") == [STORIES[2][0]]
    assert set(_titles(api, "police", f={"category": "sport"})) == {STORIES[4][0]}
    assert _titles(api, "gardening", f={"category": "sport"}) == []
    body = api.data(SEARCH, {"q": "police facial recognition", "first": 20})["search"]
    assert body["totalCount"] == 4
    # The text index finds the matches: no collection scan.
    db = mongo_client[api.settings.database]
    searches = (
        [q for q in api.counter.queries if q.get("aggregate") == "articles"]
        if isinstance(api.counter, Recorder)
        else []
    )
    assert searches
    for command in searches:
        stages = explain(db, command)
        assert "TEXT_MATCH" in stages and "COLLSCAN" not in stages, stages


def test_search_pages_with_cursors(tmp_path: Path, load: Any, recorded_api: ServedAPI) -> None:
    _load(tmp_path, load)
    api = recorded_api
    everything = api.data(SEARCH, {"q": "police facial recognition"})["search"]["edges"]
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        page = api.data(SEARCH, {"q": "police facial recognition", "first": 1, "after": after})[
            "search"
        ]
        paged += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == everything and len(paged) == 4


def test_query_text_is_text_not_operators_or_patterns(
    tmp_path: Path, load: Any, recorded_api: ServedAPI
) -> None:
    _load(tmp_path, load)
    api = recorded_api
    assert _titles(api, ".*") == []
    assert _titles(api, "[a-z]+ ^ $ (") == []
    assert _titles(api, "{$ne: null}") == [STORIES[5][0]]  # the word "null", nothing more
    assert _titles(api, '{"$ne": null}') == []  # a quoted phrase "$ne" that no text holds
    assert _titles(api, "poli.*") == []
    assert _titles(api, "") == []
