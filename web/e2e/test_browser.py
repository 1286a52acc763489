"""The example app as its users see it: in headless Chromium, against the real API
(safelisted to the app's manifest) on a mongod loaded with a generated corpus."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import unquote

from playwright.sync_api import Page, expect

from storage.mongod import Mongod
from web.e2e.conftest import CORPUS_SIZE, MANIFEST, World, screenshot

CARDS = "ol.cards > li"
CARD_LINKS = "ol.cards a.card-link"


def feed_ids(world: World) -> list[str]:
    """Every article id, newest first, as the API pages them (by the app's own
    persisted Home query: the safelist runs nothing else)."""
    manifest = json.loads(MANIFEST.read_text())
    home = next(op for op in manifest["operations"] if op["name"] == "Home")
    ids: list[str] = []
    after = None
    while True:
        body = world.api.client.post(
            "/graphql", json={"query": home["body"], "variables": {"first": 20, "after": after}}
        ).json()
        connection = body["data"]["articles"]
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]


def card_ids(page: Page) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        CARD_LINKS, "links => links.map(a => a.getAttribute('href'))"
    )
    return [unquote(href.removeprefix("/articles/")) for href in hrefs]


def test_home_shows_20_cards_then_every_article_once_by_scrolling(
    page: Page, world: World
) -> None:
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
