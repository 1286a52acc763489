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


def date_time(value: Any) -> str:
    """Strawberry's DateTime: ``isoformat()``."""
    if type(value) is datetime:
        return value.isoformat()
    raise Unclean(f"not a datetime: {value!r}")


def opt_date_time(value: Any) -> str | None:
    return None if value is None else date_time(value)


def array(value: Any) -> list[Any]:
    if type(value) is list:
        return value
    raise Unclean(f"not a list: {value!r}")


def document(value: Any) -> dict[str, Any]:
    if type(value) is dict:
        return value
    raise Unclean(f"not a document: {value!r}")


# Rules for fields served from their source as they are, once checked.


def from_source(read: Callable[[Any], Any]) -> Rule:
    def rule(run: Run, source: Any, plan: FieldPlan, out: dict[str, Any]) -> None:
        out[plan.key] = read(source)

    return rule


def stored(name: str, check: Callable[[Any], Any], default: Any = None) -> Rule:
    """A stored field served as it is, once ``check`` has passed it."""

    def rule(run: Run, source: dict[str, Any], plan: FieldPlan, out: dict[str, Any]) -> None:
        out[plan.key] = check(source.get(name, default))

    return rule
