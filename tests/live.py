"""A graphql-transport-ws client for the tests (the ``websockets`` library), and the
helpers they share: the socket URL, waiting for subscriptions to be open."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.articles import article, write_article
from tests.conftest import ServedAPI

PROTOCOL = "graphql-transport-ws"


def ws_url(api: ServedAPI) -> str:
    return f"ws://127.0.0.1:{api.port}/graphql"


class Client:
    """One connection; ``subscribe`` returns the operation id, ``next`` its next
    message (pings are answered and skipped)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pings = 0

    @classmethod
    async def open(cls, api: ServedAPI, **options: Any) -> Client:
        ws = await connect(ws_url(api), subprotocols=[PROTOCOL], **options)  # type: ignore[list-item]
        client = cls(ws)
        await client.send({"type": "connection_init", "payload": {}})
        ack = await client.receive()
        assert ack["type"] == "connection_ack", ack
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.ws.recv()
                assert isinstance(raw, str), "the server must send text frames"
                message: dict[str, Any] = json.loads(raw)
                if message["type"] != "ping":
                    return message
                self.pings += 1
                await self.send({"type": "pong"})

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        operation = str(next(self.ids))
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": operation, "type": "subscribe", "payload": payload})
        return operation

    async def data(self, timeout: float = 10.0) -> dict[str, Any]:
        """The data of the next message, which must be a ``next`` without errors."""
        message = await self.receive(timeout)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def error(self, operation: str) -> dict[str, Any]:
        """The first error of the next message, which must be about ``operation``: an
        ``error`` (refused before it ran) or a ``next`` with errors (refused as it
        started, then completed)."""
        message = await self.receive()
        assert message["id"] == operation, message
        if message["type"] == "error":
            first: dict[str, Any] = message["payload"][0]
            return first
        assert message["type"] == "next" and message["payload"]["errors"], message
        first = message["payload"]["errors"][0]
        completed = await self.receive()
        assert completed == {"id": operation, "type": "complete"}, completed
        return first

    async def close(self) -> None:
        await self.ws.close()


def active_subscriptions(api: ServedAPI) -> float:
    text = api.client.get("/metrics").text
    found = re.search(r"^newsgraph_subscriptions_active (\S+)$", text, re.M)
    assert found, text
    return float(found.group(1))


def metric(api: ServedAPI, name: str) -> float:
    text = api.client.get("/metrics").text
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    assert found, (name, text)
    return float(found.group(1))


async def until_active(api: ServedAPI, count: int, timeout: float = 5.0) -> None:
    """Wait until the server has ``count`` subscriptions open (the stream is open
    by then, so every later write reaches them)."""
    deadline = time.monotonic() + timeout
    while (await asyncio.to_thread(active_subscriptions, api)) != count:
        assert time.monotonic() < deadline, f"never {count} subscriptions open"
        await asyncio.sleep(0.02)


def articles_dir(tmp: Path, numbers: range, **fields: Any) -> Path:
    for n in numbers:
        write_article(tmp, f"{n:05}.txt", article(n, **fields))
    return tmp
