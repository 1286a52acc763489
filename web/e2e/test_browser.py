"""The example app as its users see it: in headless Chromium, against the real API
(safelisted to the app's manifest) on a mongod loaded with a generated corpus."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from playwright.sync_api import Page, expect

from storage.mongod import Mongod
from web.e2e.conftest import CORPUS_SIZE, MANIFEST, Traffic, World, screenshot

CARDS = "ol.cards > li"
CARD_LINKS = "ol.cards a.card-link"


def home_page(world: World, after: str | None = None) -> dict[str, Any]:
    """A page of the feed straight from the API, by the app's own Home operation
    (the safelist runs nothing else)."""
    manifest = json.loads(MANIFEST.read_text())
    home = next(op for op in manifest["operations"] if op["name"] == "Home")
    variables = {"first": 20, "after": after}
    body = world.api.client.post("/graphql", json={"query": home["body"], "variables": variables})
    connection: dict[str, Any] = body.json()["data"]["articles"]
    return connection


def feed_ids(world: World) -> list[str]:
    """Every article id, newest first, as the API pages them."""
    ids: list[str] = []
    after = None
    while True:
        connection = home_page(world, after)
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]


def operation_of(url: str) -> str | None:
    """The operation a GET /graphql (Apollo's hashed queries) names."""
    values = parse_qs(urlsplit(url).query).get("operationName")
    return values[0] if values else None


def card_ids(page: Page) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        CARD_LINKS, "links => links.map(a => a.getAttribute('href'))"
    )
    return [unquote(href.removeprefix("/articles/")) for href in hrefs]


def test_home_shows_20_cards_then_every_article_once_by_scrolling(page: Page, world: World) -> None:
    page.goto("/")
    expect(page.locator(CARDS)).to_have_count(20)
    expect(page.get_by_role("heading", level=1)).to_have_text("Latest news")
    screenshot(page, "home")
    expected = feed_ids(world)
    assert len(expected) == CORPUS_SIZE
    for _ in range(CORPUS_SIZE // 20 + 5):
        if page.get_by_text("That is every article.").is_visible():
            break
        count = page.locator(CARDS).count()
        page.mouse.wheel(0, 20_000)
        page.wait_for_function(
            "([selector, count]) => document.querySelectorAll(selector).length > count"
            " || document.querySelector('p.end') !== null",
            arg=[CARDS, count],
        )
    assert card_ids(page) == expected  # every article, in order, none twice, none skipped


def test_a_card_opens_its_article_and_a_topic_link_its_topic(page: Page) -> None:
    page.goto("/")
    card = page.locator(CARDS).filter(has=page.locator("ul.topics")).first
    title = card.locator("a.card-link").inner_text()
    topic = card.locator("ul.topics a").first.inner_text()
    card.locator("a.card-link").click()
    expect(page).to_have_url(re.compile(r"/articles/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("heading", name="Related coverage")).to_be_visible()
    screenshot(page, "article")

    page.get_by_role("list", name="Topics").get_by_role("link", name=topic, exact=True).click()
    expect(page).to_have_url(re.compile(r"/topics/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(topic)
    expect(page.get_by_role("heading", name="Related topics")).to_be_visible()
    expect(page.locator(CARDS).first).to_be_visible()
    screenshot(page, "topic")


def test_a_related_item_links_to_the_stored_article(page: Page) -> None:
    # bench/corpus.py points about half the related items at earlier articles of
    # the corpus: some article of the first page has one.
    page.goto("/")
    expect(page.locator(CARDS)).to_have_count(20)
    related = page.get_by_role("region", name="Related coverage").locator("a[href^='/articles/']")
    for href in [f"/articles/{quote(i, safe='')}" for i in card_ids(page)]:
        page.goto(href)
        expect(page.locator("h1#article-title")).to_be_visible()
        if related.count() > 0:
            break
    source = page.locator("h1#article-title").inner_text()
    target = related.first.get_attribute("href") or ""
    related.first.click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))
    expect(page.get_by_role("heading", level=1)).not_to_have_text(source)
    mentioned = page.get_by_role("region", name=re.compile(r"^Mentioned in"))
    expect(mentioned.get_by_role("link", name=source, exact=True).first).to_be_visible()


def test_the_provider_page_lists_its_articles_and_top_topics(page: Page) -> None:
    page.goto("/")
    name = page.locator("ol.cards p.meta a").first.inner_text()
    page.locator("ol.cards p.meta a").first.click()
    expect(page).to_have_url(re.compile(r"/providers/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("heading", name="Top topics")).to_be_visible()
    metas = page.locator("ol.cards p.meta a").all_inner_texts()
    assert metas and set(metas) == {name}
    screenshot(page, "provider")


def test_search_is_debounced_highlighted_filtered_and_shareable(
    page: Page, traffic: Traffic
) -> None:
    page.goto("/search")
    page.get_by_label("Words").press_sequentially("police cameras", delay=30)
    expect(page).to_have_url(re.compile(r"q=police\+cameras"))
    expect(page.locator(CARDS).first).to_be_visible()
    expect(page.locator("ol.cards mark").first).to_be_visible()
    marked = {m.lower() for m in page.locator("ol.cards mark").all_inner_texts()}
    assert marked <= {"police", "cameras", "camera"}, marked
    searches = [r.url for r in traffic.requests if operation_of(r.url) == "Search"]
    # 14 keys typed 30 ms apart: without the debounce, one request per key. (At most
    # two, not one: a machine busy enough to stall a keystroke 300 ms is not a bug.)
    assert 1 <= len(searches) <= 2, searches
    screenshot(page, "search")

    topics = page.get_by_label("Topic", exact=True)
    expect(topics.locator("option").nth(1)).to_be_attached()
    topic = topics.locator("option").nth(1).get_attribute("value") or ""
    topics.select_option(topic)
    expect(topics).to_have_value(topic)
    expect(page).to_have_url(re.compile(r"topic="))
    expect(page.locator(CARDS).first).to_be_visible()
    on_topic = page.get_by_role("link", name=topic, exact=True)
    expect(page.locator(CARDS).filter(has_not=on_topic)).to_have_count(0)  # every card
    assert page.locator(CARDS).count() > 0

    shared = page.url
    page.goto("/")
    page.goto(shared)
    expect(page.get_by_label("Words")).to_have_value("police cameras")
    expect(page.get_by_label("Topic", exact=True)).to_have_value(topic)
    expect(page.locator("ol.cards mark").first).to_be_visible()


def test_cards_can_be_walked_with_the_keyboard(page: Page) -> None:
    page.goto("/")
    links = page.locator(CARD_LINKS)
    links.first.focus()
    page.keyboard.press("ArrowDown")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("j")
    expect(links.nth(2)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/articles/"))


def test_landmarks_and_alt_text_from_the_images_titles(page: Page, world: World) -> None:
    page.goto("/")
    expect(page.locator(CARDS)).to_have_count(20)
    for role in ("banner", "main", "contentinfo", "navigation"):
        expect(page.get_by_role(role)).to_have_count(1)
    expected = {
        edge["node"]["leadImage"]["url"]: edge["node"]["leadImage"]["title"] or ""
        for edge in home_page(world)["edges"]
        if edge["node"]["leadImage"]
    }
    assert any(expected.values()), "the first page should have a titled lead image"
    shown = page.eval_on_selector_all(
        "ol.cards img", "images => images.map(i => [i.getAttribute('src'), i.getAttribute('alt')])"
    )
    assert dict(shown) == expected


def test_an_unknown_article_id_shows_the_not_found_page(page: Page, world: World) -> None:
    for path in ("/articles/QXJ0aWNsZTpub3BlMTIz", "/articles/not-an-id", "/no/such/page"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    screenshot(page, "not-found")


def test_the_safelisted_api_serves_the_app_and_refuses_ad_hoc_queries(world: World) -> None:
    client = world.api.client
    index = client.get("/", headers={"Accept": "text/html"})
    assert index.status_code == 200 and '<div id="root">' in index.text
    body = client.post("/graphql", json={"query": "{ articles(first: 1) { totalCount } }"}).json()
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_SAFELIST"
    assert body["data"] is None


def test_a_stopped_mongodb_shows_the_error_banner_and_retry_recovers(
    page: Page, world: World
) -> None:
    page.goto("/")
    expect(page.locator(CARDS)).to_have_count(20)
    topic = page.locator("ol.cards ul.topics a").first
    world.mongod.stop()
    try:
        topic.click()  # a page not seen yet: nothing in Apollo's or the HTTP cache
        banner = page.get_by_role("alert")
        expect(banner).to_contain_text("unavailable", timeout=15_000)
        screenshot(page, "error")
    finally:
        world.mongod = Mongod(world.mongod.dbpath, port=world.mongod.port).start()
    deadline = time.monotonic() + 30
    while page.get_by_role("alert").is_visible() and time.monotonic() < deadline:
        page.get_by_role("button", name="Retry").click()
        page.wait_for_timeout(1000)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(CARDS).first).to_be_visible()
