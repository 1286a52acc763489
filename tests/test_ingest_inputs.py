"""Each kind of bad input is reported as path[:line]: field: reason, skipped, and the
good inputs of the same run still load. JSON, JSON Lines and gzip load too."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pymongo.database import Database

from loaders import inputs
from loaders.errors import InputError
from loaders.load import LoadOptions, Report, load_paths
from loaders.spool import Spool
from tests.articles import article, front_matter, write_article

Db = Database[dict[str, Any]]


def load_with_good(tmp_path: Path, db: Db, name: str, content: bytes | str, **options: Any) -> str:
    """Load one bad input next to two good files; the good ones must be stored.
    Returns the one error reported."""
    write_article(tmp_path, "good1.txt", article(1))
    write_article(tmp_path, "sub/good2.md", article(2))
    bad = tmp_path / name
    bad.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    bad.write_bytes(content)
    report = load_paths(db, [tmp_path], LoadOptions(**options))
    assert report.inserted == 2, report.errors
    assert db.articles.count_documents({}) == 2
    assert len(report.errors) == 1, report.errors
    return report.errors[0].removeprefix(str(tmp_path) + "/")


def fm(body: str) -> str:
    return f"---\n{body}---\n"


VALID = "title: A title\nwebUrl: https://example.org/a\npublishedDateTime: 2024-01-01T10:00:00Z\n"

CASES = [
    ("no front matter", "bad.txt", "just some text\n", "bad.txt:1: no front matter"),
    ("unclosed block", "bad.txt", "---\n" + VALID, "bad.txt:1: front matter is not closed"),
    (
        "YAML syntax",
        "bad.txt",
        fm(VALID + "type: a: b\n"),
        "bad.txt:5: YAML syntax error, column 8: mapping values are not allowed in this context",
    ),
    (
        "YAML unclosed list",
        "bad.txt",
        fm(VALID + "topics: [a, b\n"),
        # Reported where the list opens (line 5), with PyYAML's own positions.
        "bad.txt:5: YAML syntax error, column 9: while parsing a flow sequence in line 5, "
        "column 9: did not find expected ',' or ']' in line 6, column 1",
    ),
    (
        "not a mapping",
        "bad.txt",
        fm("- a\n- b\n"),
        "bad.txt:2: front matter is a list, not a mapping",
    ),
    (
        "missing title",
        "bad.txt",
        fm(VALID.replace("title: A title\n", "")),
        "bad.txt: title: missing",
    ),
    ("empty title", "bad.txt", fm(VALID.replace("A title", "'  '")), "bad.txt:2: title: empty"),
    (
        "wrong type",
        "bad.txt",
        fm(VALID + "quality: high\n"),
        "bad.txt:5: quality: expected an integer, got str",
    ),
    ("negative", "bad.txt", fm(VALID + "heat: -3\n"), "bad.txt:5: heat: must be >= 0"),
    (
        "bool",
        "bad.txt",
        fm(VALID + "published: sometimes\n"),
        "bad.txt:5: published: expected true or false, got str",
    ),
    (
        "impossible date",
        "bad.txt",
        fm(VALID.replace("2024-01-01", "2023-02-30")),
        "bad.txt:4: publishedDateTime: not an ISO 8601 date-time: '2023-02-30T10:00:00Z' (day is out of range for month)",
    ),
    (
        "bad URL",
        "bad.txt",
        fm(VALID.replace("https://example.org/a", "ftp://example.org/a")),
        "bad.txt:3: webUrl: not an absolute http(s) URL",
    ),
    (
        "nested bad URL",
        "bad.txt",
        fm(
            VALID
            + "related:\n  - title: ok\n    webUrl: https://x.org/1\n  - title: bad\n    webUrl: /relative\n"
        ),
        "bad.txt:9: related[1].webUrl: not an absolute http(s) URL",
    ),
    (
        "image without url",
        "bad.txt",
        fm(VALID + "images:\n  - width: 3\n"),
        "bad.txt: images[0].url: missing",
    ),
    (
        "non-UTF-8",
        "bad.txt",
        b"---\n" + VALID.encode() + b"excerpt: caf\xe9\n---\n",
        "bad.txt:5: not UTF-8: invalid byte 0xe9 at offset 101",
    ),
    ("empty file", "bad.txt", "", "bad.txt: empty file"),
    (
        "alias",
        "bad.txt",
        fm(VALID + "a: &x [1]\nb: *x\n"),
        "bad.txt:5: YAML anchors and aliases are not accepted",
    ),
    (
        "python tag",
        "bad.txt",
        fm(VALID + "x: !!python/object:os.system {}\n"),
        "bad.txt:5: YAML tags are not accepted: tag:yaml.org,2002:python/object:os.system",
    ),
    (
        "binary tag",
        "bad.txt",
        fm(VALID + "x: !!binary aGVsbG8=\n"),
        "bad.txt:5: YAML tags are not accepted",
    ),
    (
        "JSON syntax",
        "bad.json",
        '{"title": "x",\n "webUrl": }',
        "bad.json:2: JSON syntax error, column 12",
    ),
    (
        "JSON Lines item",
        "bad.jsonl",
        json.dumps(article(99)) + "\n" + '{"title": 3}\n',
        "bad.jsonl:2: missing required fields: webUrl, publishedDateTime; title: expected text, got int",
    ),
]


@dataclass
class OneRun:
    """Every bad case of CASES, each in its own directory next to its own good file,
    loaded in one run (one load for all the cases keeps the suite fast)."""

    root: Path
    report: Report
    titles: set[str]


@pytest.fixture(scope="module")
def one_run(tmp_path_factory: pytest.TempPathFactory, mongo_client: Any) -> Iterator[OneRun]:
    root = tmp_path_factory.mktemp("cases")
    for number, (_, name, content, _) in enumerate(CASES):
        case = root / f"case{number:02d}"
        write_article(case, "good.txt", article(number))
        data = content.encode() if isinstance(content, str) else content
        (case / name).write_bytes(data)
    db = mongo_client[f"ngtest_cases_{uuid.uuid4().hex[:8]}"]
    report = load_paths(db, [root])
    yield OneRun(root, report, {d["title"] for d in db.articles.find()})
    mongo_client.drop_database(db.name)


@pytest.mark.parametrize("number", range(len(CASES)), ids=[case[0] for case in CASES])
def test_a_bad_input_is_reported_and_the_good_ones_load(one_run: OneRun, number: int) -> None:
    _, name, _, expected = CASES[number]
    prefix = f"{one_run.root}/case{number:02d}/"
    errors = [e.removeprefix(prefix) for e in one_run.report.errors if e.startswith(prefix)]
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected)
    assert f"Article number {number}" in one_run.titles  # the good file of the same run
    if name.endswith(".jsonl"):
        assert "Article number 99" in one_run.titles  # and the good line of the bad file


def test_a_bom_is_accepted(tmp_path: Path, db: Db) -> None:
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + front_matter(article(5)).encode())
    report = load_paths(db, [tmp_path])
    assert (report.inserted, report.errors) == (1, [])


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path, db: Db) -> None:
    big = front_matter(article(3, excerpt="x" * 5000))
    error = load_with_good(tmp_path, db, "big.txt", big, max_size=4096)
    assert error == "big.txt: larger than the size limit of 4096 bytes (raise it with --max-size)"


@pytest.mark.parametrize(("size", "limit"), [(10, 20), (10, 10), (11, 10)])
def test_the_size_limit_holds_for_a_stream_without_a_size(size: int, limit: int) -> None:
    """A pipe reports size 0: reading is not cut short there, and stops at the limit."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"x" * size)
    os.close(write_end)
    with open(read_end, "rb") as stream:
        if size > limit:
            with pytest.raises(InputError, match="larger than the size limit of 10 bytes"):
                inputs.read_limited(stream, limit)
        else:
            assert inputs.read_limited(stream, limit) == b"x" * size


def test_an_alias_bomb_fails_fast(tmp_path: Path, db: Db) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    bomb = fm(VALID + "\n".join(lines) + "\n")
    started = time.perf_counter()
    error = load_with_good(tmp_path, db, "bomb.txt", bomb)
    assert error == "bomb.txt:5: YAML anchors and aliases are not accepted"
    assert time.perf_counter() - started < 5  # 9**12 strings if it were expanded


def test_a_directory_with_no_articles_is_reported(tmp_path: Path, db: Db) -> None:
    empty = tmp_path / "empty"
    (empty / "deeper").mkdir(parents=True)
    (empty / "notes.csv").write_text("a,b\n")
    write_article(tmp_path / "good", "a.txt", article(1))
    report = load_paths(db, [empty, tmp_path / "good", tmp_path / "missing"])
    assert report.inserted == 1
    assert report.errors == [
        f"{empty}: no article files (.txt, .md, .yaml, .yml, .json, .jsonl, .ndjson, .gz) in this directory",
    ]
    # A missing path is no input read and rejected: it is named apart.
    assert report.not_found == [str(tmp_path / "missing")]
    assert (report.files, report.rejected) == (2, 1)


def test_json_json_lines_and_gzip_load(tmp_path: Path, db: Db) -> None:
    (tmp_path / "one.json").write_text(json.dumps(article(1)))
    (tmp_path / "list.json").write_text(json.dumps([article(2), article(3, title="")]))
    (tmp_path / "lines.jsonl").write_text(f"{json.dumps(article(4))}\n\n{json.dumps(article(5))}\n")
    with gzip.open(tmp_path / "lines.ndjson.gz", "wt") as out:
        out.write(json.dumps(article(6)) + "\n")
    with gzip.open(tmp_path / "fm.txt.gz", "wt") as out:
        out.write(front_matter(article(7)))
    (tmp_path / "broken.json.gz").write_bytes(b"not gzip at all")
    report = load_paths(db, [tmp_path])
    assert report.inserted == 6
    assert sorted(d["title"] for d in db.articles.find()) == [
        f"Article number {n}" for n in (1, 2, 4, 5, 6, 7)
    ]
    errors = [e.removeprefix(str(tmp_path) + "/") for e in report.errors]
    assert errors[0].startswith("broken.json.gz: cannot read:")
    assert errors[1] == "list.json[1]: title: empty"


def test_unknown_fields_are_kept_under_extra_and_counted(tmp_path: Path, db: Db) -> None:
    write_article(tmp_path, "a.txt", article(1, wordCount=120, lang="en"))
    write_article(tmp_path, "b.txt", article(2, lang="fr"))
    report = load_paths(db, [tmp_path])
    assert report.unknown_fields == {"lang": 2, "wordCount": 1}
    doc = db.articles.find_one({"title": "Article number 1"})
    assert doc is not None
    assert doc["extra"] == {"wordCount": 120, "lang": "en"}


def test_the_later_of_two_inputs_with_the_same_url_wins(tmp_path: Path, db: Db) -> None:
    write_article(tmp_path, "a/1.txt", article(1, title="First"))
    write_article(tmp_path, "b/1.txt", article(1, title="Second"))
    (tmp_path / "c.jsonl").write_text(json.dumps(article(2, title="Third")) + "\n")
    write_article(tmp_path, "d.txt", article(2, title="Fourth"))
    report = load_paths(db, [tmp_path])
    assert sorted(d["title"] for d in db.articles.find()) == ["Fourth", "Second"]
    described = [d.describe().replace(str(tmp_path) + "/", "") for d in report.duplicates]
    assert described == [
        "b/1.txt: same URL as a/1.txt; the later input in sorted order wins",
        "d.txt: same URL as c.jsonl:1; the later input in sorted order wins",
    ]


def test_a_first_load_compares_a_url_met_again_in_a_later_batch(tmp_path: Path, db: Db) -> None:
    # Into an empty collection the writer looks up only ids met earlier in the run:
    # the second and third inputs must still be compared with what the first stored.
    write_article(tmp_path, "a.txt", article(1, topics=["Alpha"]))
    write_article(tmp_path, "b.txt", article(1, topics=["Alpha"]))
    write_article(tmp_path, "c.txt", article(1, title="Third", topics=["Beta"]))
    report = load_paths(db, [tmp_path], LoadOptions(batch_size=1))
    assert (report.inserted, report.unchanged, report.updated) == (1, 1, 1)
    assert [d["title"] for d in db.articles.find()] == ["Third"]
    assert [(t["_id"], t["articleCount"]) for t in db.topics.find()] == [("beta", 1)]


def test_a_time_without_a_zone_is_utc_and_others_are_converted(tmp_path: Path, db: Db) -> None:
    write_article(tmp_path, "a.txt", article(1, publishedDateTime="2024-03-01T10:00:00"))
    write_article(tmp_path, "b.txt", article(2, publishedDateTime="2024-03-01T10:00:00+02:00"))
    write_article(tmp_path, "c.txt", article(3, publishedDateTime="2024-03-01"))
    load_paths(db, [tmp_path])
    stored = {d["title"]: d["publishedDateTime"] for d in db.articles.find()}
    assert stored == {
        "Article number 1": datetime(2024, 3, 1, 10, tzinfo=UTC),
        "Article number 2": datetime(2024, 3, 1, 8, tzinfo=UTC),
        "Article number 3": datetime(2024, 3, 1, tzinfo=UTC),
    }


def test_a_dry_run_names_duplicates_too(tmp_path: Path) -> None:
    write_article(tmp_path, "a.txt", article(1))
    write_article(tmp_path, "b.txt", article(1, title="Again"))
    report = load_paths(None, [tmp_path], LoadOptions(dry_run=True))
    assert [(Path(d.earlier).name, Path(d.later).name) for d in report.duplicates] == [
        ("a.txt", "b.txt")
    ]


def test_a_large_json_lines_file_loads_in_parts_with_its_line_numbers(
    tmp_path: Path, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "SPLIT_AT", 2000)  # a part is about 2 lines here
    lines = [json.dumps(article(n)) for n in range(30)]
    lines[17] = '{"title": "no url"}'
    (tmp_path / "big.jsonl").write_text("\n".join(lines) + "\n")
    spool = Spool()
    assert len(list(inputs.discover([tmp_path], spool))) >= 5  # really split
    spool.close()
    report = load_paths(db, [tmp_path])
    assert (report.files, report.inserted) == (1, 29)
    assert report.errors == [
        f"{tmp_path / 'big.jsonl'}:18: missing required fields: webUrl, publishedDateTime"
    ]


def test_gzipped_json_lines_load_in_parts_too(
    tmp_path: Path, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One worker would otherwise parse the whole file and hold all of it in memory.
    monkeypatch.setattr(inputs, "SPLIT_AT", 2000)
    lines = [json.dumps(article(n)) for n in range(30)]
    lines[21] = '{"title": "no url"}'
    with gzip.open(tmp_path / "feed.jsonl.gz", "wt") as out:
        out.write("\n".join(lines) + "\n")
    spool = Spool()
    try:
        tasks = list(inputs.discover([tmp_path], spool))
        assert len(tasks) >= 5
        assert {task.source for task in tasks} == {str(tmp_path / "feed.jsonl.gz")}
    finally:
        spool.close()
    report = load_paths(db, [tmp_path])
    assert (report.files, report.inserted) == (1, 29)
    assert report.errors == [
        f"{tmp_path / 'feed.jsonl.gz'}:22: missing required fields: webUrl, publishedDateTime"
    ]


def test_a_damaged_gzip_loads_up_to_the_damage_and_names_the_line(tmp_path: Path, db: Db) -> None:
    lines = "".join(json.dumps(article(n)) + "\n" for n in range(200))
    packed = gzip.compress(lines.encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])  # truncated
    write_article(tmp_path, "good.txt", article(500))
    report = load_paths(db, [tmp_path])
    (error,) = report.errors
    line = int(error.split(":")[1])
    assert error.startswith(f"{tmp_path / 'cut.jsonl.gz'}:{line}: cannot read:")
    assert "is it really gzip?" in error
    # Every whole line before the damage is stored, and the other input too.
    assert line > 50
    assert report.inserted == (line - 1) + 1
    assert db.articles.count_documents({"title": "Article number 500"}) == 1
    assert report.files == 2


def test_standard_input_is_read_once_in_parts_even_in_strict_mode(
    db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "SPLIT_AT", 2000)
    lines = "".join(json.dumps(article(n)) + "\n" for n in range(30))
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(lines.encode())))
    report = load_paths(db, [Path("-")], LoadOptions(strict=True, stdin_format="jsonl"))
    assert (report.files, report.inserted, report.rejected) == (1, 30, 0)


def test_a_killed_loaders_spool_is_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # its pid is free now: a loader killed with kill -9 looks the same
    orphan = tmp_path / f"newsgraph-load-{finished.pid}-abc"
    alive = tmp_path / f"newsgraph-load-{os.getpid()}-def"  # a loader still running
    for directory in (orphan, alive):
        directory.mkdir()
        (directory / "copy").write_bytes(b"{}\n")
    (tmp_path / "feed.jsonl.gz").write_bytes(gzip.compress(json.dumps(article(1)).encode()))
    spool = Spool()
    try:
        list(inputs.discover([tmp_path / "feed.jsonl.gz"], spool))
        assert not orphan.exists()
        assert alive.exists()
    finally:
        spool.close()
