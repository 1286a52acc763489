"""Configuration, read once from the environment: every knob of the API is here,
with its default, and listed in the README's "Configuration" table."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from api.http.manifest import ManifestError, load_manifest
from storage.contract import database_name

DEFAULT_URI = "mongodb://127.0.0.1:27017/"

T = TypeVar("T")


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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        no_manifest: tuple[bool, Path | None] = (defaults.apq_safelist, None)
        safelist = _read(env, "APQ_SAFELIST", _safelist, no_manifest)
        return cls(
            mongodb_uri=env.get("MONGODB_URI") or DEFAULT_URI,
            database=database_name(),
            host=env.get("HOST") or defaults.host,
            port=_read(env, "PORT", _positive_int, defaults.port),
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
        raise SettingsError(f"{name}={raw!r} is not valid: {exc}") from None


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("expected a whole number above 0")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("expected a whole number, 0 or more")
    return number


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


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")
