"""Split a file into its YAML front-matter block and parse it with libyaml, safely.

Safe here means more than ``yaml.CSafeLoader``: anchors and aliases are refused (an
alias bomb fails at its first anchor, before anything is built), so are explicit tags
(``!!python/object``, ``!!binary``...), and timestamps stay text so that the article
model validates them and names the field when a date is impossible.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from loaders.errors import InputError

TIMESTAMP = "tag:yaml.org,2002:timestamp"
STR = "tag:yaml.org,2002:str"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"


class ArticleYamlLoader(yaml.CSafeLoader):
    """libyaml's safe loader without implicit timestamps."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        # Resolver.resolve without path resolvers (unused here): called for every node.
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        return str(tag)
            return STR
        return SEQ if kind is yaml.SequenceNode else MAP


# Anchors (&), aliases (*) and tags (!) cannot appear without one of these characters;
# most articles have none of them and skip the event scan.
_SUSPECT = re.compile(r"[&*!%]")


def split_front_matter(text: str) -> tuple[str, int]:
    """The YAML between the first line ``---`` and the next ``---`` (or ``...``) line,
    and the file line the block starts on."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InputError("empty file")
    first, _, rest = text.partition("\n")
    if first.strip() != "---":
        raise InputError("no front matter: the file must start with a '---' line", line=1)
    for match in re.finditer(r"^(?:---|\.\.\.)[ \t]*\r?$", rest, flags=re.MULTILINE):
        return rest[: match.start()], 2
    raise InputError("front matter is not closed: no second '---' line", line=1)


def _refuse_anchors_and_tags(block: str, first_line: int) -> None:
    for event in yaml.parse(block, Loader=ArticleYamlLoader):
        line = first_line + event.start_mark.line if event.start_mark else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise InputError("YAML anchors and aliases are not accepted", line=line)
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise InputError(f"YAML tags are not accepted: {tag}", line=line)
        if isinstance(event, yaml.DocumentStartEvent) and event.tags:
            raise InputError("YAML %TAG directives are not accepted", line=line)


MERGE = "tag:yaml.org,2002:merge"
_constructor = SafeConstructor()
_SCALARS = {
    "tag:yaml.org,2002:null": SafeConstructor.construct_yaml_null,
    "tag:yaml.org,2002:bool": SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": SafeConstructor.construct_yaml_int,
    "tag:yaml.org,2002:float": SafeConstructor.construct_yaml_float,
}


def _to_python(node: yaml.Node, first_line: int) -> Any:
    """The Python value of a composed node. What ``SafeConstructor`` does for the
    values front matter holds, in a third of its time (it is most of the parsing)."""
    kind = node.__class__
    if isinstance(node, yaml.ScalarNode):
        convert = _SCALARS.get(node.tag)
        return node.value if convert is None else convert(_constructor, node)
    if kind is yaml.SequenceNode:
        return [_to_python(item, first_line) for item in node.value]
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        line = first_line + key_node.start_mark.line
        if key_node.tag == MERGE:
            raise InputError("YAML merge keys (<<) are not accepted", line=line)
        if key_node.__class__ is not yaml.ScalarNode:
            raise InputError("a YAML mapping key must be a plain value", line=line)
        mapping[_to_python(key_node, first_line)] = _to_python(value_node, first_line)
    return mapping


def load_yaml(block: str, first_line: int) -> Any:
    loader = ArticleYamlLoader(block)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    return None if node is None else _to_python(node, first_line)


def parse_yaml_mapping(block: str, first_line: int = 2) -> dict[str, Any]:
    """The mapping in a YAML block; InputError with the line (and column) otherwise."""
    try:
        if _SUSPECT.search(block):
            _refuse_anchors_and_tags(block, first_line)
        data = load_yaml(block, first_line)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else None
        column = f", column {mark.column + 1}" if mark else ""
        raise InputError(f"YAML syntax error{column}: {exc.problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}") from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise InputError(f"front matter is {kind}, not a mapping", line=first_line)
    return data


def parse_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """The front-matter mapping, its YAML text and the line that text starts on."""
    block, first_line = split_front_matter(text)
    return parse_yaml_mapping(block, first_line), block, first_line


_PATH_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def line_of_field(block: str, field: str, first_line: int) -> int | None:
    """The file line of a field path such as ``related[1].webUrl`` in a YAML block
    already known to parse; None when the field is not there (a missing field)."""
    node = yaml.compose(block, Loader=ArticleYamlLoader)
    for index, key in _PATH_PART.findall(field):
        if isinstance(node, yaml.SequenceNode) and index:
            position = int(index)
            node = node.value[position] if position < len(node.value) else None
        elif isinstance(node, yaml.MappingNode) and key:
            node = next((v for k, v in node.value if k.value == key), None)
        else:
            node = None
        if node is None:
            return None
    return first_line + node.start_mark.line if node is not None else None
