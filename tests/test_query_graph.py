"""Providers, topics, categories, their counts and the story graph, on the corpus,
against counts recomputed here from the articles."""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

from api.schema.ids import to_global_id
from storage.keys import topic_key
from tests.articles import article, write_article
from tests.conftest import ServedAPI
from tests.query_corpus import SIZE, corpus_api, corpus_doc, stored

__all__ = ["corpus_api"]

NAMES = {topic_key(t): t for n in range(SIZE) for t in corpus_doc(n)["topics"]}


def _topic_counts() -> Counter[str]:
    return Counter(key for n in range(SIZE) for key in stored(n)["topicKeys"])


def test_providers_and_topics_order_by_count_or_name(corpus_api: ServedAPI) -> None:
    query = """query($o: CatalogOrder) { providers(first: 10, orderBy: $o) { totalCount nodes { domain articleCount } }
                 topics(first: 10, orderBy: $o) { totalCount nodes { name articleCount } } }"""

    def run(field: str, direction: str) -> dict[str, Any]:
        return corpus_api.data(query, {"o": {"field": field, "direction": direction}})

    # Every provider has 15 articles: ties go by domain, in the order's direction.
    by_count = run("ARTICLE_COUNT", "DESC")
    assert [p["domain"] for p in by_count["providers"]["nodes"]] == [
        f"p{i}.example" for i in (3, 2, 1, 0)
    ]
    assert {p["articleCount"] for p in by_count["providers"]["nodes"]} == {15}
    ascending = run("ARTICLE_COUNT", "ASC")["providers"]["nodes"]
    assert [p["domain"] for p in ascending] == [f"p{i}.example" for i in range(4)]
    counts = _topic_counts()
    want = sorted(counts, key=lambda k: (counts[k], k), reverse=True)
    assert [(t["name"], t["articleCount"]) for t in by_count["topics"]["nodes"]] == [
        (NAMES[k], counts[k]) for k in want
    ]
    assert by_count["topics"]["totalCount"] == len(counts)
    names = [t["name"] for t in run("NAME", "ASC")["topics"]["nodes"]]
    assert names == sorted(NAMES.values())
    assert [t["name"] for t in run("NAME", "DESC")["topics"]["nodes"]] == names[::-1]
    assert corpus_api.data(query)["providers"] == by_count["providers"]


def test_categories_with_their_articles(corpus_api: ServedAPI) -> None:
    data = corpus_api.data(
        """{ categories { id name articleCount articles(first: 2, orderBy: {field: QUALITY, direction: DESC}) {
               totalCount nodes { category quality } } } }"""
    )["categories"]
    assert [(c["name"], c["articleCount"]) for c in data] == [
        ("news", 20),
        ("sport", 20),
        ("tech", 20),
    ]
    for category in data:
        assert category["articles"]["totalCount"] == 20
        assert {a["category"] for a in category["articles"]["nodes"]} == {category["name"]}
        node = corpus_api.data(
            "query($id: ID!) { node(id: $id) { ... on Category { name } } }", {"id": category["id"]}
        )
        assert node["node"] == {"name": category["name"]}
    assert data[0]["id"] == to_global_id("Category", "news")


def test_provider_topics_related_topics_and_topic_providers(corpus_api: ServedAPI) -> None:
    per_provider: Counter[tuple[str, str]] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for n in range(SIZE):
        doc = stored(n)
        for key in doc["topicKeys"]:
            per_provider[(doc["domain"], key)] += 1
        for a, b in combinations(sorted(doc["topicKeys"]), 2):
            pairs[(a, b)] += 1
            pairs[(b, a)] += 1

    def ranked(rows: dict[str, int], limit: int) -> list[tuple[str, int]]:
        return sorted(rows.items(), key=lambda row: (-row[1], row[0]))[:limit]

    data = corpus_api.data(
        """{ provider(domain: "p1.example") { topics(first: 3) { topic { name } count } }
             topic(name: "AI") { relatedTopics { topic { name } count } providers(first: 2) { provider { domain } count } } }"""
    )
    want = ranked({t: c for (d, t), c in per_provider.items() if d == "p1.example"}, 3)
    assert [(r["topic"]["name"], r["count"]) for r in data["provider"]["topics"]] == [
        (NAMES[k], c) for k, c in want
    ]
    want = ranked({b: c for (a, b), c in pairs.items() if a == "ai"}, 10)
    assert [(r["topic"]["name"], r["count"]) for r in data["topic"]["relatedTopics"]] == [
        (NAMES[k], c) for k, c in want
    ]
    want = ranked({d: c for (d, t), c in per_provider.items() if t == "ai"}, 2)
    assert [(r["provider"]["domain"], r["count"]) for r in data["topic"]["providers"]] == want


def test_mentioned_in_lead_image_and_related_links(corpus_api: ServedAPI) -> None:
    query = """query($id: ID!) { article(id: $id) { title
        leadImage { url aspectRatio } images { url aspectRatio }
        related { article { title } }
        mentionedIn(first: 5) { totalCount nodes { title publishedDateTime } } } }"""
    mentions = []
    for m in (1, 10, 2):
        key = stored(m)["key"]
        got = corpus_api.data(query, {"id": to_global_id("Article", key)})["article"]
        mentioning = [
            n for n in range(SIZE) if n % 3 == 0 and m in ((n + 1) % SIZE, (n + 7) % SIZE)
        ]
        mentioning.sort(
            key=lambda n: (stored(n)["publishedDateTime"], stored(n)["key"]), reverse=True
        )
        assert [a["title"] for a in got["mentionedIn"]["nodes"]] == [
            f"Story {n}" for n in mentioning
        ]
        assert got["mentionedIn"]["totalCount"] == len(mentioning)
        mentions.append(len(mentioning))
        if m % 2:
            assert got["leadImage"] == {
                "url": f"https://img.example/{m}/b.jpg",
                "aspectRatio": (200 + m) / 100,
            }
            assert got["images"][0]["aspectRatio"] == 2.0
        else:
            assert got["leadImage"] == {
                "url": f"https://img.example/{m}/c.jpg",
                "aspectRatio": None,
            }
    assert mentions == [2, 2, 0]
    linker = corpus_api.data(query, {"id": to_global_id("Article", stored(3)["key"])})["article"]
    assert [r["article"]["title"] for r in linker["related"]] == ["Story 4", "Story 10"]


def test_nodes_resolves_mixed_ids_in_order(corpus_api: ServedAPI) -> None:
    ids = [
        to_global_id("Topic", "ai"),
        to_global_id("Article", stored(5)["key"]),
        to_global_id("Provider", "p2.example"),
        to_global_id("Article", "missing"),
        to_global_id("Category", "sport"),
    ]
    nodes = corpus_api.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", {"ids": ids}
    )["nodes"]
    assert [n and n["__typename"] for n in nodes] == [
        "Topic",
        "Article",
        "Provider",
        None,
        "Category",
    ]
    assert [n["id"] for n in nodes if n] == [i for i in ids if "missing" not in i and i != ids[3]]


def test_filter_values_are_matched_literally(tmp_path: Path, load: Any, api: ServedAPI) -> None:
    odd = article(1, category=".*", type="$where", topics=['{"$ne": null}', "^AI$"],
                  provider={"name": "Odd", "domain": "odd.example"})  # fmt: skip
    write_article(tmp_path, "odd.txt", odd)
    write_article(tmp_path, "plain.txt", article(2, category="news", topics=["AI"]))
    assert load(tmp_path).errors == []

    def titles(f: dict[str, Any]) -> list[str]:
        query = "query($f: ArticleFilter) { articles(filter: $f) { totalCount nodes { title } } }"
        got = api.data(query, {"f": f})["articles"]
        assert got["totalCount"] == len(got["nodes"])
        return [a["title"] for a in got["nodes"]]

    assert titles({"category": ".*"}) == ["Article number 1"]
    assert titles({"type": "$where"}) == ["Article number 1"]
    assert titles({"topics": ['{"$ne": null}']}) == ["Article number 1"]
    assert titles({"anyTopics": ["^ai$"]}) == ["Article number 1"]
    for f in (
        {"category": '{"$ne": null}'},
        {"category": "news.*"},
        {"topics": [".*"]},
        {"anyTopics": ['{"$gt": ""}']},
        {"providerDomains": ["$ne", ".*"]},
        {"type": "/.*/"},
    ):
        assert titles(f) == [], f
    body = api.query("{ articles(filter: {category: {_ne: null}}) { totalCount } }")
    assert "errors" in body and body.get("data") is None


def test_too_many_filter_values_are_refused(corpus_api: ServedAPI) -> None:
    body = corpus_api.query(
        "query($f: ArticleFilter) { articles(filter: $f) { totalCount } }",
        {"f": {"anyTopics": [f"t{i}" for i in range(21)]}},
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "20" in error["message"] and "anyTopics" in error["message"]
