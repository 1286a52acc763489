"""Property: whatever the front matter, the loader never crashes, and every input is
either loaded or reported."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient
from pymongo.database import Database

from loaders.inputs import DEFAULT_MAX_SIZE, Task
from loaders.load import load_paths
from loaders.parse import Parsed, Rejected, parse_task
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
