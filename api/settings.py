"""Configuration, read once from the environment: every knob of the API is here,
with its default, and listed in the README's "Configuration" table."""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo.errors import PyMongoError
from pymongo.uri_parser import parse_uri

from api.http.manifest import ManifestError, load_manifest

DEFAULT_URI = "mongodb://127.0.0.1:27017/"


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
    # Nothing more a connection whose request was shed sends is parsed for a pause:
    # a client retrying at once in a loop would otherwise take the admitted requests'
    # CPU. Measured (README, Overload): shorter costs goodput (more refusals a second),
    # longer raises p99 under overload (every retried request waits the pause). The
    # pause is SHED_PAUSE_FACTOR times the p99 of the admitted requests' execution,
    # at least shed_pause_ms (api.http.shed_pause).
    shed_pause_ms: int = 120
    shed_pause_factor: float = 2.0
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
    # A search page whose words' postings (both fields) reach this runs in a worker
    # thread, off the event loop. 200,000 postings are about 0.8 ms of engine work
    # (it visits every match, some 4 ns each); under load a worker thread's hand-off
    # (the executor, the loop's wake-up, the GIL passed back and forth) cost 0.8 ms
    # of CPU per search at 100,000 articles (python -m bench.search_thread).
    search_thread_postings: int = 200_000

    # How queries run: "compiled" (api.execution: planned reads, direct building) or
    # "reference" (Strawberry on graphql-core, every field resolved).
    executor: str = "compiled"
    # Compiled plans kept, one per (document, operation, @skip/@include values).
    plan_cache_size: int = 1000
    # Python's garbage collector: "tuned" for serving (api.garbage) or "python" (the
    # interpreter's defaults).
    gc_mode: str = "tuned"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives (VARIABLES); a variable unset or blank
        leaves its field at the default above."""
        env = os.environ if environ is None else environ
        given: dict[str, Any] = {}
        for variable in TABLE:
            raw = env.get(variable.name)
            if raw is not None and raw.strip() != "":
                given.update(variable.read(raw))
        return cls(**given)._checked()

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


def _non_negative_number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("expected a number, 0 or more") from None
    if not (math.isfinite(number) and number >= 0):
        raise ValueError("expected a number, 0 or more")
    return number


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


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    """A parser of one of ``choices``, in any case, as the choice spells it."""
    by_lowered = {choice.lower(): choice for choice in choices}

    def parse(value: str) -> str:
        choice = by_lowered.get(value.lower())
        if choice is None:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return choice

    return parse


def _max_staleness(value: str) -> int:
    expected = f"expected a whole number of seconds, {MIN_MAX_STALENESS_S} or more"
    return _at_least(value, MIN_MAX_STALENESS_S, expected)


def _writer_heap(value: str) -> int:
    return _at_least(value, 15, "expected a whole number of MiB, at least 15 (tantivy's minimum)")


def _at_least(value: str, least: int, expected: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(expected) from None
    if number < least:
        raise ValueError(expected)
    return number


EXECUTORS = ("compiled", "reference")
GC_MODES = ("tuned", "python")  # api.garbage


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


@dataclass(frozen=True)
class Variable:
    """One environment variable: the Settings field(s) it sets, how its text is
    read (a ValueError says what was expected), and its line in --help. A parser
    that sets several fields returns their values as a tuple, in that order."""

    name: str
    fields: tuple[str, ...]
    parse: Callable[[str], object]
    help: str
    shown: str | None = None  # the default as --help says it; else Settings()'s
    secret_password: bool = False  # mask a URI's password in messages (they are logged)

    def read(self, raw: str) -> dict[str, object]:
        try:
            value = self.parse(raw.strip())
        except ValueError as exc:
            shown = _masked(raw) if self.secret_password else raw
            reason = str(exc).rstrip(".")
            raise SettingsError(f"{self.name}={shown!r} is not valid: {reason}") from None
        if len(self.fields) == 1:
            return {self.fields[0]: value}
        assert isinstance(value, tuple) and len(value) == len(self.fields), self.name
        return dict(zip(self.fields, value, strict=True))

    def default(self) -> str:
        if self.shown is not None:
            return self.shown
        value = getattr(Settings(), self.fields[0])
        if value is None:
            return "unset"
        if value == ():
            return "none"
        return str(value).lower() if isinstance(value, bool) else str(value)


def _row(
    name: str,
    field: str | tuple[str, ...],
    parse: Callable[[str], object],
    help: str,
    *,
    shown: str | None = None,
    secret_password: bool = False,
) -> Variable:
    chosen = (field,) if isinstance(field, str) else field
    return Variable(name, chosen, parse, help, shown, secret_password)


# Every variable the API reads, in --help's order (README: Configuration, which a
# test checks against it). A new setting: its Settings field above, and a row here.
# fmt: off
TABLE: tuple[Variable, ...] = (
    _row("MONGODB_URI", "mongodb_uri", _mongodb_uri, "the MongoDB server", secret_password=True),
    _row("NEWSGRAPH_DB", "database", _database, "the database name"),
    _row("HOST", "host", _host, "the address to listen on"),
    _row("PORT", "port", _port, "the port to listen on (1-65535)"),
    _row("MONGO_TIMEOUT_MS", "mongo_timeout_ms", _positive_int,
         "how long a request waits for MongoDB"),
    _row("MAX_QUERY_DEPTH", "max_depth", _positive_int, "deepest field nesting a query may have"),
    _row("MAX_QUERY_ALIASES", "max_aliases", _positive_int, "aliases a query may use"),
    _row("MAX_QUERY_TOKENS", "max_tokens", _positive_int, "lexical tokens a document may have"),
    _row("MAX_QUERY_BYTES", "max_query_bytes", _positive_int, "bytes a document may have"),
    _row("MAX_BODY_BYTES", "max_body_bytes", _positive_int, "bytes a request body may have"),
    _row("MAX_QUERY_COST", "max_cost", _positive_int, "highest calculated cost of a query"),
    _row("CACHE_MAX_AGE", "cache_max_age", _non_negative_int,
         "seconds a successful GET response may be cached"),
    _row("CORS_ORIGINS", "cors_origins", parse_origins,
         "browser origins allowed, comma-separated; :* any port"),
    _row("APQ_MAX_QUERIES", "apq_max_queries", _positive_int, "registered persisted queries kept"),
    _row("APQ_SAFELIST", ("apq_safelist", "apq_manifest"), _safelist,
         "true, or a manifest's path: only registered queries run"),
    _row("MONGO_READ_PREFERENCE", "mongo_read_preference", _one_of(READ_PREFERENCES),
         "where reads go"),
    _row("MONGO_MAX_STALENESS_S", "mongo_max_staleness_s", _max_staleness,
         "skip secondaries further behind (at least 90)"),
    _row("WEB_DIST", "web_dist", _web_dist, "a built web app served at /"),
    _row("MAX_CONCURRENT_REQUESTS", "max_concurrent_requests", _positive_int,
         "GraphQL requests executing at once"),
    _row("ADMISSION_QUEUE", "admission_queue", _non_negative_int,
         "GraphQL requests waiting for a slot; more get 503"),
    _row("REQUEST_DEADLINE_MS", "request_deadline_ms", _positive_int,
         "from admission to the answer, else 504"),
    _row("HEADER_TIMEOUT_MS", "header_timeout_ms", _positive_int,
         "a request's headers must arrive within this"),
    _row("BODY_TIMEOUT_MS", "body_timeout_ms", _positive_int,
         "a request's body must arrive within this"),
    _row("KEEP_ALIVE_TIMEOUT", "keep_alive_timeout", _positive_int,
         "seconds an idle keep-alive connection stays open"),
    _row("MAX_CONNECTIONS", "max_connections", _positive_int, "open connections per process"),
    _row("SHED_PAUSE_MS", "shed_pause_ms", _non_negative_int,
         "the least pause of a shed connection (nothing it sends is parsed meanwhile)"),
    _row("SHED_PAUSE_FACTOR", "shed_pause_factor", _non_negative_number,
         "the pause is this times the p99 of the admitted requests' execution"),
    _row("SEARCH_INDEX_DIR", "search_index_dir", Path,
         "where the search index is kept", shown="a temporary directory"),
    _row("SEARCH_WRITER_HEAP_MB", "search_writer_heap_mb", _writer_heap,
         "memory the search index writer fills before a flush"),
    _row("SEARCH_THREAD_POSTINGS", "search_thread_postings", _non_negative_int,
         "a search page over this many postings runs in a worker thread"),
    _row("EXECUTOR", "executor", _one_of(EXECUTORS),
         "compiled, or reference (graphql-core, every field resolved)"),
    _row("PLAN_CACHE_SIZE", "plan_cache_size", _positive_int,
         "compiled plans kept (least recently used dropped)"),
    _row("GC_MODE", "gc_mode", _one_of(GC_MODES),
         "tuned (start-up frozen, fewer collections) or python (its defaults)"),
    _row("MAX_SUBSCRIPTIONS_PER_CONNECTION", "max_subscriptions_per_connection", _positive_int,
         "operations one WebSocket may have open"),
    _row("MAX_SUBSCRIPTIONS", "max_subscriptions", _positive_int,
         "subscriptions one process may have open"),
    _row("SUBSCRIPTION_BUFFER", "subscription_buffer", _positive_int,
         "events a subscription may fall behind"),
    _row("SLOW_CONSUMER_GRACE", "slow_consumer_grace_s", _positive_int,
         "seconds a full subscription may stall before it is cut"),
    _row("CONNECTION_INIT_TIMEOUT", "connection_init_timeout_s", _positive_int,
         "seconds a WebSocket has to send connection_init"),
    _row("KEEPALIVE_INTERVAL", "keepalive_interval_s", _non_negative_int,
         "seconds between WebSocket pings; 0: none"),
)
# fmt: on

# For `python -m api --help`: (variable, default, meaning).
VARIABLES: tuple[tuple[str, str, str], ...] = tuple(
    (variable.name, variable.default(), variable.help) for variable in TABLE
)
