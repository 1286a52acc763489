"""What the loader tells its operator: the right line, every missing field at once,
a short sentence for an unreachable server, a missing path named apart, and a
--strict refusal that does not call itself a dry run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from loaders.load import LoadOptions, load_paths
from storage.mongod import free_port
from tests.articles import article, write_article
from tests.conftest import ROOT

DRY = LoadOptions(dry_run=True)


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "loaders", *args],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_yaml_error_names_the_line_of_the_mistake(tmp_path: Path) -> None:
    lines = [
        "---",
        "title: A title",
        "webUrl: https://example.org/a",
        "publishedDateTime: 2024-01-01T10:00:00Z",
        "category: news",
        "excerpt: text",
        "quality: 1",
        "type: [article",  # line 8: the list is never closed
        "---",
    ]
    (tmp_path / "a.txt").write_text("\n".join(lines) + "\n")
    report = load_paths(None, [tmp_path], DRY)
    (error,) = report.errors
    assert error.startswith(f"{tmp_path / 'a.txt'}:8: YAML syntax error, column 7: ")
    assert "while parsing a flow sequence in line 8, column 7" in error


def test_every_missing_required_field_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("---\ncategory: news\nrelated:\n  - excerpt: x\n---\n")
    write_article(tmp_path, "b.txt", article(1, related=[{"excerpt": "x"}]))
    report = load_paths(None, [tmp_path], DRY)
    assert report.errors == [
        f"{tmp_path / 'a.txt'}: missing required fields: title, webUrl, publishedDateTime; "
        "related[0]: missing required fields: title, webUrl",
        f"{tmp_path / 'b.txt'}:18: related[0]: missing required fields: title, webUrl",
    ]


def test_a_missing_path_is_not_found_not_read_and_rejected(tmp_path: Path) -> None:
    write_article(tmp_path, "a.txt", article(1))
    run = _cli("--dry-run", str(tmp_path / "a.txt"), str(tmp_path / "nope.txt"))
    assert run.returncode == 1
    assert f"{tmp_path / 'nope.txt'}: not found" in run.stderr
    assert "files read 1, articles valid 1, rejected 0, paths not found 1" in run.stdout


def test_an_unreachable_server_is_one_short_sentence(tmp_path: Path) -> None:
    write_article(tmp_path, "a.txt", article(1))
    uri = f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300"
    run = _cli(str(tmp_path), MONGODB_URI=uri)
    assert run.returncode == 2
    message = run.stderr.strip()
    assert message.startswith(f"error: cannot reach MongoDB at {uri} (")
    assert "Connection refused" in message
    assert "Topology" not in message and "\n" not in message
    assert len(message) < 300, message


def test_strict_refusal_is_not_called_a_dry_run(
    tmp_path: Path, mongo_uri: str, db_name: str
) -> None:
    write_article(tmp_path, "a.txt", article(1))
    (tmp_path / "b.txt").write_text("no front matter\n")
    run = _cli("--strict", str(tmp_path), MONGODB_URI=mongo_uri, NEWSGRAPH_DB=db_name)
    assert run.returncode == 1
    assert "dry run" not in run.stdout
    assert "strict: nothing written: files read 2, articles valid 1, rejected 1" in run.stdout
