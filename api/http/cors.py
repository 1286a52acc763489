"""CORS: which browser origins may call the API.

``CORS_ORIGINS`` lists them, comma-separated; an entry ending in ``:*`` allows
any port of that scheme and host (``http://localhost:*``), and ``*`` allows every
origin. None are allowed by default; ``make serve`` allows localhost. Preflight
accepts the headers Apollo Client sends.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

APOLLO_HEADERS = (
    "content-type",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "apollographql-client-name",
    "apollographql-client-version",
    "x-request-id",
)
# Readable by browser code: the id to quote in a bug report, and the cache tag.
EXPOSED_HEADERS = ("x-request-id", "etag")
DEV_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")


def origin_pattern(origins: Sequence[str]) -> str | None:
    """A regex for the ``:*`` entries (any port, or none), or None when there are none."""
    hosts = [re.escape(origin[: -len(":*")]) for origin in origins if origin.endswith(":*")]
    return rf"^(?:{'|'.join(hosts)})(?::\d+)?$" if hosts else None


def cors_middleware(origins: Sequence[str]) -> Middleware:
    exact = [origin for origin in origins if not origin.endswith(":*")]
    return Middleware(
        CORSMiddleware,
        allow_origins=exact,
        allow_origin_regex=origin_pattern(origins),
        allow_methods=["GET", "POST"],
        allow_headers=list(APOLLO_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=600,
    )
