"""Turn one input into parsed articles and rejections. Runs in the worker processes:
everything here is CPU work, and what goes back to the writer is small (BSON bytes
plus the keys the counts need)."""

from __future__ import annotations

from typing import Any, NamedTuple

import bson
import orjson

from loaders.errors import InputError
from loaders.frontmatter import line_of_field, parse_front_matter
from loaders.inputs import Task, Unusable, decode, open_input, read_limited, read_lines
from loaders.normalise import normalise_article, unknown_fields


# NamedTuples, not dataclasses: they cross from the workers pickled as plain tuples,
# which the main process unpickles several times faster.
class Parsed(NamedTuple):
    """A valid article, ready to write."""

    source: str
    id: str
    content_hash: str
    domain: str
    topic_keys: tuple[str, ...]
    category: str | None
    bson: bytes
    unknown: tuple[str, ...] = ()


class Rejected(NamedTuple):
    source: str
    reason: str  # "path[:line]: field.path: reason"


Item = Parsed | Rejected


def _article(raw: Any, source: str) -> Parsed:
    doc = normalise_article(raw)
    return Parsed(
        source=source,
        id=doc["_id"],
        content_hash=doc["contentHash"],
        domain=doc["provider"]["domain"],
        topic_keys=tuple(doc["topicKeys"]),
        category=doc.get("category"),
        bson=bson.encode(doc),
        unknown=tuple(unknown_fields(raw)),
    )


def _front_matter(task: Task) -> list[Item]:
    with open_input(task) as stream:
        data = read_limited(stream, task.max_size)
    raw, block, first_line = parse_front_matter(decode(data))
    try:
        return [_article(raw, task.source)]
    except InputError as exc:
        if exc.field and exc.line is None:
            exc.line = line_of_field(block, exc.field, first_line)
        raise


def _json_error(exc: orjson.JSONDecodeError, line: int | None) -> InputError:
    return InputError(f"JSON syntax error, column {exc.colno}: {exc.msg}", line=line)


def _rejected(exc: InputError, source: str) -> Rejected:
    return Rejected(source, exc.describe(source))


def _json(task: Task) -> list[Item]:
    with open_input(task) as stream:
        data = read_limited(stream, task.max_size)
    text = decode(data)
    if not text.strip():
        raise InputError("empty file")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _json_error(exc, exc.lineno) from None
    if not isinstance(value, list):
        return [_article(value, task.source)]
    items: list[Item] = []
    for index, raw in enumerate(value):
        source = f"{task.source}[{index}]"
        try:
            items.append(_article(raw, source))
        except InputError as exc:
            items.append(_rejected(exc, source))
    if not items:
        raise InputError("empty list: no articles")
    return items


def _json_lines(task: Task) -> list[Item]:
    items: list[Item] = []
    with open_input(task) as stream:
        stream.seek(task.start)
        for number, line in read_lines(stream, task.max_size, task.first_line, task.end):
            source = f"{task.source}:{number}"
            try:
                item = _json_line(line, source)
            except InputError as exc:
                items.append(_rejected(exc, source))
            else:
                if item is not None:
                    items.append(item)
    if not items and not task.continues:
        raise InputError("empty file: no JSON lines")
    return items


def _json_line(line: bytes | InputError, source: str) -> Parsed | None:
    """The line's article; None for a blank line (skipped, not an error)."""
    if isinstance(line, InputError):
        raise line
    text = decode(line)
    if not text.strip():
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _json_error(exc, None) from None
    return _article(value, source)


PARSERS = {"frontmatter": _front_matter, "json": _json, "jsonl": _json_lines}


def parse_task(task: Task | Unusable) -> list[Item]:
    """Every article in one input, or the reasons it was rejected. Never raises for
    bad input: an unexpected failure is reported as a rejection naming the input."""
    if isinstance(task, Unusable):
        return [Rejected(task.source, f"{task.source}: {task.reason}")]
    try:
        return PARSERS[task.fmt](task)
    except InputError as exc:
        return [_rejected(exc, task.source)]
    except RecursionError:
        return [Rejected(task.source, f"{task.source}: nested too deeply")]
    except Exception as exc:  # a bug, not bad input: say so, keep loading the rest
        return [Rejected(task.source, f"{task.source}: internal error: {exc!r} (please report)")]


def parse_tasks(tasks: list[Task | Unusable]) -> list[list[Item]]:
    """A chunk of tasks in one worker round trip."""
    return [parse_task(task) for task in tasks]
