"""Each query of the bench's search pool, one request at a time, against the home
page, through the real app in process (httpx's ASGI transport: no network, no
server), on the benchmark's corpus of N articles:

    python -m bench.search_latency --n 100000

What ``make bench-api`` cannot show: it rotates over the pool under load and
reports one figure for all of it. Prints the median of ``--requests`` requests for
the home page and for every query, and each query's ratio to the home page."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import httpx
import orjson

from api.http.app import create_app
from api.settings import Settings
from bench.corpus import DEFAULT_SEED
from bench.dataset import DATABASE, loaded_mongod
from bench.operations import DOCUMENTS, search_queries


def _body(operation: str, variables: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {"query": DOCUMENTS[operation], "operationName": operation, "variables": variables}
    )


async def measure(uri: str, requests: int) -> dict[str, Any]:
    app = create_app(Settings(mongodb_uri=uri, database=DATABASE))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            while (await client.get("/readyz")).status_code != 200:  # the index is built
                await asyncio.sleep(0.5)

            async def median_ms(body: bytes) -> float:
                times = []
                for _ in range(requests):
                    started = time.perf_counter()
                    response = await client.post(
                        "/graphql", content=body, headers={"content-type": "application/json"}
                    )
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200 and b'"errors"' not in response.content
                return round(statistics.median(times), 2)

            bodies = {"home": _body("home", {})}
            bodies |= {q: _body("search", {"query": q}) for q in search_queries()}
            for body in bodies.values():  # warm: caches, connections
                await median_ms(body)
            figures = {name: await median_ms(body) for name, body in bodies.items()}
    home = figures.pop("home")
    return {
        "home_p50_ms": home,
        "search_p50_ms": figures,
        "ratio_to_home": {q: round(ms / home, 2) for q, ms in figures.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search_latency", description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with loaded_mongod(args.n, args.seed) as uri:
        print(json.dumps(asyncio.run(measure(uri, args.requests)), indent=2))


if __name__ == "__main__":
    main()
