"""Property: whatever the front matter, the loader never crashes, and every input is
either loaded or reported."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient
from pymongo.database import Database

from loaders.errors import InputError
from loaders.frontmatter import ArticleYamlLoader, read_yaml_events, split_front_matter
from loaders.inputs import DEFAULT_MAX_SIZE, Task
from loaders.load import load_paths
from loaders.parse import Parsed, Rejected, parse_task
from loaders.urls import canonical_url, canonical_url_parsed
from tests.articles import article

FIELDS = list(article(0))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["https://x.example/a", "2024-02-30T10:00:00Z", "", "  ", "ftp://x", "€‚ƒ"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def mutated_article(draw: st.DrawFn) -> str:
    """A valid article's front matter with some fields dropped, retyped or added, or
    its text cut or spliced with raw YAML."""
    doc = article(draw(st.integers(0, 50)))
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        if draw(st.booleans()):
            doc.pop(field, None)
        else:
            doc[field] = draw(values)
    if draw(st.booleans()):
        doc[draw(st.text(min_size=1, max_size=8))] = draw(values)
    text = "---\n" + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False) + "---\n"
    cut = draw(st.one_of(st.none(), st.integers(0, len(text))))
    if cut is not None:
        splice = draw(
            st.sampled_from(["", "&a x", "*a", "!!python/object {}", ": :", "\t", "[", "\x00"])
        )
        text = text[:cut] + splice + text[cut:]
    return text


@pytest.fixture(scope="module")
def scratch(mongo_client: MongoClient[dict[str, Any]]) -> Iterator[Database[dict[str, Any]]]:
    db = mongo_client[f"ngtest_property_{uuid.uuid4().hex[:8]}"]
    yield db
    mongo_client.drop_database(db.name)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(mutated_article(), min_size=1, max_size=6), raw=st.binary(max_size=200))
def test_every_input_is_loaded_or_reported(
    scratch: Database[dict[str, Any]], texts: list[str], raw: bytes
) -> None:
    for name in scratch.list_collection_names():
        scratch[name].delete_many({})  # emptied, not dropped: indexes stay, like a re-run
    directory = Path(tempfile.mkdtemp(prefix="ngprop-"))
    try:
        for number, text in enumerate(texts):
            (directory / f"{number:02d}.txt").write_text(text, encoding="utf-8")
        (directory / "raw.txt").write_bytes(raw)
        report = load_paths(scratch, [directory])
        inputs = len(texts) + 1
        assert report.files == inputs
        # Each input gave one article or one rejection naming it.
        assert (
            report.inserted
            + report.updated
            + report.unchanged
            + report.superseded
            + report.rejected
            == inputs
        )
        for error in report.errors:
            assert error.startswith(str(directory / ""))
            assert "internal error" not in error
        stored = scratch.articles.count_documents({})
        assert stored == report.inserted  # every inserted article is in MongoDB
    finally:
        shutil.rmtree(directory)


@settings(max_examples=60, deadline=None)
@given(text=mutated_article())
def test_parsing_never_crashes_and_names_the_input(text: str) -> None:
    """Many more examples than the database test, on the parsing side alone."""
    with tempfile.TemporaryDirectory(prefix="ngprop-") as directory:
        path = Path(directory) / "a.txt"
        path.write_text(text, encoding="utf-8")
        (item,) = parse_task(Task(str(path), "frontmatter", DEFAULT_MAX_SIZE, path=str(path)))
    if isinstance(item, Rejected):
        assert item.reason.startswith(f"{path}")
        assert "internal error" not in item.reason
    else:
        assert isinstance(item, Parsed)
        assert bson.decode(item.bson)["_id"] == item.id


# Plain scalars that YAML's implicit resolvers read as something other than text, or
# nearly do: the event-driven reader must read each exactly as PyYAML does.
TRICKY = ["yes", "No", "~", "null", "", "0x1F", "0o17", "0b101", "1_000", "+12", "-0",
          "1e3", "1.5e-3", ".inf", "-.Inf", ".nan", "190:20:30", "2024-01-01", "<<x",
          "a: b", "3.", "01", "True", "tRue", "é", "a b", "0.1.2"]  # fmt: skip
plain = st.sampled_from(TRICKY) | st.from_regex(r"[A-Za-z0-9_.+-]{1,6}", fullmatch=True)


def _flow(draw: st.DrawFn, depth: int) -> str:
    choice = draw(st.integers(0, 3 if depth < 3 else 1))
    if choice == 0:
        return draw(plain)
    if choice == 1:
        return yaml.safe_dump(draw(st.text(max_size=6)), default_style='"').strip()
    if choice == 2:
        return "[" + ", ".join(_flow(draw, depth + 1) for _ in range(draw(st.integers(0, 3)))) + "]"
    keys = draw(st.lists(plain.filter(lambda k: k and k != "<<" and ":" not in k), max_size=3))
    return "{" + ", ".join(f"{k}: {_flow(draw, depth + 1)}" for k in keys) + "}"


@st.composite
def yaml_block(draw: st.DrawFn) -> str:
    keys = draw(st.lists(st.from_regex(r"[a-z]{1,5}", fullmatch=True), min_size=1, max_size=5))
    lines = []
    for key in keys:
        if draw(st.booleans()):
            lines.append(f"{key}: {_flow(draw, 0)}")
        else:
            lines.append(f"{key}:")
            lines.extend(f"- {_flow(draw, 1)}" for _ in range(draw(st.integers(1, 3))))
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None)
@given(block=yaml_block())
def test_the_event_reader_reads_yaml_as_pyyaml_does(block: str) -> None:
    try:
        expected = yaml.load(block, Loader=ArticleYamlLoader)
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):
            read_yaml_events(block, 2)
        return
    assert repr(read_yaml_events(block, 2)) == repr(expected)  # repr: nan equals itself


URL_PARTS = [*"aB:/.@-_%~;=&+,!$'()*[]1?#", "HTTP", "https", "://", "www.", "Ä", "\t", "utm_x"]


@settings(max_examples=3000, deadline=None)
@given(url=st.lists(st.sampled_from(URL_PARTS), max_size=20).map("".join))
def test_the_canonical_url_shortcut_agrees_with_urllib(url: str) -> None:
    def outcome(canonical: Callable[[str], str], url: str) -> str:
        try:
            return canonical(url)
        except ValueError as exc:  # urllib refuses some malformed hosts
            return f"ValueError: {exc}"

    for prefix in ("", "https://", "HTTP://Www.X.com/"):
        assert outcome(canonical_url, prefix + url) == outcome(canonical_url_parsed, prefix + url)


LINE_PARTS = ["---", "...", "\n", " ", "\t", "\r", "a", "-- ", "....", "x: 1", "\r\n", "\ufeff"]


@settings(max_examples=2000, deadline=None)
@given(body=st.lists(st.sampled_from(LINE_PARTS), max_size=12).map("".join))
def test_the_block_ends_at_the_first_marker_line(body: str) -> None:
    """split_front_matter searches for the closing line with str.find; YAML's rule
    is this regex over every line."""
    text = "---\n" + body
    match = re.search(r"^(?:---|\.\.\.)[ \t]*\r?$", body, flags=re.MULTILINE)
    if match is None:
        with pytest.raises(InputError, match="not closed"):
            split_front_matter(text)
    else:
        assert split_front_matter(text) == (body[: match.start()], 2)
