"""GraphiQL served by the API itself: vendored files that match their recorded SRI
hashes, a strict Content-Security-Policy, and a real headless Chromium that cannot
resolve any host but this one loading it, running the home page query and a
subscription."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from api.http import graphiql
from loaders.load import Report
from tests.articles import article, write_article
from tests.conftest import ServedAPI
from tests.live import active_subscriptions

CHROMIUM = "/usr/bin/chromium"
HTML = {"Accept": "text/html"}


def test_every_vendored_file_matches_its_recorded_hash() -> None:
    entries = json.loads(graphiql.MANIFEST.read_text())
    assert {e["package"] for e in entries} == {
        "react", "react-dom", "js-cookie", "graphiql", "@graphiql/plugin-explorer"
    }  # fmt: skip
    for entry in entries:
        data = (graphiql.STATIC / entry["file"]).read_bytes()
        assert graphiql.integrity(data) == entry["integrity"], entry["file"]
    expected = {e["file"] for e in entries} | set(graphiql.OWN_FILES)
    assert {p.name for p in graphiql.STATIC.iterdir()} == expected


def test_the_page_loads_nothing_from_another_origin(api: ServedAPI) -> None:
    response = api.client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert "<title>newsgraph</title>" in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe" not in policy and "http" not in policy
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    files = [s for s in sources if not s.startswith("data:")]
    assert len(files) == len(graphiql.assets())
    for source in files:
        assert source.startswith("/graphiql/"), source
        served = api.client.get(source)
        assert served.status_code == 200, source
        asset = next(a for a in graphiql.assets() if source.endswith("/" + a.file))
        assert graphiql.integrity(served.content) == asset.integrity
        assert f'integrity="{asset.integrity}"' in response.text


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # No host resolves but this machine: the page must need no internet.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


class Watched:
    """A page, with every console error, page error and request kept."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("request", lambda request: self.requests.append(request.url))

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")


def response_text(page: Page) -> str:
    return str(page.locator(".graphiql-response .CodeMirror").inner_text())


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_graphiql_runs_the_home_page_query_offline(
    browser: Browser, seeded_api: ServedAPI, load: Callable[..., Report], tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{seeded_api.port}"
    watched = Watched(browser.new_page())
    page = watched.page
    page.goto(f"{base}/graphql")
    assert page.title() == "newsgraph"
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    editor.wait_for(timeout=20_000)
    assert "query HomePage" in editor.inner_text()
    page.locator(".graphiql-execute-button").click()
    wait_for(lambda: '"totalCount": 2' in response_text(page), 20, "no query result")
    result = response_text(page)
    assert '"articles"' in result and '"provider"' in result
    # The explorer plugin is there.
    assert page.locator('button[aria-label="Show GraphiQL Explorer"]').count() == 1

    # A subscription from GraphiQL, over WebSocket, shows an article the loader adds
    # (the page takes a query from its URL: ?q=).
    subscription = "subscription { articleAdded { title provider { domain } } }"
    page.goto(f"{base}/graphql?{urlencode({'q': subscription})}")
    editor.wait_for(timeout=20_000)
    assert "articleAdded" in editor.inner_text()
    page.locator(".graphiql-execute-button").click()
    wait_for(lambda: active_subscriptions(seeded_api) == 1, 10, "the subscription never started")
    write_article(tmp_path, "1.txt", article(1, title="Live from the loader"))
    assert load(tmp_path).errors == []
    wait_for(lambda: "Live from the loader" in response_text(page), 5, "no event shown")

    assert watched.errors == []
    assert all(url.startswith((base, "data:", "ws://127.0.0.1")) for url in watched.requests), (
        watched.requests
    )
