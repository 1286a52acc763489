"""The pure-Python shortcut for block YAML (loaders.blockyaml) must read every block
it accepts exactly as libyaml does, and must accept the usual shape of articles."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.blockyaml import read_block_yaml
from loaders.frontmatter import read_yaml_events, resolve_plain, split_front_matter
from tests.articles import article

ROOT = Path(__file__).resolve().parent.parent

# Text that YAML reads in more than one way depending on where it sits and how it is
# quoted: indicators, comments, colons, quotes, escapes, odd whitespace and resolvable
# plain scalars (booleans, nulls, numbers in several bases, dates).
PIECES = ["yes", "No", "on", "~", "null", "0x1F", "0o17", "1_000", "+12", "-0", "1e3",
          ".inf", ".nan", "190:20:30", "2024-01-01", "2020-02-27T21:48:00Z", "01", "3.",
          "a: b", "a #b", "a#b", "b:", "a:b", "-1", "- x", "-", "?", "? x", "[]", "{}",
          "[a]", "{a: 1}", "&x", "*x", "!x", "!!str", "|", ">", "%x", "@x", "`x", "<<",
          "it's", "''", "'", '"', '\\"', "\\", "\\x41", "\\n", "é", "\xa0", "\t", "\u2028",
          "\x85", "\ufeff", " ", "  ", "#", "---", "...", ",", "true", "False", "word"]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=4).map("".join) | st.text(max_size=6)
keys = st.sampled_from(["a", "b", "title", "yes", "null", "True", "on", "x_1", "_"]) | (
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
)


@st.composite
def scalar(draw: st.DrawFn) -> str:
    """One scalar as it could be written: plain, quoted or wrongly quoted."""
    text = draw(texts)
    style = draw(st.sampled_from(["plain", "single", "double", "dumped", "raw-quote"]))
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "double":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if style == "dumped":
        return yaml.safe_dump(text, default_style='"', width=10**6).removesuffix("\n...\n").strip()
    if style == "raw-quote":
        return draw(st.sampled_from(["'", '"'])) + text + draw(st.sampled_from(["'", '"', ""]))
    return text


def _mapping(draw: st.DrawFn, indent: int, depth: int, first_prefix: str = "") -> list[str]:
    lines = []
    for number in range(draw(st.integers(1, 3))):
        pad = first_prefix if number == 0 and first_prefix else " " * indent
        lines.extend(_entry(draw, pad + draw(keys) + ":", indent, depth))
    return lines


def _entry(draw: st.DrawFn, head: str, indent: int, depth: int) -> list[str]:
    kind = draw(
        st.sampled_from(["scalar", "scalar", "empty", "map", "seq"] if depth < 3 else ["scalar"])
    )
    if kind == "scalar":
        return [head + draw(st.sampled_from([" ", "  ", ""])) + draw(scalar())]
    if kind == "empty":
        return [head + draw(st.sampled_from(["", " ", " []", " {}", " # note"]))]
    inner = indent + draw(st.sampled_from([0, 1, 2, 4]))
    if kind == "map":
        return [head, *_mapping(draw, max(inner, indent + 1), depth + 1)]
    return [head, *_sequence(draw, inner, depth + 1)]


def _sequence(draw: st.DrawFn, indent: int, depth: int) -> list[str]:
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        dash = " " * indent + draw(st.sampled_from(["- ", "- ", "-  ", "-"]))
        if draw(st.booleans()) or depth >= 3:
            lines.append(dash + draw(scalar()))
        elif draw(st.booleans()):
            lines.extend(_mapping(draw, indent + len(dash), depth + 1, first_prefix=dash))
        else:
            lines.extend([dash.rstrip(), *_sequence(draw, indent + 2, depth + 1)])
    return lines


@st.composite
def block(draw: st.DrawFn) -> str:
    """Block YAML the way articles are written, then perhaps disturbed: a line
    shifted, dropped, doubled, or a blank or comment line put in."""
    lines = _mapping(draw, 0, 0)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(lines) - 1))
        change = draw(st.sampled_from(["shift", "unshift", "drop", "double", "blank", "comment"]))
        if change == "shift":
            lines[at] = " " + lines[at]
        elif change == "unshift":
            lines[at] = lines[at].removeprefix(" ")
        elif change == "drop" and len(lines) > 1:
            del lines[at]
        elif change == "double":
            lines.insert(at, lines[at])
        else:
            lines.insert(at, "" if change == "blank" else " " * draw(st.integers(0, 3)) + "# c")
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "  \n"]))


@settings(max_examples=1000, deadline=None)
@given(text=block())
def test_what_the_shortcut_reads_libyaml_reads_the_same(text: str) -> None:
    result = read_block_yaml(text, resolve_plain)
    if result is None:
        return  # declined: libyaml reads it (or reports its error)
    # The reader it stands in for (itself held to PyYAML's results in
    # test_ingest_property). repr: types count, 1 is not True.
    assert repr(result) == repr(read_yaml_events(text, 2))


def test_the_shortcut_reads_the_usual_shape_of_articles() -> None:
    """Declining everything would be correct and useless: articles as the seeds and
    YAML writers shape them must go through the shortcut."""
    blocks = [split_front_matter(path.read_text("utf-8"))[0] for path in ROOT.glob("seeds/*.txt")]
    blocks += [yaml.safe_dump(article(number), allow_unicode=True) for number in range(50)]
    blocks.append("a: \"say \\\"hi\\\"\\n\"\nb: 'it''s'\nc:\n- 1\n- x\nd: []\ne: {}\n")
    for text in blocks:
        result = read_block_yaml(text, resolve_plain)
        assert result is not None, text
        assert repr(result) == repr(read_yaml_events(text, 2))


def test_the_shortcut_declines_what_it_cannot_be_sure_of() -> None:
    for text in [
        "a: &x 1\nb: *x\n",  # anchors and aliases: refused by the full reader
        "a: !!python/object {}\n",
        "a: b\n  c\n",  # a plain scalar on two lines
        "a:\tb\n",
        "a: 'x\n  y'\n",
        "a: [1, 2]\n",
        "a: |\n  text\n",
        "a: x # note\n",
        "- a\n",  # not a mapping
        '"a": 1\n',  # a quoted key
        "a: 1\r\nb: 2\r\n",
        "a: \u2028\n",
        'a: "\\x41"\n',
    ]:
        assert read_block_yaml(text, resolve_plain) is None, text
