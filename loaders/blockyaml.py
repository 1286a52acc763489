"""Read the usual shape of front matter in pure Python, about twice as fast as
libyaml through PyYAML's binding: block mappings and sequences whose values are
one-line plain, single-quoted or double-quoted (one-character escapes only) scalars,
``[]`` or ``{}``, which is how YAML writers and people write articles.

This is a shortcut, not a second YAML parser. It returns None (declines) at the
first thing outside that shape or that it is not sure of: tabs, comments after a
value, multi-line scalars, flow collections, anchors, tags, unusual indentation. The
caller then reads the block with libyaml, which also reports every error. When it
does return a mapping, it is the mapping libyaml gives: plain scalars go through the
caller's resolver (``frontmatter.resolve_plain``), and a property test holds the two
readers to the same results.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


class _Declined(Exception):
    """Outside the shape this reader knows: the block is left to libyaml."""


# Each line as (indent, "- " or "", key or "", rest): a sequence entry and a key are
# both optional. A key is a plain identifier followed by ":" and a space or the end.
_LINE = re.compile(r"^( *)(- (?! ))?(?:([A-Za-z_]\w*):(?: +|$))?(.*)", re.MULTILINE | re.ASCII)
# A double-quoted scalar whose escapes are all single characters (no \x, \u, \U).
_DOUBLE_QUOTED = re.compile(r'"((?:[^"\\]|\\[0abtnvfre "/\\N_LP])*)"')
_ESCAPE = re.compile(r"\\(.)")
_ESCAPED = {
    **dict(zip("0abtnvfre", "\0\a\b\t\n\v\f\r\x1b", strict=True)),
    **{" ": " ", '"': '"', "/": "/", "\\": "\\"},
    **{"N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"},
}
# What a plain scalar may not start with (YAML's indicators): those are declined.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")

Line = tuple[int, str, str, str]  # indent, dash, key, value (stripped of end spaces)


def read_block_yaml(block: str, plain: Callable[[str], Any]) -> dict[Any, Any] | None:
    """The mapping in ``block``, or None when this reader is not sure of it."""
    if not block.replace("\n", " ").isprintable():
        # Tab, CR, NEL, the Unicode line separators, a BOM, control characters and a
        # few harmless ones (no-break space, soft hyphen, private use): a split on
        # "\n" could misread the first ones, and libyaml refuses some others.
        return None
    lines = [
        (len(indent), dash, key, value.rstrip(" "))
        for indent, dash, key, value in _LINE.findall(block)
        if dash or key or value[:1] not in ("", "#")  # not blank nor a comment
    ]
    if not lines:
        return None
    try:
        result, end = _Reader(lines, plain).mapping(0, 0)
    except _Declined:
        return None
    return result if end == len(lines) else None


class _Reader:
    """Reads ``lines``: one method per kind of block node, each taking the line to
    start at and returning the node and the line after it."""

    def __init__(self, lines: list[Line], plain: Callable[[str], Any]) -> None:
        self.lines = lines
        self.plain = plain

    def mapping(self, at: int, column: int) -> tuple[dict[Any, Any], int]:
        """The mapping whose keys sit at ``column``; its first key is on line ``at``,
        which may be a sequence entry's line (``- key: value``)."""
        lines, plain = self.lines, self.plain
        count = len(lines)
        result: dict[Any, Any] = {}
        start = at
        while at < count:
            indent, dash, key, value = lines[at]
            if dash:
                if at != start:  # an enclosing sequence's entry (or an error it sees)
                    break
                indent += 2
            if indent != column:
                if indent < column:
                    break
                raise _Declined  # deeper: a continuation line
            if not key:
                raise _Declined  # a scalar among keys
            at += 1
            if value:
                result[plain(key)] = _scalar(value, plain)
            else:
                result[plain(key)], at = self.block(at, column)
        return result, at

    def block(self, at: int, column: int) -> tuple[Any, int]:
        """The value of a key with nothing after its colon: the block on the next
        lines (``column`` is the key's), or null when there is none."""
        if at == len(self.lines):
            return None, at
        indent, dash, _, _ = self.lines[at]
        if dash and indent >= column:  # at the key's column too: a compact sequence
            return self.sequence(at, indent)
        if indent > column:
            return self.mapping(at, indent)
        return None, at

    def sequence(self, at: int, column: int) -> tuple[list[Any], int]:
        lines, plain = self.lines, self.plain
        count = len(lines)
        result: list[Any] = []
        while at < count:
            indent, dash, key, value = lines[at]
            if indent < column or (indent == column and not dash):
                break  # the enclosing mapping checks what follows
            if indent > column or not dash:
                raise _Declined
            if key:
                item, at = self.mapping(at, column + 2)
                result.append(item)
            elif not value:
                raise _Declined  # the entry's value is on the next lines
            else:
                at += 1
                result.append(_scalar(value, plain))
        return result, at


def _scalar(text: str, plain: Callable[[str], Any]) -> Any:
    """A one-line scalar. (A deeper line after it, which would continue it, is
    declined by the loop that reads that line.)"""
    first = text[0]
    if first not in _INDICATORS:  # plain, the usual case
        if ": " in text or " #" in text or text[-1] == ":":
            raise _Declined
        return plain(text)
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Declined
        return inner.replace("''", "'")
    if first == '"':
        quoted = _DOUBLE_QUOTED.fullmatch(text)
        if quoted is None:
            raise _Declined
        inner = quoted[1]
        return _ESCAPE.sub(_unescape, inner) if "\\" in inner else inner
    if text == "[]":
        return []
    if text == "{}":
        return {}
    raise _Declined


def _unescape(match: re.Match[str]) -> str:
    return _ESCAPED[match[1]]
