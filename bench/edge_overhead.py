"""What the production edge costs per request, measured side by side in one run:
the same queries through the full app (limits, cost, APQ, masking, caching, request
ids, CORS, metrics, log line) and through a bare Strawberry view over the same types.

    python -m bench.edge_overhead [--requests 300]

Starts a private mongod, loads the seeds, serves both apps with uvicorn on free
ports, and prints the median and p90 latency of each and their ratio.
"""

from __future__ import annotations

import argparse
import copy
import logging
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pymongo import AsyncMongoClient, MongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from api.http.app import create_app
from api.schema.context import Context
from api.schema.root import schema as edge_schema
from api.settings import Settings
from loaders.load import load_paths
from storage.mongod import Mongod, free_port

ROOT = Path(__file__).resolve().parent.parent
QUERIES = {
    "home": """query Home { articles(first: 10) { totalCount nodes { id title publishedDateTime
      provider { name domain articleCount } topics { name articleCount }
      images { url width height } related { title webUrl provider { domain } } } } }""",
    "typename": "query T { __typename }",
}


def bare_app(settings: Settings) -> Starlette:
    """Strawberry as the foundation had it: parse and validation caches, nothing else."""
    # The same schema object, with the foundation's extensions instead of the guard.
    schema = copy.copy(edge_schema)
    schema.extensions = (lambda: ParserCache(maxsize=1024), lambda: ValidationCache(maxsize=1024))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)

    class View(GraphQL[Context, None]):
        async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
            assert isinstance(request, Request)
            return Context(db=client[settings.database], request=request, response=response)

    return Starlette(routes=[Route("/graphql", View(schema))])


def serve(app: Starlette) -> tuple[uvicorn.Server, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{port}"


def latencies(base: str, query: str, n: int) -> list[float]:
    with httpx.Client(base_url=base) as client:
        for _ in range(20):  # warm caches and connections
            client.post("/graphql", json={"query": query})
        times = []
        for _ in range(n):
            started = time.perf_counter()
            response = client.post("/graphql", json={"query": query})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and "errors" not in response.json()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    logging.getLogger("newsgraph.request").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, Mongod(Path(tmp)) as mongod:
        loader: MongoClient[dict[str, Any]] = MongoClient(mongod.uri)
        with loader:
            load_paths(loader["bench_edge"], [ROOT / "seeds"])
        settings = Settings(mongodb_uri=mongod.uri, database="bench_edge")
        servers = [serve(create_app(settings)), serve(bare_app(settings))]
        (_, edge), (_, bare) = servers
        print("query       edge p50  bare p50  ratio  edge p90  bare p90")
        for name, query in QUERIES.items():
            # Interleaved rounds, so drift in machine load hits both alike.
            edge_ms: list[float] = []
            bare_ms: list[float] = []
            for _ in range(3):
                edge_ms += latencies(edge, query, args.requests // 3)
                bare_ms += latencies(bare, query, args.requests // 3)
            e50, b50 = statistics.median(edge_ms), statistics.median(bare_ms)
            e90 = statistics.quantiles(edge_ms, n=10)[-1]
            b90 = statistics.quantiles(bare_ms, n=10)[-1]
            figures = f"{e50:7.2f}ms {b50:7.2f}ms {e50 / b50:6.2f} {e90:7.2f}ms {b90:7.2f}ms"
            print(f"{name:<10} {figures}")
        for server, _ in servers:
            server.should_exit = True


if __name__ == "__main__":
    main()
