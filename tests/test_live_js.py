"""Subscriptions driven by a real graphql-ws client in Node (tests/js, installed by
``make test`` with ``npm ci`` from the committed lock file)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loaders.load import Report
from tests.articles import article, write_article
from tests.conftest import ROOT, ServedAPI
from tests.live import active_subscriptions, ws_url

JS = ROOT / "tests" / "js"


class NodeClient:
    def __init__(self, api: ServedAPI, subscriptions: list[dict[str, Any]], count: int) -> None:
        if not (JS / "node_modules" / "graphql-ws").is_dir():
            pytest.fail("graphql-ws is not installed: run make js-deps (npm ci in tests/js)")
        spec = {"url": ws_url(api), "subscriptions": subscriptions, "count": count}
        self.process = subprocess.Popen(
            ["node", str(JS / "subscribe.mjs"), json.dumps(spec)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.lines: Iterator[str] = iter(self.process.stdout)

    def next(self) -> dict[str, Any]:
        line = next(self.lines, None)
        if line is None:
            raise AssertionError(f"node exited: {self.process.wait()} {self.stderr()}")
        message: dict[str, Any] = json.loads(line)
        return message

    def stderr(self) -> str:
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def wait_active(api: ServedAPI, count: int) -> None:
    deadline = time.monotonic() + 10
    while active_subscriptions(api) != count:
        assert time.monotonic() < deadline, f"never {count} subscriptions open"
        time.sleep(0.02)


def test_graphql_ws_gets_added_articles_filtered_and_nested(
    api: ServedAPI, load: Callable[..., Report], tmp_path: Path
) -> None:
    query = """subscription($f: ArticleFilter) { articleAdded(filter: $f) {
      id title provider { name domain } topics { name } related { title } } }"""
    client = NodeClient(
        api,
        [
            {"label": "climate", "query": query, "variables": {"f": {"topic": "climate"}}},
            {"label": "space", "query": query, "variables": {"f": {"topics": ["Space"]}}},
        ],
        count=2,
    )
    try:
        assert client.next() == {"connected": True}
        wait_active(api, 2)
        write_article(tmp_path / "1", "1.txt", article(1, topics=["Climate"]))
        started = time.monotonic()
        assert load(tmp_path / "1").errors == []
        message = client.next()
        assert time.monotonic() - started < 2
        assert message["label"] == "climate"
        node = message["next"]["data"]["articleAdded"]
        assert node["provider"] == {"name": "Example News", "domain": "example.com"}
        assert node["topics"] == [{"name": "Climate"}] and node["related"] == []
        # The climate article did not reach the space subscription: its first event
        # is the space article.
        write_article(tmp_path / "2", "2.txt", article(2, topics=["Space"]))
        assert load(tmp_path / "2").errors == []
        message = client.next()
        assert message["label"] == "space"
        assert message["next"]["data"]["articleAdded"]["title"] == "Article number 2"
        assert client.process.wait(10) == 0
    finally:
        client.close()


def test_graphql_ws_is_refused_past_the_limits(serve_api: Callable[..., ServedAPI]) -> None:
    api = serve_api(max_cost=30)
    costly = "subscription { articleAdded { related { provider { articles(first: 50) { nodes { id } } } } } }"
    client = NodeClient(
        api,
        [
            {"label": "cost", "query": costly},
            {
                "label": "filter",
                "query": "subscription { articleAdded(filter: {minHeat: 1, topics: ["
                + ",".join(f'"t{n}"' for n in range(21))
                + "]}) { id } }",
            },
        ],
        count=99,
    )
    try:
        got: dict[str, Any] = {}
        while len(got) < 2:
            message = client.next()
            if "label" in message:
                got.setdefault(message["label"], message)
        assert got["cost"]["error"][0]["extensions"]["code"] == "COST_EXCEEDED"
        assert got["filter"]["next"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    finally:
        client.close()
