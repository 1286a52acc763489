"""CPU per request of the bench's ``search`` operation on the compiled executor, on the
reference executor (graphql-core) and on the hand-written floor over the same engine
(bench/floor_search.py), the three apps in this one process on the benchmark's
corpus of N articles, reached through httpx's ASGI transport (no network, no server):

    python -m bench.search_cpu --n 10000 --requests 2000

Process CPU time, not wall-clock, so that a loaded machine changes the figures
little: the three are measured in alternating rounds over the bench's query pool
(bench.operations.search_queries), and the harness's own cost (httpx and the ASGI
plumbing, measured on a request the floor refuses at once) is printed beside them."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette

from api.http.app import create_app
from api.settings import Settings
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, loaded_mongod
from bench.floor import create_floor
from bench.operations import body, search_queries

ROUNDS = 5


@asynccontextmanager
async def _client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            while (await client.get("/readyz")).status_code != 200:  # the index is built
                await asyncio.sleep(0.2)
            yield client


async def _post(client: httpx.AsyncClient, content: bytes) -> httpx.Response:
    """In a task of its own, as uvicorn runs each request: the ASGI transport would
    otherwise run every request in this task's context, where the first request's
    deadline clock (api.http.deadline, a context variable) would stay set."""
    headers = {"content-type": "application/json"}
    return await asyncio.create_task(client.post("/graphql", content=content, headers=headers))


async def _cpu_ms(client: httpx.AsyncClient, bodies: list[bytes], requests: int) -> float:
    """Process CPU milliseconds per request, over ``requests`` requests."""
    started = time.process_time()
    for n in range(requests):
        response = await _post(client, bodies[n % len(bodies)])
        if response.status_code != 200 or b'"errors"' in response.content:
            raise RuntimeError(f"{response.status_code}: {response.text[:500]}")
    return (time.process_time() - started) * 1000 / requests


async def _harness_ms(client: httpx.AsyncClient, requests: int) -> float:
    """A request the floor refuses at once (an unknown operation): httpx, the ASGI
    transport, Starlette's routing and a JSON parse, no work."""
    unknown = orjson.dumps({"query": "{ x }", "operationName": "none"})
    started = time.process_time()
    for _ in range(requests):
        assert (await _post(client, unknown)).status_code == 400
    return (time.process_time() - started) * 1000 / requests


async def measure(uri: str, requests: int) -> dict[str, Any]:
    bodies = [body("search", {"query": query}) for query in search_queries()]
    apps = {
        "compiled": create_app(Settings(mongodb_uri=uri, database=DATABASE)),
        "reference": create_app(Settings(mongodb_uri=uri, database=DATABASE, executor="reference")),
        "floor": create_floor(uri, DATABASE),
    }
    async with AsyncExitStack() as stack:
        enter = stack.enter_async_context
        clients = {name: await enter(_client(app)) for name, app in apps.items()}
        answers = {
            name: [orjson.loads((await _post(c, b)).content) for b in bodies]
            for name, c in clients.items()
        }
        assert answers["compiled"] == answers["reference"], "the executors answer differently"
        for client in clients.values():  # warm: plan cache, connections, snippets
            await _cpu_ms(client, bodies, len(bodies) * 10)
        rounds: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(ROUNDS):
            for name, client in clients.items():
                rounds[name].append(await _cpu_ms(client, bodies, requests // ROUNDS))
        harness = await _harness_ms(clients["floor"], requests // ROUNDS)
    figures = {name: round(min(values), 3) for name, values in rounds.items()}
    return {
        "requests_each": requests,
        "cpu_ms_per_request": figures,  # the best round of each
        "harness_cpu_ms_per_request": round(harness, 3),
        "compiled_to_reference": round(figures["compiled"] / figures["reference"], 2),
        "compiled_to_floor": round(figures["compiled"] / figures["floor"], 2),
        "reference_to_floor": round(figures["reference"] / figures["floor"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search_cpu", description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with loaded_mongod(args.n, args.seed) as uri:
        print(json.dumps(asyncio.run(measure(uri, args.requests)), indent=2))


if __name__ == "__main__":
    main()
