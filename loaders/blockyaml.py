"""Read the usual shape of front matter in pure Python, about twice as fast as
libyaml through PyYAML's binding: block mappings and sequences whose values are
one-line plain, single-quoted or double-quoted (without escapes) scalars, ``[]`` or
``{}``, which is how YAML writers and people write articles.

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
    reader = _Reader(lines, plain)
    try:
        result = reader.mapping(0, 0)
    except _Declined:
        return None
    return result if reader.at == len(lines) else None


class _Reader:
    """Reads ``lines`` from ``at`` on: one method per kind of block node."""

    def __init__(self, lines: list[Line], plain: Callable[[str], Any]) -> None:
        self.lines = lines
        self.at = 0
        self.plain = plain

    def mapping(self, start: int, column: int) -> dict[Any, Any]:
        """The mapping whose keys sit at ``column``; its first key is on line
        ``start``, which may be a sequence entry's line (``- key: value``)."""
        lines, count = self.lines, len(self.lines)
        result: dict[Any, Any] = {}
        self.at = start
        while self.at < count:
            indent, dash, key, value = lines[self.at]
            if dash:
                if self.at != start:  # an enclosing sequence's entry (or an error it sees)
                    break
                indent += 2
            if indent != column:
                if indent < column:
                    break
                raise _Declined  # deeper: a continuation line
            if not key:
                raise _Declined  # a scalar among keys
            self.at += 1
            result[self.plain(key)] = self.value(value, column)
        return result

    def value(self, text: str, column: int) -> Any:
        """A key's value: inline, or the block on the next lines (``column`` is the
        key's); null when there is neither."""
        if text:
            return self.scalar(text)
        if self.at == len(self.lines):
            return None
        indent, dash, _, _ = self.lines[self.at]
        if dash and indent >= column:  # at the key's column too: a compact sequence
            return self.sequence(indent)
        if indent > column:
            return self.mapping(self.at, indent)
        return None

    def sequence(self, column: int) -> list[Any]:
        lines, count = self.lines, len(self.lines)
        result: list[Any] = []
        while self.at < count:
            indent, dash, key, value = lines[self.at]
            if indent < column or (indent == column and not dash):
                break  # the enclosing mapping checks what follows
            if indent > column or not dash:
                raise _Declined
            if key:
                result.append(self.mapping(self.at, column + 2))
            elif not value:
                raise _Declined  # the entry's value is on the next lines
            else:
                self.at += 1
                result.append(self.scalar(value))
        return result

    def scalar(self, text: str) -> Any:
        """A one-line scalar. (A deeper line after it, which would continue it, is
        declined by the loop that reads that line.)"""
        first = text[0]
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
        if first in _INDICATORS or ": " in text or " #" in text or text[-1] == ":":
            raise _Declined
        return self.plain(text)


def _unescape(match: re.Match[str]) -> str:
    return _ESCAPED[match[1]]
