"""Scalars as the schema serializes them, for values that are already of the right
type. Any other value raises ``Unclean``: the request then runs on the reference
path, which gives graphql-core's own coercion or error for it."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.execution.plan import FieldPlan, Rule
    from api.execution.run import Run

MAX_INT = 2**31 - 1
MIN_INT = -(2**31)


class Unclean(Exception):
    """A value the compiled path does not serialize itself."""


def string(value: Any) -> str:
    if type(value) is str:
        return value
    raise Unclean(f"not a string: {value!r}")


def opt_string(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise Unclean(f"not a string: {value!r}")


def integer(value: Any) -> int:
    if type(value) is int and MIN_INT <= value <= MAX_INT:
        return value
    raise Unclean(f"not a 32-bit integer: {value!r}")


def opt_integer(value: Any) -> int | None:
    if value is None or (type(value) is int and MIN_INT <= value <= MAX_INT):
        return value
    raise Unclean(f"not a 32-bit integer: {value!r}")


def opt_float(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) is float and math.isfinite(value):
        return value
    raise Unclean(f"not a finite float: {value!r}")


def floating(value: Any) -> float:
    if value is None:
        raise Unclean("null for a non-null float")
    result = opt_float(value)
    assert result is not None
    return result


def opt_boolean(value: Any) -> bool | None:
    if value is None or type(value) is bool:
        return value
    raise Unclean(f"not a boolean: {value!r}")


def boolean(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise Unclean(f"not a boolean: {value!r}")


def date_time(value: Any) -> datetime:
    """Strawberry's DateTime, ``isoformat()``: left a datetime, which orjson writes as
    that same text for every datetime BSON holds (milliseconds, UTC or naive), without
    a call per value (tests/test_execution_values.py)."""
    if type(value) is datetime:
        return value
    raise Unclean(f"not a datetime: {value!r}")


def opt_date_time(value: Any) -> datetime | None:
    if value is None or type(value) is datetime:
        return value
    raise Unclean(f"not a datetime: {value!r}")


def array(value: Any) -> list[Any]:
    if type(value) is list:
        return value
    raise Unclean(f"not a list: {value!r}")


def document(value: Any) -> dict[str, Any]:
    if type(value) is dict:
        return value
    raise Unclean(f"not a document: {value!r}")


# Rules for fields served from their source as they are, once checked. Classes, not
# closures, so that api.execution.fused can see what they do and write it inline.


class FromSource:
    """The field is ``read(source)``."""

    __slots__ = ("read",)

    def __init__(self, read: Callable[[Any], Any]) -> None:
        self.read = read

    def __call__(self, run: Run, source: Any, plan: FieldPlan, out: dict[str, Any]) -> None:
        out[plan.key] = self.read(source)


class Stored:
    """A stored field served as it is, once ``check`` has passed it."""

    __slots__ = ("check", "default", "name")

    def __init__(self, name: str, check: Callable[[Any], Any], default: Any = None) -> None:
        self.name = name
        self.check = check
        self.default = default

    def __call__(
        self, run: Run, source: dict[str, Any], plan: FieldPlan, out: dict[str, Any]
    ) -> None:
        out[plan.key] = self.check(source.get(self.name, self.default))


class Required:
    """A stored field that every source has: ``check(source[name])``. A source
    without it raises ``KeyError``, as ``source[name]`` always has."""

    __slots__ = ("check", "name")

    def __init__(self, name: str, check: Callable[[Any], Any]) -> None:
        self.name = name
        self.check = check

    def __call__(self, run: Run, source: Any, plan: FieldPlan, out: dict[str, Any]) -> None:
        out[plan.key] = self.check(source[self.name])


class Constant:
    """The field is always ``value`` (``__typename`` on an object type)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, run: Run, source: Any, plan: FieldPlan, out: dict[str, Any]) -> None:
        out[plan.key] = self.value


def from_source(read: Callable[[Any], Any]) -> Rule:
    return FromSource(read)


def required(name: str, check: Callable[[Any], Any]) -> Rule:
    return Required(name, check)


def stored(name: str, check: Callable[[Any], Any], default: Any = None) -> Rule:
    return Stored(name, check, default)
