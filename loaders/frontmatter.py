"""Split a file into its YAML front-matter block and parse it with libyaml."""

from __future__ import annotations

from typing import Any

import yaml


class InputError(ValueError):
    """An input that cannot become an article. ``line`` is 1-based, when known."""

    def __init__(self, reason: str, line: int | None = None, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.field = field

    def describe(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        what = f"{self.field}: {self.reason}" if self.field else self.reason
        return f"{where}: {what}"


def split_front_matter(text: str) -> str:
    """The YAML between the first line ``---`` and the next ``---`` (or ``...``) line."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise InputError("no front matter: the file must start with a '---' line", line=1)
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() in ("---", "..."):
            return "\n".join(lines[1 : number - 1])
    raise InputError("front matter is not closed: no second '---' line", line=1)


def parse_yaml_mapping(block: str, first_line: int = 2) -> dict[str, Any]:
    try:
        data = yaml.load(block, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = first_line + mark.line if mark else None
        column = f", column {mark.column + 1}" if mark else ""
        raise InputError(f"YAML syntax error{column}: {exc.problem}", line=line) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"front matter is a {type(data).__name__}, not a mapping", line=first_line)
    return data


def parse_front_matter(text: str) -> dict[str, Any]:
    return parse_yaml_mapping(split_front_matter(text))
