"""The GraphQL API over HTTP, on the seeds and on data built for each test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.schema.ids import to_global_id
from loaders.urls import article_id, canonical_url
from tests.articles import article, write_article
from tests.conftest import ServedAPI
from tests.search_oracle import wait_searchable

HOME = """{ articles(first: 10) { totalCount nodes { id title publishedDateTime
  provider { name domain articleCount } topics { name articleCount }
  images { url width height } related { title webUrl provider { domain } } } } }"""


def test_home_query_returns_both_seeds_newest_first(seeded_api: ServedAPI) -> None:
    articles = seeded_api.data(HOME)["articles"]
    assert articles["totalCount"] == 2
    first, second = articles["nodes"]
    assert first["publishedDateTime"] == "2021-02-12T10:37:00+00:00"
    assert second["publishedDateTime"] == "2020-02-27T21:48:00+00:00"
    assert first["provider"] == {
        "name": "newsoneplace.com",
        "domain": "newsoneplace.com",
        "articleCount": 1,
    }
    assert second["provider"]["name"] == "Evening Standard"
    assert {t["name"]: t["articleCount"] for t in first["topics"]} == {
        "Computer Vision": 2,
        "AI": 2,
    }
    assert first["images"] == [
        {
            "url": "https://images.weserv.nl/?url=https://i.dailymail.co.uk/1s/2021/02/12/09/"
            "39204942-0-image-a-29_1613123941554.jpg&h=250",
            "width": 335,
            "height": 250,
        }
    ]
    assert second["related"][0]["provider"] == {"domain": "mirror.co.uk"}
    assert second["related"][0]["webUrl"].startswith("https://www.mirror.co.uk/")


def test_article_by_id_with_every_field(seeded_api: ServedAPI) -> None:
    url = (
        "https://www.newsoneplace.com/6811692012/met-police-arrested-person-scanning-people-facial"
    )
    global_id = to_global_id("Article", article_id(canonical_url(url)))
    data = seeded_api.data(
        """query($id: ID!) { article(id: $id) { id webUrl originalUrl title excerpt category type
          publishedDateTime quality heat published images { url width height title isCached }
          related { title excerpt publishedDateTime webUrl ampWebUrl cdnAmpWebUrl type quality
            provider { name domain articleCount } images { url width height isCached } article { id } } } }""",
        {"id": global_id},
    )
    got = data["article"]
    assert got["id"] == global_id
    assert got["webUrl"] == url
    assert got["originalUrl"] == url
    assert (got["category"], got["type"], got["quality"], got["heat"], got["published"]) == (
        "news",
        "article",
        28,
        28,
        False,
    )
    assert got["images"][0]["isCached"] is True
    related = got["related"][0]
    assert related["provider"] == {
        "name": "Daily Mail",
        "domain": "dailymail.co.uk",
        "articleCount": 0,
    }
    assert related["ampWebUrl"].startswith("https://www.dailymail.co.uk/news/article-9253037/amp/")
    assert related["images"][0]["width"] == 636
    assert related["article"] is None
    assert related["publishedDateTime"] == "2021-02-12T10:05:00+00:00"


def test_node_resolves_every_id(seeded_api: ServedAPI) -> None:
    data = seeded_api.data("{ articles(first: 1) { nodes { id provider { id } topics { id } } } }")[
        "articles"
    ]["nodes"][0]
    ids = [data["id"], data["provider"]["id"], *(t["id"] for t in data["topics"])]
    for global_id in ids:
        node = seeded_api.data(
            "query($id: ID!) { node(id: $id) { __typename id } }", {"id": global_id}
        )["node"]
        assert node["id"] == global_id
    types = [
        seeded_api.data("query($id: ID!) { node(id: $id) { __typename } }", {"id": i})["node"][
            "__typename"
        ]
        for i in ids
    ]
    assert types == ["Article", "Provider", "Topic", "Topic"]


def test_a_malformed_id_is_a_user_error(seeded_api: ServedAPI) -> None:
    body = seeded_api.query('{ node(id: "not-an-id") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert seeded_api.data(
        "query($id: ID!) { article(id: $id) { id } }", {"id": to_global_id("Article", "nope")}
    ) == {"article": None}


def test_provider_and_topic_lookups(seeded_api: ServedAPI) -> None:
    data = seeded_api.data(
        """{ provider(domain: "WWW.Standard.co.uk") { name domain articleCount
               articles { totalCount nodes { title } } }
             topic(name: "computer VISION") { name articleCount articles(first: 1) { nodes { title } } }
             missing: provider(domain: "nowhere.example") { name } }"""
    )
    assert data["provider"]["name"] == "Evening Standard"
    assert data["provider"]["articleCount"] == 1
    assert data["provider"]["articles"]["totalCount"] == 1
    assert data["topic"]["name"] == "Computer Vision"
    assert data["topic"]["articleCount"] == 2
    assert data["topic"]["articles"]["nodes"][0]["title"].startswith("Met Police")
    assert data["missing"] is None


def test_providers_and_topics_connections(seeded_api: ServedAPI) -> None:
    data = seeded_api.data(
        """{ providers { totalCount nodes { domain articleCount } }
             topics(first: 1) { totalCount pageInfo { hasNextPage endCursor }
                                edges { cursor node { name } } } }"""
    )
    assert data["providers"]["totalCount"] == 2
    assert {p["domain"] for p in data["providers"]["nodes"]} == {
        "standard.co.uk",
        "newsoneplace.com",
    }
    topics = data["topics"]
    assert topics["totalCount"] == 2
    assert topics["pageInfo"]["hasNextPage"] is True
    rest = seeded_api.data(
        "query($after: String) { topics(first: 5, after: $after) { pageInfo { hasNextPage } nodes { name } } }",
        {"after": topics["pageInfo"]["endCursor"]},
    )["topics"]
    names = [topics["edges"][0]["node"]["name"], *(t["name"] for t in rest["nodes"])]
    assert sorted(names) == ["AI", "Computer Vision"]
    assert rest["pageInfo"]["hasNextPage"] is False


def _many(tmp_path: Path, load: Any, count: int) -> None:
    for n in range(count):
        topics = ["Even"] if n % 2 == 0 else ["Odd"]
        domain = "a.example" if n % 3 == 0 else "b.example"
        write_article(
            tmp_path,
            f"{n:03}.txt",
            article(n, topics=topics, provider={"name": domain.upper(), "domain": domain},
                    category="sport" if n % 5 == 0 else "news",
                    publishedDateTime=f"2024-03-01T00:{n:02d}:00Z"),
        )  # fmt: skip
    report = load(tmp_path)
    assert report.errors == []


def test_pagination_walks_every_article_once_newest_first(
    tmp_path: Path, load: Any, api: ServedAPI
) -> None:
    _many(tmp_path, load, 45)
    seen: list[str] = []
    dates: list[str] = []
    after = None
    pages = 0
    while True:
        page = api.data(
            """query($after: String) { articles(first: 10, after: $after) {
                 totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
                 edges { cursor node { id publishedDateTime } } } }""",
            {"after": after},
        )["articles"]
        pages += 1
        assert page["totalCount"] == 45
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        edges = page["edges"]
        assert page["pageInfo"]["startCursor"] == edges[0]["cursor"]
        assert page["pageInfo"]["endCursor"] == edges[-1]["cursor"]
        seen += [e["node"]["id"] for e in edges]
        dates += [e["node"]["publishedDateTime"] for e in edges]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 5
    assert len(seen) == len(set(seen)) == 45
    assert dates == sorted(dates, reverse=True)


def test_filters(tmp_path: Path, load: Any, api: ServedAPI) -> None:
    _many(tmp_path, load, 30)

    def count(filter_: dict[str, Any]) -> tuple[int, int]:
        got = api.data(
            "query($f: ArticleFilter) { articles(first: 100, filter: $f) { totalCount nodes { id } } }",
            {"f": filter_},
        )["articles"]
        return got["totalCount"], len(got["nodes"])

    assert count({"topic": "even"}) == (15, 15)
    assert count({"providerDomain": "www.A.example"}) == (10, 10)
    assert count({"category": "sport"}) == (6, 6)
    assert count({"topic": "Even", "providerDomain": "a.example"}) == (5, 5)
    assert count({"topic": "nothing"}) == (0, 0)


def test_first_is_bounded(seeded_api: ServedAPI) -> None:
    body = seeded_api.query("{ articles(first: 101) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "100" in body["errors"][0]["message"]


def test_a_foreign_cursor_is_refused(seeded_api: ServedAPI) -> None:
    cursor = seeded_api.data("{ topics(first: 1) { pageInfo { endCursor } } }")["topics"][
        "pageInfo"
    ]["endCursor"]
    body = seeded_api.query(
        "query($c: String) { articles(after: $c) { totalCount } }", {"c": cursor}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"
    body = seeded_api.query('{ articles(after: "garbage!") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"


def test_related_item_links_to_a_stored_article(tmp_path: Path, load: Any, api: ServedAPI) -> None:
    write_article(
        tmp_path, "target.txt", article(1, webUrl="https://Example.com/story?utm_source=x")
    )
    write_article(
        tmp_path,
        "linker.txt",
        article(2, related=[{"title": "See", "webUrl": "https://example.com/story#comments"}]),
    )
    load(tmp_path)
    data = api.data(
        '{ articles(filter: {category: "news"}) { nodes { title related { article { title } } } } }'
    )
    linked = [a for a in data["articles"]["nodes"] if a["related"]]
    assert linked[0]["related"][0]["article"] == {"title": "Article number 1"}


def test_secured_is_not_in_the_schema(seeded_api: ServedAPI) -> None:
    types = seeded_api.data("{ __schema { types { name fields { name } } } }")["__schema"]["types"]
    field_names = {f["name"].lower() for t in types for f in (t["fields"] or [])}
    assert "webUrl".lower() in field_names
    assert "secured" not in field_names
    body = seeded_api.query("{ articles { nodes { secured } } }")
    assert "Cannot query field 'secured'" in body["errors"][0]["message"]


def test_queries_over_get(seeded_api: ServedAPI) -> None:
    response = seeded_api.client.get("/graphql", params={"query": "{ articles { totalCount } }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"articles": {"totalCount": 2}}


def test_graphiql_is_served_to_a_browser(api: ServedAPI) -> None:
    response = api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_health_and_readiness(seeded_api: ServedAPI, serve_api: Any) -> None:
    assert seeded_api.client.get("/healthz").status_code == 200
    wait_searchable(seeded_api, 2)
    ready = seeded_api.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["search"]["ready"] is True
    assert ready["search"]["segments"] == 1  # a handful of articles: one flush, one segment
    from storage.mongod import free_port

    nowhere = serve_api(mongodb_uri=f"mongodb://127.0.0.1:{free_port()}/", mongo_timeout_ms=300)
    assert nowhere.client.get("/healthz").status_code == 200
    response = nowhere.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


NESTED_PAGE = """{ articles(first: 20) { totalCount nodes { id title
  provider { name articleCount } topics { name articleCount }
  related { title provider { domain articleCount } article { id title provider { name } } } } } }"""


def test_a_nested_page_costs_a_constant_number_of_round_trips(
    tmp_path: Path, load: Any, api: ServedAPI
) -> None:
    def round_trips(count: int) -> int:
        api.counter.reset()
        nodes = api.data(NESTED_PAGE)["articles"]["nodes"]
        assert len(nodes) == count
        return api.counter.count(api.settings.database)

    for n in range(3):
        write_article(tmp_path, f"{n}.txt", article(n, related=[
            {"title": "r", "webUrl": f"https://www.example.com/news/{n + 1}",
             "provider": {"name": "R", "domain": f"r{n}.example"}}]))  # fmt: skip
    load(tmp_path)
    wait_searchable(api, 3)
    assert api.client.get("/readyz").status_code == 200  # checked once per process
    small = round_trips(3)

    for n in range(3, 20):
        write_article(tmp_path, f"{n}.txt", article(n, topics=[f"T{n}", "AI"], related=[
            {"title": "r", "webUrl": f"https://www.example.com/news/{n + 1}",
             "provider": {"name": "R", "domain": f"r{n}.example"}}]))  # fmt: skip
    load(tmp_path)
    large = round_trips(20)

    assert small == large
    # The page, its count, one batch of providers (the articles' and the related
    # items' together), one of topics, one of related articles by URL.
    assert large == 5
