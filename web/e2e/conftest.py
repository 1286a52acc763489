"""The browser tests' world: a mongod of their own loaded with a generated corpus,
the API serving the built app (web/dist) in safelist mode with the build's
manifest, and headless Chromium from Debian's package that can resolve no host
but this machine."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, Request, sync_playwright
from pymongo import MongoClient

from api.settings import Settings
from bench.corpus import write_corpus
from loaders.load import load_paths
from storage.mongod import Mongod
from tests.conftest import CommandCounter, ServedAPI

WEB = Path(__file__).resolve().parent.parent
DIST = WEB / "dist"
MANIFEST = DIST / "persisted-query-manifest.json"
ARTIFACTS = WEB / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CORPUS_SIZE = 300
DATABASE = "webtest"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Every host but this machine is unresolvable: a request elsewhere fails.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


@dataclass
class World:
    mongod: Mongod
    api: ServedAPI
    # How many articles are stored: the corpus, then what tests load (World.load).
    articles: int = CORPUS_SIZE

    @property
    def origin(self) -> str:
        return str(self.api.client.base_url).rstrip("/")

    def load(self, directory: Path) -> None:
        """Loads the article files of a directory, as `python -m loaders` would."""
        client: MongoClient[dict[str, Any]] = MongoClient(self.mongod.uri)
        with client:
            report = load_paths(client[DATABASE], [directory])
        assert report.errors == [], report.errors
        self.articles += report.inserted


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not (DIST / "index.html").is_file() or not MANIFEST.is_file():
        raise RuntimeError(f"no built app in {DIST}: run make test-web (it builds web/ first)")
    corpus = write_corpus(tmp_path_factory.mktemp("corpus"), CORPUS_SIZE)
    mongod = Mongod(tmp_path_factory.mktemp("mongo")).start()
    client: MongoClient[dict[str, Any]] = MongoClient(mongod.uri)
    with client:
        report = load_paths(client[DATABASE], [corpus])
        assert report.errors == [], report.errors
    settings = Settings(
        mongodb_uri=mongod.uri,
        database=DATABASE,
        web_dist=DIST,
        apq_safelist=True,
        apq_manifest=MANIFEST,
        mongo_timeout_ms=1000,
    )
    api = ServedAPI(settings, CommandCounter())
    world = World(mongod, api)
    try:
        yield world
    finally:
        api.close()
        # world.mongod: the outage test replaces the mongod it stopped with a new one.
        world.mongod.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@dataclass
class Traffic:
    """Every request the page made, to check that it spoke only to the API."""

    origin: str
    requests: list[Request] = field(default_factory=list)

    def foreign(self) -> list[str]:
        # Article images are the articles' own content, on their publishers'
        # hosts (unresolvable here): anything else must go to the API's origin.
        api_host = urlsplit(self.origin).netloc
        return [
            f"{r.resource_type} {r.url}"
            for r in self.requests
            if urlsplit(r.url).netloc != api_host and r.resource_type != "image"
        ]


@pytest.fixture
def traffic(world: World) -> Traffic:
    return Traffic(world.origin)


@pytest.fixture
def page(browser: Browser, world: World, traffic: Traffic) -> Iterator[Page]:
    context = browser.new_context(base_url=world.origin, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("request", lambda request: traffic.requests.append(request))
    uncaught: list[str] = []
    page.on("pageerror", lambda error: uncaught.append(str(error)))
    yield page
    context.close()
    assert traffic.foreign() == []
    assert uncaught == []  # no exception escaped the app


@pytest.fixture(scope="session", autouse=True)
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


def screenshot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
