"""The example app as its users see it: in headless Chromium, against the real API
(safelisted to the app's manifest) on a mongod loaded with a generated corpus."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from playwright.sync_api import Page, WebSocket, expect

from bench.operations import DOCUMENTS, WEB_OPERATIONS
from bench.web_operations import app_documents
from storage.mongod import Mongod
from tests.articles import article, write_article
from tests.live import active_subscriptions
from web.e2e.conftest import MANIFEST, Traffic, World, screenshot

CARDS = "ol.cards > li"
CARD_LINKS = "ol.cards a.card-link"


def operation(name: str) -> str:
    """The text of one of the app's operations, from the build's manifest."""
    manifest = json.loads(MANIFEST.read_text())
    body: str = next(op["body"] for op in manifest["operations"] if op["name"] == name)
    return body


def run(world: World, name: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One of the app's operations straight from the API (the safelist runs
    nothing else)."""
    body = world.api.client.post(
        "/graphql", json={"query": operation(name), "variables": variables}
    )
    data: dict[str, Any] = body.json()["data"]
    return data


def home_page(world: World, after: str | None = None) -> dict[str, Any]:
    """A page of the feed, by the app's own Home operation."""
    connection: dict[str, Any] = run(world, "Home", {"first": 20, "after": after})["articles"]
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
    assert len(expected) == world.articles
    for _ in range(world.articles // 20 + 5):
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


def as_browser_html(page: Page, html: str) -> str:
    """The HTML as the browser serialises it back (it writes `"` where Python's
    html.escape wrote `&quot;`), to compare with what the page shows."""
    normalised: str = page.evaluate(
        "html => { const t = document.createElement('template'); t.innerHTML = html;"
        " return t.innerHTML; }",
        html,
    )
    return normalised


def test_search_results_show_the_apis_highlights(page: Page, world: World) -> None:
    page.goto("/search?q=privacy")
    expect(page.locator(CARDS)).to_have_count(20)
    edges = run(world, "Search", {"query": "privacy", "first": 20})["search"]["edges"]
    assert [edge["node"]["id"] for edge in edges] == card_ids(page)
    shown = page.eval_on_selector_all(
        CARDS,
        "cards => cards.map(c => [c.querySelector('a.card-link span').innerHTML,"
        " c.querySelector('p.excerpt span')?.innerHTML ?? null])",
    )
    expected = [
        [
            as_browser_html(page, edge["highlights"]["title"]),
            as_browser_html(page, edge["highlights"]["excerpt"])
            if edge["highlights"]["excerpt"]
            else None,
        ]
        for edge in edges
    ]
    assert shown == expected  # the server's marking, as it sent it
    marks = page.locator("ol.cards mark")
    expect(marks.first).to_be_visible()
    assert {m.lower() for m in marks.all_inner_texts()} == {"privacy"}
    screenshot(page, "search-highlights")


def subscribe_frames(frames: list[str]) -> list[dict[str, Any]]:
    messages = [json.loads(frame) for frame in frames]
    return [m for m in messages if m.get("type") == "subscribe"]


def until(page: Page, done: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
    """Wait for `done`, letting Playwright run meanwhile: its sync API delivers
    events (WebSocket frames included) only while it is called, never during a
    plain `time.sleep`."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"never happened within {timeout_s} s: {what}"
        page.wait_for_timeout(50)


def until_subscriptions(page: Page, world: World, count: int) -> None:
    until(
        page,
        lambda: active_subscriptions(world.api) == count,
        f"the API has {count} subscriptions open",
    )


def test_an_article_loaded_while_the_home_page_is_open_raises_the_banner(
    page: Page, world: World, tmp_path: Path
) -> None:
    sent: list[str] = []
    received: list[str] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framesent", lambda frame: sent.append(str(frame)))
        socket.on("framereceived", lambda frame: received.append(str(frame)))

    page.on("websocket", watch)
    until_subscriptions(page, world, 0)  # the sockets of earlier tests' pages are closed
    page.goto("/")
    expect(page.locator(CARDS)).to_have_count(20)
    until_subscriptions(page, world, 1)
    # Over WebSocket too, the safelisted API runs only the manifest's text.
    until(page, lambda: bool(subscribe_frames(sent)), "Playwright saw the subscribe frame")
    [subscribe] = subscribe_frames(sent)
    assert subscribe["payload"]["query"] == operation("ArticleAdded")
    before = card_ids(page)

    title = "Live banner article about privacy"
    news = article(1, title=title, publishedDateTime="2031-01-01T00:00:00Z")
    world.load(write_article(tmp_path, "live.txt", news).parent)
    banner = page.get_by_role("button", name="1 new article")
    expect(banner).to_be_visible(timeout=3_000)
    assert not any(json.loads(frame).get("type") == "error" for frame in received)
    screenshot(page, "live-banner")

    banner.click()
    expect(banner).to_have_count(0)
    expect(page.locator(CARD_LINKS).first).to_have_text(title)
    after = card_ids(page)
    assert after[1:] == before and after[0] not in before  # on top, once
    screenshot(page, "live-inserted")

    # Back to the feed from an article: the cached list still has it once, on top.
    page.locator(CARD_LINKS).nth(1).click()
    expect(page).to_have_url(re.compile(r"/articles/"))
    page.go_back()
    expect(page.locator(CARD_LINKS).first).to_have_text(title)
    assert card_ids(page) == after


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


def test_the_benchmark_sends_the_apps_operations_as_built() -> None:
    """make bench-api reads the app's operations from its source (bench.web_operations):
    what it sends must be the build's manifest, byte for byte."""
    manifest = json.loads(MANIFEST.read_text())
    built = {op["name"]: op["body"] for op in manifest["operations"]}
    assert app_documents() == built
    assert {DOCUMENTS[op] for op in WEB_OPERATIONS} <= set(built.values())
