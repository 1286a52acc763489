"""The built web app (``WEB_DIST``, normally ``web/dist``) at ``/``, beside /graphql,
so the browser talks to one origin and needs no CORS.

A page load (a GET accepting text/html) of a path that is not a file gets
``index.html``: the app routes it in the browser (``/articles/<id>``,
``/topics/<name>``...); anything else missing is a 404. Vite names the files under ``assets/``
by their content, so those are cached for good; ``index.html`` is revalidated on
every load, so a new build is picked up at once.
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

IMMUTABLE = "public, max-age=31536000, immutable"
# The app loads its code, styles and data from this origin only; images are the
# articles' own, on their publishers' hosts.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' https: data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class WebApp(StaticFiles):
    def __init__(self, dist: Path) -> None:
        super().__init__(directory=dist, check_dir=True)
        self.index = dist / "index.html"

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or not _is_page_load(path, scope):
                raise
            response = FileResponse(self.index)
        if path.startswith("assets/") and response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = "no-cache"
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _is_page_load(path: str, scope: Scope) -> bool:
    """A browser navigating to one of the app's routes, not a missing asset."""
    accept = Headers(scope=scope).get("accept", "")
    return not path.startswith("assets/") and "text/html" in accept
