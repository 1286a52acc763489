"""Configuration, read once from the environment: every knob of the API is here,
with its default, and listed in the README's "Configuration" table."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

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
        return cls(
            mongodb_uri=env.get("MONGODB_URI") or DEFAULT_URI,
            database=database_name(),
            host=env.get("HOST") or defaults.host,
            port=_read(env, "PORT", _positive_int, defaults.port),
            mongo_timeout_ms=_read(
                env, "MONGO_TIMEOUT_MS", _positive_int, defaults.mongo_timeout_ms
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
            apq_safelist=_read(env, "APQ_SAFELIST", _boolean, defaults.apq_safelist),
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
        )


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


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")
