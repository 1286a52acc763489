"""search on the index: membership, phrases, exclusions, every filter, both orders,
paging both ways across inserts, scores, highlights and bad input, each against
the plain-Python oracle in tests/search_oracle.py."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from api.search import searcher
from api.settings import Settings
from loaders.load import load_paths
from tests.articles import write_article
from tests.conftest import RUN_ID, CommandCounter, ServedAPI
from tests.query_corpus import Recorder, walk
from tests.search_oracle import (
    FORMS,
    SIZE,
    extra_doc,
    hits,
    ids,
    lemmas,
    newest,
    oracle_doc,
    search_doc,
    wait_searchable,
)


def _document(after: str, before: str) -> str:
    return f"""query($q: String!, $f: ArticleFilter, $first: Int, $last: Int, $order: SearchOrder,
  {after}: String, {before}: String) {{
  search(query: $q, filter: $f, first: $first, after: {after}, last: $last, before: {before},
         orderBy: $order) {{
    totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor score highlights {{ title excerpt }} node {{ id title excerpt }} }} }} }}"""


SEARCH = _document("$after", "$before")
FORWARD = _document("$cursor", "$before")
BACKWARD = _document("$after", "$cursor")


@pytest.fixture(scope="module")
def corpus(
    mongo_client: MongoClient[dict[str, Any]], mongo_uri: str, tmp_path_factory: Any
) -> Iterator[tuple[ServedAPI, Callable[[list[dict[str, Any]]], None], list[dict[str, Any]]]]:
    """The search corpus in a database of the module's own, and a way to add to it."""
    name = f"ngtest_{RUN_ID}_search"
    docs = [search_doc(n) for n in range(SIZE)]
    known: list[dict[str, Any]] = []
    api = ServedAPI(Settings(mongodb_uri=mongo_uri, database=name), Recorder())

    def add(new: list[dict[str, Any]]) -> None:
        directory = tmp_path_factory.mktemp("search")
        for doc in new:
            write_article(directory, f"{doc['webUrl'].rsplit('/', 1)[1]}.txt", doc)
        assert load_paths(mongo_client[name], [directory]).errors == []
        known.extend(oracle_doc(doc) for doc in new)
        wait_searchable(api, len(known))

    add(docs)
    yield api, add, known
    api.close()
    mongo_client.drop_database(name)


def search(api: ServedAPI, q: str, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = api.data(SEARCH, {"q": q, "first": 100, **variables})["search"]
    return result


QUERIES: list[tuple[str, list[str], list[list[str]], list[str]]] = [
    # (query, words, phrases, excluded), by lemma
    ("storm", ["storm"], [], []),
    ("Banned ROCKETS", ["ban", "rocket"], [], []),
    ('"facial recognition"', [], [["facial", "recognition"]], []),
    ('police "facial recognition"', ["police"], [["facial", "recognition"]], []),
    ("launched -garden", ["launch"], [], ["garden"]),
    ('vote budget -"facial recognition" -river', ["vote", "budget"], [], ["river"]),
]


@pytest.mark.parametrize(("q", "words", "phrases", "excluded"), QUERIES)
def test_membership_phrases_exclusions(
    corpus: Any, q: str, words: list[str], phrases: list[list[str]], excluded: list[str]
) -> None:
    api, _, known = corpus
    found = search(api, q)
    expected = hits(known, words, phrases, excluded)
    if "facial recognition" in q and q.startswith("vote"):
        expected = [d for d in expected if not any(
            t[i : i + 2] == ["facial", "recognition"] for t in (d["title"], d["excerpt"])
            for i in range(len(t)))]  # fmt: skip
    assert expected, "the oracle must find something, or the test proves nothing"
    assert {e["node"]["id"] for e in found["edges"]} == ids(expected)
    assert found["totalCount"] == len(expected)
    scores = [e["score"] for e in found["edges"]]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_a_costly_page_runs_in_a_worker_thread_with_the_same_answer(
    corpus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On this small corpus no page is costly; with the threshold at one posting
    every page is, and each executor then pages in the event loop's worker threads
    with the same answers (the oracle's, and byte-identical between executors)."""
    api, _, known = corpus
    threads: list[str] = []
    page = searcher.Search.page

    def recorded(self: searcher.Search, window: Any) -> Any:
        threads.append(threading.current_thread().name)
        return page(self, window)

    monkeypatch.setattr(searcher.Search, "page", recorded)
    search(api, "storm vote police")
    assert threads and not any(name.startswith("asyncio") for name in threads)
    threads.clear()
    monkeypatch.setattr(api.app.state.search, "thread_postings", 1)
    for q, words, phrases, excluded in QUERIES[:3]:
        found = search(api, q)
        assert {e["node"]["id"] for e in found["edges"]} == ids(
            hits(known, words, phrases, excluded)
        )
    by_date = search(api, "storm vote police", f={"category": "sport"}, order="NEWEST")
    expected = hits(known, ["storm", "vote", "police"], f={"category": "sport"})
    assert [e["node"]["id"] for e in by_date["edges"]] == newest(expected)
    # Both executors (the reference twin answers every request too), in threads.
    assert len(threads) >= 8 and all(name.startswith("asyncio") for name in threads), threads


FILTERS: list[dict[str, Any]] = [
    {"topics": ["ai"]},
    {"anyTopics": ["Space", "health"]},
    {"providerDomains": ["www.p1.example", "p2.example"]},
    {"category": "sport"},
    {"type": "video"},
    {"published": False},
    {"publishedAfter": "2024-02-05T00:00:00+00:00", "publishedBefore": "2024-02-12T10:00:00+00:00"},
    {"minHeat": 2},
    {"minQuality": 5, "category": "news"},
    {"topic": "Climate", "providerDomain": "p3.example"},
]


@pytest.mark.parametrize("f", FILTERS)
def test_every_filter_inside_the_engine(corpus: Any, f: dict[str, Any]) -> None:
    api, _, known = corpus
    expected = hits(known, ["storm", "vote", "police"], f=f)
    assert expected
    found = search(api, "storm vote police", f=f)
    assert {e["node"]["id"] for e in found["edges"]} == ids(expected)
    assert found["totalCount"] == len(expected)
    by_date = search(api, "storm vote police", f=f, order="NEWEST")
    assert [e["node"]["id"] for e in by_date["edges"]] == newest(expected)


def test_title_weighs_above_excerpt(corpus: Any) -> None:
    api, add, _ = corpus
    add([
        extra_doc(900, "Zebra crossing news today", "Nothing else to say here.", "2024-01-01T00:00:00Z"),
        extra_doc(901, "Crossing news today again", "A zebra said nothing here.", "2024-01-01T00:00:00Z"),
    ])  # fmt: skip
    titles = [e["node"]["title"] for e in search(api, "zebra")["edges"]]
    assert titles == ["Zebra crossing news today", "Crossing news today again"]


@pytest.mark.parametrize("order", ["RELEVANCE", "NEWEST"])
def test_paging_forward_and_backward(corpus: Any, order: str) -> None:
    api, _, known = corpus
    q = "storm rocket"
    everything = search(api, q, order=order)["edges"]
    assert len(everything) == len(hits(known, ["storm", "rocket"])) > 14
    variables = {"q": q, "order": order}
    forward = walk(api, FORWARD, lambda d: d["search"], {**variables, "first": 6})
    backward = walk(api, BACKWARD, lambda d: d["search"], {**variables, "last": 6}, backward=True)
    node_ids = [e["node"]["id"] for e in everything]
    assert [e["node"]["id"] for e in forward] == node_ids
    assert [e["node"]["id"] for e in backward] == node_ids


@pytest.mark.parametrize("order", ["RELEVANCE", "NEWEST"])
def test_cursors_stay_stable_while_articles_arrive(corpus: Any, order: str) -> None:
    api, add, known = corpus
    q = "river council"
    before = [e["node"]["id"] for e in search(api, q, order=order)["edges"]]
    first = api.data(SEARCH, {"q": q, "first": 5, "order": order})["search"]
    n = 1000 if order == "RELEVANCE" else 1100
    # Matches that would rank first, and matches older than everything.
    add([
        extra_doc(n, "River river council council", "River council.", "2024-03-20T00:00:00Z"),
        extra_doc(n + 1, "Council river", "Councils and rivers.", "2023-01-01T00:00:00Z"),
    ])  # fmt: skip
    rest: list[dict[str, Any]] = []
    cursor = first["pageInfo"]["endCursor"]
    while True:
        page = api.data(SEARCH, {"q": q, "first": 5, "after": cursor, "order": order})["search"]
        rest += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    seen = [e["node"]["id"] for e in first["edges"]] + [e["node"]["id"] for e in rest]
    assert len(seen) == len(set(seen)), "a page repeated an article"
    if order == "NEWEST":
        # The keyset: every article older than the first page, the new old one included.
        expected = newest(hits(known, ["river", "council"]))
        assert seen == [i for i in expected if i in before[:5] or expected.index(i) > 4]
    else:
        # The first page's snapshot: the ranking as it was, neither shifted nor repeated.
        assert seen == before
    # Backward from the last cursor returns the same items, in order.
    back = api.data(SEARCH, {"q": q, "last": 5, "before": rest[-1]["cursor"], "order": order})
    assert [e["node"]["id"] for e in back["search"]["edges"]] == seen[-6:-1]


MARK = re.compile(r"<mark>(.*?)</mark>")


def test_highlights_mark_every_matched_word_and_escape_the_rest(corpus: Any) -> None:
    api, add, _ = corpus
    add(
        [
            extra_doc(
                1200, "Storms <b>&</b> banned rockets", "A storm, a ban.", "2024-01-02T00:00:00Z"
            )
        ]
    )
    edges = search(api, 'storm "ban"')["edges"]
    assert edges
    for edge in edges:
        node, marked = edge["node"], edge["highlights"]
        for field in ("title", "excerpt"):
            text, light = node[field], marked[field]
            assert html.unescape(MARK.sub(r"\1", light)) == text
            words = re.findall(r"\w+", text)
            expected = [w for w in words if lemmas(w)[0] in ("storm", "ban")]
            assert [html.unescape(m) for m in MARK.findall(light)] == expected
    special = next(e for e in edges if e["node"]["title"].startswith("Storms <b>"))
    assert special["highlights"]["title"] == (
        "<mark>Storms</mark> &lt;b&gt;&amp;&lt;/b&gt; <mark>banned</mark> rockets"
    )


@pytest.mark.parametrize(
    "q",
    ["the of and", "-storm", '-"facial recognition"', "", "   ", ".*", "*:* AND (x OR",
     "title:storm^2", "{$ne: null}", "\\ / [ ] ~ ^ ! & |"],
)  # fmt: skip
def test_syntax_and_stop_words_are_text(corpus: Any, q: str) -> None:
    api, _, known = corpus
    found = search(api, q)
    words = [w for w in lemmas(q.replace("-", " ")) if w in FORMS and not q.startswith("-")]
    expected = hits(known, words) if words else []
    if "title" in q:  # "title:storm" is the phrase "title storm": no text has it
        expected = []
    assert {e["node"]["id"] for e in found["edges"]} == ids(expected)
    assert found["totalCount"] == len(expected)


@pytest.mark.parametrize(
    ("q", "message"),
    [("storm " * 100, "at most 500"), ('"facial recognition', "unclosed quote")],
)
def test_bad_input_is_refused_clearly(corpus: Any, q: str, message: str) -> None:
    api, _, _ = corpus
    body = api.query(SEARCH, {"q": q})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in body["errors"][0]["message"]


def test_cursors_of_another_search_are_refused(corpus: Any) -> None:
    api, _, _ = corpus
    cursor = search(api, "storm")["pageInfo"]["endCursor"]
    for other in ({"q": "rocket"}, {"q": "storm", "order": "NEWEST"}, {"q": "storm", "f": {"type": "video"}}):  # fmt: skip
        body = api.query(SEARCH, {**other, "after": cursor})
        assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"


def test_search_costs_its_page_size(serve_api: Callable[..., ServedAPI], tmp_path: Path) -> None:
    api = serve_api(max_cost=150)
    body = api.query(
        '{ search(query: "x", first: 100) { edges { node { title provider { name } } } } }'
    )
    assert body["errors"][0]["extensions"]["code"] == "COST_EXCEEDED"
    small = api.query(
        '{ search(query: "x", first: 20) { edges { node { title provider { name } } } } }'
    )
    # Within the cost limit it runs (here on a database never loaded, so it stops there).
    assert small["errors"][0]["extensions"]["code"] == "DATABASE_NOT_LOADED"


def test_a_cursor_from_another_process_continues_after_its_article(
    corpus: Any, mongo_uri: str
) -> None:
    first, _, known = corpus
    other = ServedAPI(
        Settings(mongodb_uri=mongo_uri, database=first.settings.database), CommandCounter()
    )
    try:
        wait_searchable(other, len(known))
        q = "storm rocket"
        page = first.data(SEARCH, {"q": q, "first": 5})["search"]
        rest: list[dict[str, Any]] = []
        cursor = page["pageInfo"]["endCursor"]
        while True:  # the other process has no snapshot of this cursor: its own ranking
            more = other.data(SEARCH, {"q": q, "first": 7, "after": cursor})["search"]
            rest += more["edges"]
            if not more["pageInfo"]["hasNextPage"]:
                break
            cursor = more["pageInfo"]["endCursor"]
        ranking = [e["node"]["id"] for e in search(other, q)["edges"]]
        last = page["edges"][-1]["node"]["id"]
        assert [e["node"]["id"] for e in rest] == ranking[ranking.index(last) + 1 :]
        assert not {e["node"]["id"] for e in page["edges"]} & {e["node"]["id"] for e in rest}
    finally:
        other.close()


def test_search_runs_compiled_and_reads_only_what_it_selects(corpus: Any) -> None:
    api, _, _ = corpus
    recorder = api.counter
    assert isinstance(recorder, Recorder)
    plans = api.plans
    compiled, declined = plans.compiled, plans.declined

    def article_reads(query: str) -> list[dict[str, Any]]:
        recorder.queries.clear()
        api.data(query)
        return [dict(q["projection"]) for q in recorder.queries if q.get("find") == "articles"]

    nodes = '{ search(query: "storm") { edges { score node { id title } } totalCount } }'
    assert article_reads(nodes) == [{"_id": 1, "title": 1}]
    marked = '{ search(query: "storm") { edges { highlights { excerpt } node { heat } } } }'
    assert article_reads(marked) == [{"_id": 1, "excerpt": 1, "heat": 1, "title": 1}]
    # Cursors and scores alone still read the page's keys: a deleted article is left out.
    cursors = '{ search(query: "storm") { edges { cursor } pageInfo { endCursor } } }'
    assert article_reads(cursors) == [{"_id": 1}]
    assert article_reads('{ search(query: "nothingmatches") { nodes { title } } }') == []
    assert (plans.compiled - compiled, plans.declined - declined) == (4, 0)


def test_a_search_while_the_index_is_built_waits_once(
    corpus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled path leaves it at once to the reference path, which waits for
    the build (up to FIRST_BUILD_WAIT_SECONDS) and answers SERVICE_UNAVAILABLE."""
    from api.search import service as search_service

    api, _, _ = corpus
    follower = api.app.state.search.follower
    monkeypatch.setattr(search_service, "FIRST_BUILD_WAIT_SECONDS", 0.1)
    monkeypatch.setattr(follower.progress, "built", False)
    follower.built.clear()
    waits = []
    wait = follower.built.wait

    def counted() -> Any:
        waits.append(1)
        return wait()

    monkeypatch.setattr(follower.built, "wait", counted)
    declined = api.plans.declined
    try:
        body = api.query('{ search(query: "storm") { totalCount } }')
    finally:
        follower.built.set()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "being built" in body["errors"][0]["message"]
    assert api.plans.declined - declined == 1
    assert len(waits) == 2  # one on this server, one on its twin (the same index)
