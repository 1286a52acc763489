"""GraphiQL served by the API itself: every file from the API's own origin (vendored
under ``static/`` at pinned versions, see ``assets.json`` and ``make graphiql-assets``),
under a Content-Security-Policy that allows no other origin."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
MANIFEST = HERE / "assets.json"
# Where the files are served.
PREFIX = "/graphiql"
# The page's own files, after the vendored ones they use.
OWN_FILES = ("newsgraph-graphiql.css", "newsgraph-graphiql.js")

HOME_QUERY = """\
# The home page: the 20 newest articles. Run it with Ctrl-Enter.
query HomePage {
  articles(first: 20) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id title excerpt publishedDateTime
        provider { name domain }
        topics { name }
        leadImage { url width height }
        related { title provider { domain } }
      }
    }
  }
}

# Live news, over WebSocket: run this in a new tab, then load articles.
# subscription { articleAdded(filter: {topics: ["AI"]}) { id title provider { name } } }
"""

# No origin but this one; nothing inline but the JSON config (not a script) and the
# styles the editors set through the DOM.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


@dataclass(frozen=True)
class Asset:
    file: str
    integrity: str

    @property
    def tag(self) -> str:
        src = f"{PREFIX}/{self.file}"
        if self.file.endswith(".css"):
            return f'<link rel="stylesheet" href="{src}" integrity="{self.integrity}" />'
        return f'<script src="{src}" integrity="{self.integrity}"></script>'


def integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def vendored() -> list[Asset]:
    """The vendored files in load order, with the hashes recorded for them."""
    entries = json.loads(MANIFEST.read_text())
    return [Asset(entry["file"], entry["integrity"]) for entry in entries]


def assets() -> list[Asset]:
    own = [Asset(name, integrity((STATIC / name).read_bytes())) for name in OWN_FILES]
    return vendored() + own


@cache
def page(graphql_path: str = "/graphql") -> str:
    every = assets()
    config = json.dumps({"url": graphql_path, "defaultQuery": HOME_QUERY})
    return Template((HERE / "page.html").read_text()).substitute(
        styles="\n    ".join(a.tag for a in every if a.file.endswith(".css")),
        scripts="\n    ".join(a.tag for a in every if a.file.endswith(".js")),
        # Inside <script>, "</" would end the element: JSON allows "<\/".
        config=config.replace("</", "<\\/"),
    )


def page_response() -> HTMLResponse:
    return HTMLResponse(
        page(),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)
