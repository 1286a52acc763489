"""Canonical URLs, stable article ids and provider domains."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from storage.keys import provider_key

# Characters that make urlsplit do more than split at "://" and the next "/".
_NOT_SIMPLE = re.compile(r"[?#\s\\\[\]]")


def canonical_url(url: str) -> str:
    """The URL an article is known by: lower-cased scheme and host, no fragment,
    no ``utm_*`` tracking parameters. Path and other parameters are kept as they are."""
    url = url.strip()
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    scheme = scheme.lower()
    if (scheme == "https" or scheme == "http") and host and not _NOT_SIMPLE.search(url):
        # Most URLs: no query, fragment or oddity, so no parsing needed.
        return f"{scheme}://{host.lower()}{slash}{path}"
    return canonical_url_parsed(url)


def canonical_url_parsed(url: str) -> str:
    """``canonical_url`` for any URL, through urllib's parser."""
    parts = urlsplit(url.strip())
    query = parts.query
    if query:
        query = urlencode(
            [
                (key, value)
                for key, value in parse_qsl(query, keep_blank_values=True)
                if not key.lower().startswith("utm_")
            ]
        )
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, query, ""))


def article_id(canonical: str) -> str:
    """A stable id for an article: the same canonical URL gives the same id on every
    machine and in every database."""
    return hashlib.blake2b(canonical.encode("utf-8"), digest_size=12).hexdigest()


def domain_of(url: str) -> str:
    host = urlsplit(url.strip()).hostname or ""
    return provider_key(host)


# scheme, optional user info, a host (a name or an [IPv6] address), optional port.
_ABSOLUTE_HTTP = re.compile(
    r"\s*[hH][tT][tT][pP][sS]?://(?:[^/?#@\s]*@)?(?:\[[0-9a-fA-F:.]+\]|[^/?#:@\s\[\]]+)(?::\d*)?(?:[/?#]|\s*$)"
)


def is_absolute_http_url(url: str) -> bool:
    return _ABSOLUTE_HTTP.match(url) is not None
