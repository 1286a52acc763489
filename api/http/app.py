"""The Starlette application: GraphQL at /graphql, /healthz, /readyz and /metrics,
and the built web app at / when WEB_DIST is set, behind the request-id and CORS
middleware."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from pymongo.monitoring import CommandListener
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from api import garbage
from api.execution.cache import PlanCache
from api.http import graphiql
from api.http.admission import RETRY_AFTER_S, AdmissionMiddleware, Gate
from api.http.connections import guarded_protocol
from api.http.cors import cors_middleware
from api.http.manifest import load_manifest
from api.http.metrics import Metrics
from api.http.persisted import PersistedQueries
from api.http.request_ids import RequestIdMiddleware
from api.http.shed_pause import ShedPause
from api.http.view import NewsGraphQL
from api.http.web import WebApp
from api.live.metrics import LiveMetrics
from api.live.transport import Live
from api.schema.root import schema as default_schema
from api.search.service import SearchService
from api.settings import Settings
from api.store import reads
from api.store.database import CollectionCache
from api.store.readiness import Readiness
from storage.contract import ARTICLES

log = logging.getLogger("newsgraph.api")


class _DropStrawberryErrorLog(logging.Filter):
    """Strawberry logs every GraphQL error with its traceback, without a request
    id. The view logs the unexpected ones itself, with the id; the expected ones
    (bad input, validation, limits) are the client's business, not the operator's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


_DROP_STRAWBERRY_ERRORS = _DropStrawberryErrorLog()


async def healthz(request: Request) -> Response:
    """The process is up: says nothing about MongoDB, so an orchestrator does not
    restart a healthy process because the database is away."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready to serve: MongoDB answers, the loader has prepared the database, and the
    search index is built and current. 503 otherwise; the body says which, and how far
    search has got."""
    settings: Settings = request.app.state.settings
    readiness: Readiness = request.app.state.readiness
    search: SearchService = request.app.state.search
    db: reads.Database = request.app.state.db
    try:
        async with asyncio.timeout(settings.mongo_timeout_ms / 1000):
            await reads.ping(db)
            not_loaded = await readiness.not_loaded_reason(db)
    except (PyMongoError, TimeoutError) as exc:
        log.warning("readyz: MongoDB not reachable: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "reason": "MongoDB is not reachable"}, status_code=503
        )
    if not_loaded is not None:
        log.warning("readyz: %s", not_loaded)
        return JSONResponse({"status": "not_loaded", "reason": not_loaded}, status_code=503)
    report = search.report()
    if not search.ready:
        behind = report["behindSeconds"]
        if report["state"] == "building":
            reason = "the search index is being built"
        elif behind is None:
            reason = "the search index is catching up with MongoDB"
        else:
            reason = f"the search index is {behind} s behind MongoDB"
        return JSONResponse(
            {"status": "unavailable", "reason": reason, "search": report}, status_code=503
        )
    return JSONResponse({"status": "ready", "search": report})


def _client(settings: Settings, appname: str, **options: Any) -> AsyncMongoClient[reads.Document]:
    """A client on ``settings``' server that waits at most its timeout for it."""
    return AsyncMongoClient(
        settings.mongodb_uri,
        tz_aware=True,
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        connectTimeoutMS=settings.mongo_timeout_ms,
        # Check the server every second (the default is 10 s): a hung server is
        # then noticed, and the requests waiting on it failed, in about 5 s
        # instead of 15, and a server that comes back is used sooner.
        heartbeatFrequencyMS=1000,
        appname=appname,
        **options,
    )


def _search_service(
    settings: Settings,
) -> tuple[SearchService, AsyncMongoClient[reads.Document]]:
    """A started search service, and the client its follower reads with: a client of
    its own, so that its long waits on the change stream and its full reads never
    hold a connection a request needs."""
    search_client = _client(settings, "newsgraph-search")
    service = SearchService(
        search_client[settings.database],
        settings.search_index_dir,
        settings.search_writer_heap_mb * 1024 * 1024,
        settings.mongodb_uri,
        settings.mongo_timeout_ms,
        settings.search_thread_postings,
    )
    service.start()
    return service, search_client


def create_app(
    settings: Settings | None = None,
    event_listeners: Sequence[CommandListener] = (),
    search: SearchService | None = None,
) -> Starlette:
    """The app. ``search``: another app's search service, in the same event loop, to
    answer from instead of an index of its own; that app starts and stops it (the
    test suite's reference twin answers from the very index of the app it checks)."""
    settings = settings or Settings.from_env()
    metrics = Metrics()
    live = Live(settings, LiveMetrics(metrics.registry))
    logging.getLogger("strawberry.execution").addFilter(_DROP_STRAWBERRY_ERRORS)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # One client per process: it pools connections and is safe to share.
        client = _client(
            settings,
            "newsgraph-api",
            readPreference=settings.mongo_read_preference,
            maxStalenessSeconds=settings.mongo_max_staleness_s or -1,
            event_listeners=[*event_listeners, metrics.listener()],
        )
        search_client = None
        if search is None:
            service, search_client = _search_service(settings)
        else:
            service = search
        collector = service.collector()
        metrics.registry.register(collector)
        app.state.mongo = client
        app.state.db = CollectionCache(client, settings.database)
        app.state.settings = settings
        app.state.readiness = Readiness()
        app.state.search = service
        app.state.plans = PlanCache(settings.plan_cache_size)
        app.state.live = live
        live.start(app.state.db[ARTICLES])
        try:
            yield
        finally:
            await live.drain()
            metrics.registry.unregister(collector)
            if search_client is not None:
                await service.stop()
                await search_client.close()
            await client.close()

    persisted = PersistedQueries(
        max_queries=settings.apq_max_queries,
        safelist=settings.apq_safelist,
        max_query_bytes=settings.max_query_bytes,
        manifest=load_manifest(settings.apq_manifest) if settings.apq_manifest else None,
    )
    graphql = NewsGraphQL(default_schema, settings, persisted, metrics, live)
    routes: list[BaseRoute] = [
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Mount(graphiql.PREFIX, graphiql.static_files(), name="graphiql"),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics.endpoint),
    ]
    if settings.web_dist is not None:
        routes.append(Mount("/", WebApp(settings.web_dist)))
    gate = Gate(settings.max_concurrent_requests, settings.admission_queue)
    shed_pause = ShedPause(
        settings.shed_pause_ms / 1000, settings.shed_pause_factor, float(RETRY_AFTER_S)
    )
    app = Starlette(
        routes=routes,
        middleware=[
            # Outermost first: every response, CORS preflights included, gets an id.
            Middleware(RequestIdMiddleware),
            cors_middleware(settings.cors_origins),
            # Inside CORS, so that a browser can read a 503 too.
            Middleware(
                AdmissionMiddleware,
                gate=gate,
                deadline_ms=settings.request_deadline_ms,
                max_body_bytes=settings.max_body_bytes,
                metrics=metrics.load,
                shed_pause=shed_pause,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics  # for server_config
    app.state.gate = gate
    app.state.shed_pause = shed_pause
    return app


def server_config(app: Starlette, settings: Settings, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for the app: the connection limits and timeouts of
    api.http.connections. ``options`` are passed on (host, port, log_level...)."""
    metrics: Metrics = app.state.metrics
    return uvicorn.Config(
        app,
        http=guarded_protocol(settings, metrics.load, app.state.gate, app.state.shed_pause),
        timeout_keep_alive=settings.keep_alive_timeout,
        # A WebSocket message is a GraphQL request: at most MAX_BODY_BYTES, like a body.
        ws_max_size=settings.max_body_bytes,
        **options,
    )


class Server(uvicorn.Server):
    """uvicorn, with subscriptions completed before it closes connections: uvicorn
    would otherwise close every WebSocket with 1012 before the app hears of the
    shutdown, and no subscription would get its ``complete``.

    ``gc_mode``: the garbage collector's setting (api.garbage), applied once the
    server has started; None leaves the process's collector alone (the tests'
    servers, which share their process)."""

    def __init__(self, config: uvicorn.Config, app: Starlette, gc_mode: str | None = None) -> None:
        super().__init__(config)
        self.app = app
        self.gc_mode = gc_mode

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.gc_mode is not None:
            garbage.tune(self.gc_mode)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        live: Live | None = getattr(self.app.state, "live", None)
        if live is not None:
            await live.drain()
        await super().shutdown(sockets)


def serve(settings: Settings) -> None:
    """Run the app with uvicorn on settings.host:port until stopped.

    access_log=False: the app logs one structured line per request (api.http.request_log),
    so uvicorn's own access line would only repeat it, at a cost on every request."""
    app = create_app(settings)
    config = server_config(
        app,
        settings,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
    )
    server = Server(config, app, settings.gc_mode)
    # As uvicorn.run: Ctrl-C is a normal stop; a server that never started is not.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit("error: the API server did not start; see the log above.")
