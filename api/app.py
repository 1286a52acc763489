"""The Starlette application: GraphQL at /graphql, /healthz and /readyz."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from pymongo.monitoring import CommandListener
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema

from api import store
from api.context import Context
from api.schema import schema as default_schema
from api.settings import Settings

log = logging.getLogger("newsgraph.api")


class NewsGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view, with a typed context holding this request's loaders."""

    def __init__(self, schema: BaseSchema, settings: Settings) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.settings = settings

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        client: AsyncMongoClient[store.Document] = request.app.state.mongo
        assert isinstance(request, Request)
        return Context(db=client[self.settings.database], request=request, response=response)


async def healthz(request: Request) -> Response:
    """The process is up: says nothing about MongoDB, so an orchestrator does not
    restart a healthy process because the database is away."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready to serve: MongoDB answers. 503 when it does not."""
    settings: Settings = request.app.state.settings
    client: AsyncMongoClient[store.Document] = request.app.state.mongo
    try:
        async with asyncio.timeout(settings.mongo_timeout_ms / 1000):
            await store.ping(client[settings.database])
    except (PyMongoError, TimeoutError) as exc:
        log.warning("readyz: MongoDB not reachable: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "reason": "MongoDB is not reachable"}, status_code=503
        )
    return JSONResponse({"status": "ready"})


def create_app(
    settings: Settings | None = None,
    event_listeners: Sequence[CommandListener] = (),
) -> Starlette:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # One client per process: it pools connections and is safe to share.
        client: AsyncMongoClient[store.Document] = AsyncMongoClient(
            settings.mongodb_uri,
            tz_aware=True,
            serverSelectionTimeoutMS=settings.mongo_timeout_ms,
            connectTimeoutMS=settings.mongo_timeout_ms,
            appname="newsgraph-api",
            event_listeners=list(event_listeners),
        )
        app.state.mongo = client
        app.state.settings = settings
        try:
            yield
        finally:
            await client.close()

    graphql = NewsGraphQL(default_schema, settings)
    return Starlette(
        routes=[
            Route("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
