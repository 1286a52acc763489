"""Configuration, read once from the environment: every knob of the API is here,
with its default, and listed in the README's "Configuration" table."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pymongo.errors import PyMongoError
from pymongo.uri_parser import parse_uri

from api.http.manifest import ManifestError, load_manifest
from storage.contract import database_name

DEFAULT_URI = "mongodb://127.0.0.1:27017/"

T = TypeVar("T")


# Every variable the API reads, for `python -m api --help` (README: Configuration).
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("MONGODB_URI", DEFAULT_URI, "the MongoDB server"),
    ("NEWSGRAPH_DB", "newsgraph", "the database name"),
    ("HOST", "127.0.0.1", "the address to listen on"),
    ("PORT", "8000", "the port to listen on (1-65535)"),
    ("MONGO_TIMEOUT_MS", "2000", "how long a request waits for MongoDB"),
    ("MAX_QUERY_DEPTH", "12", "deepest field nesting a query may have"),
    ("MAX_QUERY_ALIASES", "30", "aliases a query may use"),
    ("MAX_QUERY_TOKENS", "5000", "lexical tokens a document may have"),
    ("MAX_QUERY_BYTES", "100000", "bytes a document may have"),
    ("MAX_BODY_BYTES", "2000000", "bytes a request body may have"),
    ("MAX_QUERY_COST", "50000", "highest calculated cost of a query"),
    ("CACHE_MAX_AGE", "30", "seconds a successful GET response may be cached"),
    ("CORS_ORIGINS", "none", "browser origins allowed, comma-separated; :* any port"),
    ("APQ_MAX_QUERIES", "10000", "registered persisted queries kept"),
    ("APQ_SAFELIST", "false", "true, or a manifest's path: only registered queries run"),
    ("MONGO_READ_PREFERENCE", "primaryPreferred", "where reads go"),
    ("MONGO_MAX_STALENESS_S", "unset", "skip secondaries further behind (at least 90)"),
    ("WEB_DIST", "unset", "a built web app served at /"),
    ("MAX_CONCURRENT_REQUESTS", "8", "GraphQL requests executing at once"),
    ("ADMISSION_QUEUE", "8", "GraphQL requests waiting for a slot; more get 503"),
    ("REQUEST_DEADLINE_MS", "5000", "from admission to the answer, else 504"),
    ("HEADER_TIMEOUT_MS", "10000", "a request's headers must arrive within this"),
    ("BODY_TIMEOUT_MS", "20000", "a request's body must arrive within this"),
    ("KEEP_ALIVE_TIMEOUT", "5", "seconds an idle keep-alive connection stays open"),
    ("MAX_CONNECTIONS", "1000", "open connections per process"),
    ("SHED_PAUSE_MS", "500", "a shed connection is not read again for this long"),
    ("SEARCH_INDEX_DIR", "a temporary directory", "where the search index is kept"),
    ("SEARCH_WRITER_HEAP_MB", "16", "memory the search index writer fills before a flush"),
    ("EXECUTOR", "compiled", "compiled, or reference (graphql-core, every field resolved)"),
    ("PLAN_CACHE_SIZE", "1000", "compiled plans kept (least recently used dropped)"),
    ("MAX_SUBSCRIPTIONS_PER_CONNECTION", "20", "operations one WebSocket may have open"),
    ("MAX_SUBSCRIPTIONS", "1000", "subscriptions one process may have open"),
    ("SUBSCRIPTION_BUFFER", "100", "events a subscription may fall behind"),
    ("SLOW_CONSUMER_GRACE", "5", "seconds a full subscription may stall before it is cut"),
    ("CONNECTION_INIT_TIMEOUT", "10", "seconds a WebSocket has to send connection_init"),
    ("KEEPALIVE_INTERVAL", "15", "seconds between WebSocket pings; 0: none"),
)


class SettingsError(ValueError):
    """An environment variable holds a value the API cannot use."""


@dataclass(frozen=True)
class Settings:
    mongodb_uri: str = DEFAULT_URI
    database: str = "newsgraph"
    host: str = "127.0.0.1"
    port: int = 8000
    # How long a request waits for MongoDB before it is answered as unavailable:
    # below 3 s, so an outage is reported within 3 s.
    mongo_timeout_ms: int = 2000
    # Where reads go. News tolerates a secondary's lag, so by default a lost primary
    # fails no read: they go to a secondary until a new primary is elected.
    mongo_read_preference: str = "primaryPreferred"
    # Secondaries further behind the primary than this are not read (None: any lag).
    mongo_max_staleness_s: int | None = None

    # Resource limits, checked before any resolver runs.
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    max_query_bytes: int = 100_000
    # The whole request body (query, variables, extensions): read no further.
    max_body_bytes: int = 2_000_000
    max_cost: int = 50_000

    # HTTP caching of successful GET responses.
    cache_max_age: int = 30

    # Origins allowed by CORS; an entry may end in ":*" for any port.
    cors_origins: tuple[str, ...] = ()

    # Automatic persisted queries.
    apq_max_queries: int = 10_000
    apq_safelist: bool = False
    # A persisted query manifest whose operations are the whole safelist.
    apq_manifest: Path | None = None

    # The built web app (web/dist), served at / when set.
    web_dist: Path | None = None

    # Overload and hostile connections (api/http/admission.py, api/http/connections.py).
    # At most this many GraphQL requests execute at once (measured: bench/overload.py)...
    max_concurrent_requests: int = 8
    # ... this many more wait for a slot; beyond them a request is answered 503 at once.
    admission_queue: int = 8
    # From admission (the queue included) to the answer; MongoDB operations included.
    request_deadline_ms: int = 5000
    # A request's headers, then its body, must have arrived within these.
    header_timeout_ms: int = 10_000
    body_timeout_ms: int = 20_000
    # A connection whose request was shed is not read again for this long: a client
    # retrying at once in a loop would otherwise take the admitted requests' CPU.
    shed_pause_ms: int = 500
    # Open connections (HTTP and WebSocket) per process; beyond, new ones are refused.
    max_connections: int = 1000
    # Seconds an idle keep-alive connection stays open.
    keep_alive_timeout: int = 5

    # Subscriptions (GraphQL over WebSocket).
    max_subscriptions_per_connection: int = 20
    max_subscriptions: int = 1000
    # Events a subscriber may fall behind before it holds the stream back, and how
    # long it may hold it back without taking an event before it is cut off.
    subscription_buffer: int = 100
    slow_consumer_grace_s: int = 5
    connection_init_timeout_s: int = 10
    # graphql-transport-ws pings on an open connection; 0: none.
    keepalive_interval_s: int = 15
    # The search index: where it lives (None: a temporary directory of the process's
    # own, rebuilt at every start) and the memory its writer may use.
    search_index_dir: Path | None = None
    # 16 MiB, near tantivy's minimum of 15: a bigger heap builds faster (64 MiB: about
    # twice as fast) but is held by the process, and counts in its peak RSS.
    search_writer_heap_mb: int = 16

    # How queries run: "compiled" (api.execution: planned reads, direct building) or
    # "reference" (Strawberry on graphql-core, every field resolved).
    executor: str = "compiled"
    # Compiled plans kept, one per (document, operation, @skip/@include values).
    plan_cache_size: int = 1000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        no_manifest: tuple[bool, Path | None] = (defaults.apq_safelist, None)
        safelist = _read(env, "APQ_SAFELIST", _safelist, no_manifest)
        return cls(
            mongodb_uri=_read(env, "MONGODB_URI", _mongodb_uri, DEFAULT_URI),
            database=_read(env, "NEWSGRAPH_DB", _database, database_name()),
            host=_read(env, "HOST", _host, defaults.host),
            port=_read(env, "PORT", _port, defaults.port),
            mongo_timeout_ms=_read(
                env, "MONGO_TIMEOUT_MS", _positive_int, defaults.mongo_timeout_ms
            ),
            mongo_read_preference=_read(
                env, "MONGO_READ_PREFERENCE", _read_preference, defaults.mongo_read_preference
            ),
            mongo_max_staleness_s=_read(
                env, "MONGO_MAX_STALENESS_S", _max_staleness, defaults.mongo_max_staleness_s
            ),
            max_depth=_read(env, "MAX_QUERY_DEPTH", _positive_int, defaults.max_depth),
            max_aliases=_read(env, "MAX_QUERY_ALIASES", _positive_int, defaults.max_aliases),
            max_tokens=_read(env, "MAX_QUERY_TOKENS", _positive_int, defaults.max_tokens),
            max_query_bytes=_read(env, "MAX_QUERY_BYTES", _positive_int, defaults.max_query_bytes),
            max_body_bytes=_read(env, "MAX_BODY_BYTES", _positive_int, defaults.max_body_bytes),
            max_cost=_read(env, "MAX_QUERY_COST", _positive_int, defaults.max_cost),
            cache_max_age=_read(env, "CACHE_MAX_AGE", _non_negative_int, defaults.cache_max_age),
            cors_origins=_read(env, "CORS_ORIGINS", parse_origins, defaults.cors_origins),
            apq_max_queries=_read(env, "APQ_MAX_QUERIES", _positive_int, defaults.apq_max_queries),
            apq_safelist=safelist[0],
            apq_manifest=safelist[1],
            web_dist=_read(env, "WEB_DIST", _web_dist, defaults.web_dist),
            max_concurrent_requests=_read(
                env, "MAX_CONCURRENT_REQUESTS", _positive_int, defaults.max_concurrent_requests
            ),
            admission_queue=_read(
                env, "ADMISSION_QUEUE", _non_negative_int, defaults.admission_queue
            ),
            request_deadline_ms=_read(
                env, "REQUEST_DEADLINE_MS", _positive_int, defaults.request_deadline_ms
            ),
            header_timeout_ms=_read(
                env, "HEADER_TIMEOUT_MS", _positive_int, defaults.header_timeout_ms
            ),
            body_timeout_ms=_read(env, "BODY_TIMEOUT_MS", _positive_int, defaults.body_timeout_ms),
            shed_pause_ms=_read(env, "SHED_PAUSE_MS", _non_negative_int, defaults.shed_pause_ms),
            max_connections=_read(env, "MAX_CONNECTIONS", _positive_int, defaults.max_connections),
            keep_alive_timeout=_read(
                env, "KEEP_ALIVE_TIMEOUT", _positive_int, defaults.keep_alive_timeout
            ),
            max_subscriptions_per_connection=_read(
                env,
                "MAX_SUBSCRIPTIONS_PER_CONNECTION",
                _positive_int,
                defaults.max_subscriptions_per_connection,
            ),
            max_subscriptions=_read(
                env, "MAX_SUBSCRIPTIONS", _positive_int, defaults.max_subscriptions
            ),
            subscription_buffer=_read(
                env, "SUBSCRIPTION_BUFFER", _positive_int, defaults.subscription_buffer
            ),
            slow_consumer_grace_s=_read(
                env, "SLOW_CONSUMER_GRACE", _positive_int, defaults.slow_consumer_grace_s
            ),
            connection_init_timeout_s=_read(
                env,
                "CONNECTION_INIT_TIMEOUT",
                _positive_int,
                defaults.connection_init_timeout_s,
            ),
            keepalive_interval_s=_read(
                env, "KEEPALIVE_INTERVAL", _non_negative_int, defaults.keepalive_interval_s
            ),
            search_index_dir=_read(env, "SEARCH_INDEX_DIR", Path, defaults.search_index_dir),
            search_writer_heap_mb=_read(
                env, "SEARCH_WRITER_HEAP_MB", _writer_heap, defaults.search_writer_heap_mb
            ),
            executor=_read(env, "EXECUTOR", _executor, defaults.executor),
            plan_cache_size=_read(env, "PLAN_CACHE_SIZE", _positive_int, defaults.plan_cache_size),
        )._checked()

    def _checked(self) -> Settings:
        if self.mongo_max_staleness_s is not None and self.mongo_read_preference == "primary":
            raise SettingsError(
                "MONGO_MAX_STALENESS_S applies only to reads from secondaries: unset it, or "
                "set MONGO_READ_PREFERENCE to another mode than primary"
            )
        return self


READ_PREFERENCES = ("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest")
# MongoDB's floor for maxStalenessSeconds (a secondary's lag is only estimated).
MIN_MAX_STALENESS_S = 90


def parse_origins(value: str) -> tuple[str, ...]:
    """``"https://a.example, http://localhost:*"`` -> the origins, blanks dropped."""
    return tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())


def _read(env: Mapping[str, str], name: str, convert: Callable[[str], T], default: T) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return convert(raw.strip())
    except ValueError as exc:
        shown = _masked(raw) if name == "MONGODB_URI" else raw
        raise SettingsError(f"{name}={shown!r} is not valid: {str(exc).rstrip('.')}") from None


def _masked(uri: str) -> str:
    """A URI with its password (if any) replaced by ``***``: messages are logged."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", uri)


def _positive_int(value: str) -> int:
    number = _whole(value)
    if number <= 0:
        raise ValueError("expected a whole number above 0")
    return number


def _non_negative_int(value: str) -> int:
    number = _whole(value)
    if number < 0:
        raise ValueError("expected a whole number, 0 or more")
    return number


def _whole(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError("expected a whole number") from None


def _port(value: str) -> int:
    number = _whole(value)
    if not 1 <= number <= 65535:
        raise ValueError("expected a port number from 1 to 65535")
    return number


_HOSTNAME_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _host(value: str) -> str:
    """An IPv4 or IPv6 address, or a host name: what uvicorn can bind to."""
    looks_numeric = all(part.isdigit() for part in value.split("."))
    if ":" in value or looks_numeric:
        try:
            ipaddress.ip_address(value.strip("[]"))
        except ValueError:
            raise ValueError("expected an IP address (such as 127.0.0.1 or ::1)") from None
        return value.strip("[]")
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not all(_HOSTNAME_LABEL.fullmatch(label) for label in labels):
        raise ValueError("expected an IP address or a host name (such as localhost)")
    return value


def _mongodb_uri(value: str) -> str:
    if not value.startswith(("mongodb://", "mongodb+srv://")):
        raise ValueError("expected a URI starting with mongodb:// or mongodb+srv://")
    if value.startswith("mongodb://"):  # +srv would need a DNS lookup to check
        try:
            parse_uri(value)
        except (PyMongoError, ValueError) as exc:
            raise ValueError(str(exc)) from None
    return value


def _database(value: str) -> str:
    if len(value) > 63 or any(char in value for char in '/\\. "$\x00'):
        raise ValueError('expected a database name: at most 63 characters, none of /\\. "$')
    return value


def _safelist(value: str) -> tuple[bool, Path | None]:
    """true/false, or the path of a persisted query manifest (safelist on)."""
    try:
        return _boolean(value), None
    except ValueError:
        pass
    path = Path(value)
    if not path.is_file():
        raise ValueError("expected true, false or the path of a persisted query manifest file")
    try:
        load_manifest(path)
    except ManifestError as exc:
        raise ValueError(str(exc)) from None
    return True, path


def _web_dist(value: str) -> Path:
    path = Path(value)
    if not (path / "index.html").is_file():
        raise ValueError(f"no index.html in {path}: build the app first (make web)")
    return path


def _read_preference(value: str) -> str:
    by_lowered = {mode.lower(): mode for mode in READ_PREFERENCES}
    mode = by_lowered.get(value.lower())
    if mode is None:
        raise ValueError(f"expected one of {', '.join(READ_PREFERENCES)}")
    return mode


def _max_staleness(value: str) -> int:
    seconds = int(value)
    if seconds < MIN_MAX_STALENESS_S:
        raise ValueError(f"expected a whole number of seconds, {MIN_MAX_STALENESS_S} or more")
    return seconds


def _writer_heap(value: str) -> int:
    number = int(value)
    if number < 15:
        raise ValueError("expected a whole number of MiB, at least 15 (tantivy's minimum)")
    return number


EXECUTORS = ("compiled", "reference")


def _executor(value: str) -> str:
    lowered = value.lower()
    if lowered not in EXECUTORS:
        raise ValueError(f"expected one of {', '.join(EXECUTORS)}")
    return lowered


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")
