"""The built web app served at / beside /graphql (WEB_DIST), and a persisted query
manifest as the safelist (APQ_SAFELIST=<path>), over real HTTP."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings, SettingsError
from tests.conftest import SEEDS, ServedAPI

INDEX = "<!doctype html><title>newsgraph</title><div id=root></div>"
HOME = "query Home { articles(first: 1) { totalCount } }"
OTHER = "query Other { articles(first: 2) { totalCount } }"
# The two seed articles, loaded so that the database is ready to serve.
SEEDED = {"articles": {"totalCount": 2}}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text("console.log('app')")
    return root


def write_manifest(path: Path, operations: list[dict[str, Any]]) -> Path:
    manifest = {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
    path.write_text(json.dumps(manifest))
    return path


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    operation = {"id": sha256(HOME), "name": "Home", "type": "query", "body": HOME}
    return write_manifest(tmp_path / "manifest.json", [operation])


def by_hash(api: ServedAPI, digest: str) -> dict[str, Any]:
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    response = api.client.get(
        "/graphql", params={"extensions": extensions}, headers={"Accept": "application/json"}
    )
    body: dict[str, Any] = response.json()
    return body


def code_of(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def test_the_app_is_served_at_the_root_and_for_its_routes(serve_api: Any, dist: Path) -> None:
    api = serve_api(web_dist=dist)
    pages = ("/", "/articles/QXJ0aWNsZTox", "/topics/computer%20vision", "/providers/a.example")
    for path in (*pages, "/search?q=x"):
        response = api.client.get(path, headers={"Accept": "text/html,*/*;q=0.8"})
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["cache-control"] == "no-cache"
        assert "default-src 'self'" in response.headers["content-security-policy"]
    asset = api.client.get("/assets/index-abc123.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Missing files are 404s, not the app, even for a browser.
    assert (
        api.client.get("/assets/missing-0000.js", headers={"Accept": "text/html"}).status_code
        == 404
    )
    assert api.client.get("/favicon.ico").status_code == 404
    # GraphQL, health and metrics keep their own routes.
    assert api.data("{ __typename }") == {"__typename": "Query"}
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_without_web_dist_nothing_is_served_at_the_root(api: ServedAPI) -> None:
    assert api.client.get("/").status_code == 404


def test_a_manifest_is_the_whole_safelist(serve_api: Any, load: Any, manifest: Path) -> None:
    load(SEEDS)
    api = serve_api(apq_safelist=True, apq_manifest=manifest)
    assert by_hash(api, sha256(HOME))["data"] == SEEDED
    assert api.data(HOME) == SEEDED
    refused = api.query(OTHER)
    assert code_of(refused) == "PERSISTED_QUERY_NOT_IN_SAFELIST"
    assert refused["data"] is None
    assert code_of(by_hash(api, sha256(OTHER))) == "PERSISTED_QUERY_NOT_FOUND"


def test_queries_registered_in_mongodb_do_not_widen_a_manifest(
    serve_api: Any, load: Any, manifest: Path
) -> None:
    load(SEEDS)
    open_api = serve_api()
    registered = open_api.client.post(
        "/graphql",
        json={
            "query": OTHER,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(OTHER)}},
        },
    )
    assert registered.json()["data"] == SEEDED
    api = serve_api(apq_safelist=True, apq_manifest=manifest)
    assert code_of(by_hash(api, sha256(OTHER))) == "PERSISTED_QUERY_NOT_FOUND"
    assert code_of(api.query(OTHER)) == "PERSISTED_QUERY_NOT_IN_SAFELIST"


def test_apq_safelist_reads_a_manifest_path(manifest: Path) -> None:
    settings = Settings.from_env({"APQ_SAFELIST": str(manifest)})
    assert (settings.apq_safelist, settings.apq_manifest) == (True, manifest)
    assert Settings.from_env({"APQ_SAFELIST": "false"}).apq_manifest is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not JSON"),
        ('{"format": "something else", "version": 1, "operations": []}', "is not a manifest"),
        (
            json.dumps(
                {
                    "format": "apollo-persisted-query-manifest",
                    "version": 1,
                    "operations": [{"id": "0" * 64, "name": "Home", "body": HOME}],
                }
            ),
            r"operations\[0\] \(Home\): the id is not the SHA-256 of the body",
        ),
    ],
)
def test_an_unusable_manifest_is_refused_with_its_path(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(SettingsError, match=f"APQ_SAFELIST='{path}' is not valid: .*{message}"):
        Settings.from_env({"APQ_SAFELIST": str(path)})


def test_web_dist_must_hold_a_built_app(tmp_path: Path, dist: Path) -> None:
    assert Settings.from_env({"WEB_DIST": str(dist)}).web_dist == dist
    with pytest.raises(
        SettingsError, match=r"WEB_DIST=.* no index\.html in .*: build the app first"
    ):
        Settings.from_env({"WEB_DIST": str(tmp_path)})
