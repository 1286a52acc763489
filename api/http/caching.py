"""HTTP caching of GraphQL responses.

A successful query over GET is public for ``CACHE_MAX_AGE`` seconds and carries a
strong ``ETag`` (a digest of the body): a client or CDN revalidating with
``If-None-Match`` gets 304 and no body. Anything with errors, and every POST,
is ``no-store``: errors are not worth keeping and POST is not cacheable.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

NO_STORE = "no-store"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison: ``*``, or any listed tag equal once ``W/`` is dropped."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def apply_caching(request: Request, response: Response, cacheable: bool, max_age: int) -> Response:
    """``response`` with its caching headers, or a 304 in its place."""
    if not (cacheable and request.method == "GET" and response.status_code == 200):
        response.headers["Cache-Control"] = NO_STORE
        return response
    etag = etag_of(bytes(response.body))
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response
