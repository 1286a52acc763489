"""Split a file into its YAML front-matter block and parse it with libyaml, safely.

Safe here means more than ``yaml.CSafeLoader``: anchors and aliases are refused (an
alias bomb fails at its first anchor, before anything is built), so are explicit tags
(``!!python/object``, ``!!binary``...), and timestamps stay text so that the article
model validates them and names the field when a date is impossible.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from loaders.blockyaml import read_block_yaml
from loaders.errors import InputError

TIMESTAMP = "tag:yaml.org,2002:timestamp"
STR = "tag:yaml.org,2002:str"


class ArticleYamlLoader(yaml.CSafeLoader):
    """libyaml's safe loader without implicit timestamps."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }


def split_front_matter(text: str) -> tuple[str, int]:
    """The YAML between the first line ``---`` and the next ``---`` (or ``...``) line,
    and the file line the block starts on."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InputError("empty file")
    first, _, rest = text.partition("\n")
    if first.strip() != "---":
        raise InputError("no front matter: the file must start with a '---' line", line=1)
    end = _closing_line(rest)
    if end < 0:
        raise InputError("front matter is not closed: no second '---' line", line=1)
    return rest[:end], 2


_MARKER_LINE_END = re.compile(r"[ \t]*\r?(?:\n|\Z)")


def _closing_line(rest: str) -> int:
    """Where the first line that is only ``---`` or ``...`` starts; -1 if none. A
    search for the two markers, not a regex over every line: it runs once per file."""
    lined = "\n" + rest  # so that a marker on the first line follows a newline too
    found = -1
    for marker in ("\n---", "\n..."):
        at = lined.find(marker)
        while at >= 0 and (found < 0 or at < found):
            if _MARKER_LINE_END.match(lined, at + 4):
                found = at  # the line starts at at + 1 in lined: at in rest
                break
            at = lined.find(marker, at + 1)
    return found


_constructor = SafeConstructor()
_SCALARS = {
    "tag:yaml.org,2002:null": SafeConstructor.construct_yaml_null,
    "tag:yaml.org,2002:bool": SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": SafeConstructor.construct_yaml_int,
    "tag:yaml.org,2002:float": SafeConstructor.construct_yaml_float,
}
_RESOLVERS = ArticleYamlLoader.yaml_implicit_resolvers
_plain_values: dict[str, Any] = {}  # keys and short values repeat in every article
_NOT_CACHED = object()


def resolve_plain(value: str) -> Any:
    """The Python value of a plain (unquoted) scalar, as SafeConstructor reads it."""
    resolvers = _RESOLVERS.get(value[:1])
    if resolvers is None:  # most text: no implicit type starts with its first character
        return value
    result = _plain_values.get(value, _NOT_CACHED)
    if result is not _NOT_CACHED:
        return result
    tag = STR
    for candidate, regexp in resolvers:
        if regexp.match(value):
            tag = candidate
            break
    convert = _SCALARS.get(tag)
    result = value if convert is None else convert(_constructor, yaml.ScalarNode(tag, value))
    if len(value) <= 32 and len(_plain_values) < 10_000:
        _plain_values[value] = result
    return result


def load_yaml(block: str, first_line: int) -> Any:
    """The one YAML document in ``block`` as Python values: through the pure-Python
    shortcut for the usual shape of front matter when it is sure of the block (see
    loaders.blockyaml), through libyaml otherwise."""
    simple = read_block_yaml(block, resolve_plain)
    return simple if simple is not None else read_yaml_events(block, first_line)


def read_yaml_events(block: str, first_line: int) -> Any:
    """The one YAML document in ``block`` as Python values, built straight from
    libyaml's events: what ``yaml.load`` with CSafeLoader returns for front matter
    (timestamps left as text), in about half its time. Anchors, aliases, tags, merge
    keys and non-scalar keys are refused at the first one, before anything grows."""
    parser = ArticleYamlLoader(block)
    try:
        return _build(parser, first_line)
    finally:
        parser.dispose()


_NO_KEY = object()  # a mapping waiting for its next key


def _build(parser: yaml.CSafeLoader, first_line: int) -> Any:
    get: Callable[[], Any] = parser.get_event  # the stubs' Event lacks most attributes
    get()  # StreamStart
    start = get()
    if start.__class__ is yaml.StreamEndEvent:
        return None
    if start.tags:
        raise InputError("YAML %TAG directives are not accepted", line=first_line)
    stack: list[tuple[Any, Any]] = []  # the enclosing containers and their pending keys
    container: Any = None
    key: Any = _NO_KEY
    while True:
        event = get()
        kind = event.__class__
        if kind is yaml.ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                _refuse(event, first_line)
            if not event.implicit[0]:  # quoted or block text: a string as written
                value = event.value
            elif event.value == "<<" and key is _NO_KEY and container.__class__ is dict:
                raise InputError(
                    "YAML merge keys (<<) are not accepted", line=_line(event, first_line)
                )
            else:
                value = resolve_plain(event.value)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                _refuse(event, first_line)
            if key is _NO_KEY and container.__class__ is dict:
                raise InputError(
                    "a YAML mapping key must be a plain value", line=_line(event, first_line)
                )
            stack.append((container, key))
            container, key = ({} if kind is yaml.MappingStartEvent else []), _NO_KEY
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            value = container
            container, key = stack.pop()
        else:  # an alias: nothing else comes before the root value is complete
            _refuse(event, first_line)
        if container is None:  # the root value is complete
            _expect_end(parser, first_line)
            return value
        if container.__class__ is list:
            container.append(value)
        elif key is _NO_KEY:
            key = value
        else:
            container[key] = value
            key = _NO_KEY


def _line(event: Any, first_line: int) -> int:
    return first_line + event.start_mark.line


def _refuse(event: Any, first_line: int) -> None:
    if event.__class__ is yaml.AliasEvent or getattr(event, "anchor", None) is not None:
        raise InputError("YAML anchors and aliases are not accepted", line=_line(event, first_line))
    raise InputError(f"YAML tags are not accepted: {event.tag}", line=_line(event, first_line))


def _expect_end(parser: yaml.CSafeLoader, first_line: int) -> None:
    parser.get_event()  # DocumentEnd
    event: Any = parser.get_event()
    if event.__class__ is not yaml.StreamEndEvent:
        raise InputError("more than one YAML document", line=_line(event, first_line))


def parse_yaml_mapping(block: str, first_line: int = 2) -> dict[str, Any]:
    """The mapping in a YAML block; InputError with the line (and column) otherwise."""
    try:
        data = load_yaml(block, first_line)
    except yaml.MarkedYAMLError as exc:
        raise yaml_syntax_error(exc, first_line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}") from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise InputError(f"front matter is {kind}, not a mapping", line=first_line)
    return data


def _file_position(mark: Any, first_line: int) -> str:
    return f"line {first_line + mark.line}, column {mark.column + 1}"


def yaml_syntax_error(exc: yaml.MarkedYAMLError, first_line: int) -> InputError:
    """PyYAML's error in file lines. When it names a context (``while parsing a flow
    sequence``), the error is reported on the line that context starts on, where the
    mistake was made: an unclosed ``[`` is only noticed at the next line or the end."""
    mark = exc.context_mark or exc.problem_mark
    if mark is None:
        return InputError(f"YAML syntax error: {exc.problem}")
    where = f"YAML syntax error, column {mark.column + 1}"
    if exc.context_mark is None:
        return InputError(f"{where}: {exc.problem}", line=first_line + mark.line)
    context = f"{exc.context} in {_file_position(exc.context_mark, first_line)}"
    problem = exc.problem or "unexpected text"
    if exc.problem_mark is not None:
        problem += f" in {_file_position(exc.problem_mark, first_line)}"
    return InputError(f"{where}: {context}: {problem}", line=first_line + mark.line)


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
