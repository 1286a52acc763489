"""What a page costs: MongoDB round trips by query shape (not page size), reads
projected to the selection, and schema.graphql kept in step with the code."""

from __future__ import annotations

from typing import Any

from api.schema.export import SCHEMA_FILE, sdl
from api.schema.ids import to_global_id
from tests.conftest import ServedAPI
from tests.query_corpus import Recorder, corpus_api, explain, stored

__all__ = ["corpus_api"]

HOME = """query($first: Int) { articles(first: $first) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id title excerpt publishedDateTime provider { name domain } topics { name }
  leadImage { url width height aspectRatio } related { title provider { domain } } } } } }"""
ARTICLE = """query($id: ID!, $first: Int) { article(id: $id) { id webUrl originalUrl title excerpt category
  type publishedDateTime quality heat published images { url width height title isCached aspectRatio }
  leadImage { url } provider { name domain articleCount } topics { name articleCount }
  related { title excerpt publishedDateTime webUrl ampWebUrl cdnAmpWebUrl type quality
    images { url } provider { domain name } article { id title } }
  mentionedIn(first: $first) { totalCount edges { cursor node { id title } } } } }"""
TOPIC = """query($first: Int) { topic(name: "AI") { name articleCount
  relatedTopics(first: 10) { topic { name } count }
  articles(first: $first, orderBy: {field: HEAT, direction: DESC}) { totalCount
    edges { cursor node { id title heat provider { name domain } } } } } }"""


def _round_trips(api: ServedAPI, query: str, variables: dict[str, Any]) -> int:
    api.counter.reset()
    api.data(query, variables)
    return api.counter.count(api.settings.database)


def test_round_trips_depend_on_the_shape_not_the_page_size(corpus_api: ServedAPI) -> None:
    article_id = to_global_id("Article", stored(9)["key"])  # it has related items
    # The page, its count, one batch of providers (the articles' and the related
    # items' together), one of topics.
    assert [_round_trips(corpus_api, HOME, {"first": n}) for n in (3, 20)] == [4, 4]
    # The article, then together: its providers, its topics, the related articles
    # by URL, the mentionedIn page and that page's count.
    assert [_round_trips(corpus_api, ARTICLE, {"id": article_id, "first": n}) for n in (1, 5)] == [
        6,
        6,
    ]
    # The topic; then its related topics (ranked), the article page and its count
    # (read from topics); then the related topics' names and the articles' providers.
    # (Two branches of a query that use the same DataLoader batch together only when
    # their parents arrive at the same time, so the shape here keeps them apart.)
    assert [_round_trips(corpus_api, TOPIC, {"first": n}) for n in (2, 20)] == [6, 6]


def test_reads_fetch_only_the_selected_fields(corpus_api: ServedAPI) -> None:
    recorder = corpus_api.counter
    assert isinstance(recorder, Recorder)

    def projection(query: str) -> dict[str, Any]:
        recorder.queries.clear()
        corpus_api.data(query)
        finds = [q for q in recorder.queries if q.get("find") == "articles"]
        assert len(finds) == 1
        return dict(finds[0]["projection"])

    assert projection("{ articles(first: 3) { nodes { title } } }") == {
        "_id": 1,
        "publishedDateTime": 1,
        "title": 1,
    }
    assert projection(
        "{ articles(first: 3, orderBy: {field: HEAT, direction: ASC}) { edges { node { ...f } } } } "
        "fragment f on Article { leadImage { url } topics { name } }"
    ) == {"_id": 1, "heat": 1, "images": 1, "topicKeys": 1, "topics": 1}
    # Embedded lists are read down to the subfields used; lookups too.
    wide = projection(
        "{ articles(first: 3) { nodes { id related { webUrl provider { name } } provider { name } } } }"
    )
    assert set(wide) == {"_id", "publishedDateTime", "related.title", "related.webUrl",
                         "related.provider", "provider"}  # fmt: skip
    recorder.queries.clear()
    corpus_api.data("{ articles(first: 3) { nodes { provider { name } } } }")
    lookups = [q for q in recorder.queries if q.get("find") == "providers"]
    assert [q["projection"] for q in lookups] == [{"_id": 1, "name": 1}]


def test_schema_file_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == sdl(), (
        "schema.graphql is stale: run `make schema` and commit it"
    )


def test_total_count_reads_maintained_counts_or_a_bounded_count(corpus_api: ServedAPI) -> None:
    recorder = corpus_api.counter
    assert isinstance(recorder, Recorder)

    def article_commands(f: dict[str, Any]) -> list[dict[str, Any]]:
        recorder.queries.clear()
        query = "query($f: ArticleFilter) { articles(first: 1, filter: $f) { totalCount } }"
        corpus_api.data(query, {"f": f})
        return [q for q in recorder.queries if q.get("aggregate") == "articles"]

    for maintained in ({}, {"topic": "ai"}, {"topics": ["ai", "space"]}, {"providerDomains": ["p1.example", "p2.example"]},
                       {"category": "news"}, {"topics": ["ai"], "providerDomains": ["p1.example"]}):  # fmt: skip
        assert article_commands(maintained) == [], maintained
    (count,) = article_commands({"type": "video"})
    assert {"$limit": 10_000} in count["pipeline"]
    # A range is counted on the index of its field, where it is index bounds.
    assert article_commands({"minHeat": 3, "type": "video"})[0]["hint"] == "heat_desc"
    assert article_commands({"anyTopics": ["ai"], "minQuality": 5})[0]["hint"] == "topic_quality"


def test_a_connection_under_many_parents_is_one_read(corpus_api: ServedAPI) -> None:
    recorder = corpus_api.counter
    assert isinstance(recorder, Recorder)

    def article_reads(query: str) -> list[dict[str, Any]]:
        recorder.queries.clear()
        corpus_api.data(query)
        return [q for q in recorder.queries if "articles" in (q.get("find"), q.get("aggregate"))]

    sent = article_reads("{ categories { name articles(first: 2) { nodes { title } } } }")
    (read,) = sent  # three categories, one read
    assert [s["$unionWith"]["coll"] for s in read["pipeline"] if "$unionWith" in s] == [
        "articles",
        "articles",
    ]
    sent = article_reads(
        "{ articles(first: 6) { nodes { mentionedIn(first: 2) { nodes { id title } } } } }"
    )
    assert [("find" in q, "aggregate" in q) for q in sent] == [(True, False), (False, True)]
    assert sent[1]["hint"] == "mentioned_in"


def test_a_lookup_of_one_key_takes_the_id_fast_path(
    corpus_api: ServedAPI, mongo_client: Any
) -> None:
    """One article by id is read by ``_id`` equality, which MongoDB answers on its
    fast path (IDHACK) without planning; several keys stay one ``$in`` read."""
    recorder = corpus_api.counter
    assert isinstance(recorder, Recorder)
    db = mongo_client[corpus_api.settings.database]

    def reads_of(query: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
        recorder.queries.clear()
        assert corpus_api.data(query, variables)
        return [q for q in recorder.queries if q.get("find") == "articles"]

    article_id = to_global_id("Article", stored(9)["key"])
    (one,) = reads_of("query($id: ID!) { article(id: $id) { title } }", {"id": article_id})
    assert one["filter"] == {"_id": stored(9)["key"]}
    assert explain(db, one)[-1] == "IDHACK"
    other = to_global_id("Article", stored(3)["key"])
    (both,) = reads_of(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [article_id, other]}
    )
    assert set(both["filter"]["_id"]["$in"]) == {stored(9)["key"], stored(3)["key"]}
