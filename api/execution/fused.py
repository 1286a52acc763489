"""A selection's builder as one generated function: the rules of its fields written
out in order, those that only copy, check or compute a value inline, the others
called as they are.

``build`` would otherwise call a rule per field and, for most of them, a check per
value: over the 180 objects and 600 values of a home page that dispatch cost more
than the checks themselves. The generated code does exactly what the rules do
(``api.execution.values``), in the same order, with the same errors: a value that
fails a check's fast test is handed to the check itself, which raises its own
``Unclean``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from api.execution.values import (
    MAX_INT,
    MIN_INT,
    Constant,
    FromSource,
    Required,
    Stored,
    date_time,
    integer,
    opt_boolean,
    opt_date_time,
    opt_integer,
    opt_string,
    string,
)

if TYPE_CHECKING:
    from api.execution.plan import FieldPlan
    from api.execution.run import Run

Builder = Callable[["Run", Any], dict[str, Any]]

# What each check passes unchanged, as an expression on ``v``: anything else goes
# to the check, which raises.
PASSES: dict[Callable[[Any], Any], str] = {
    string: "type(v) is str",
    integer: f"type(v) is int and {MIN_INT} <= v <= {MAX_INT}",
    opt_string: "v is None or type(v) is str",
    opt_integer: f"v is None or (type(v) is int and {MIN_INT} <= v <= {MAX_INT})",
    opt_boolean: "v is None or type(v) is bool",
    date_time: "type(v) is datetime",
    opt_date_time: "v is None or type(v) is datetime",
}


def compile_builder(fields: Sequence[FieldPlan]) -> Builder:
    """``build(run, source)``: the response object of ``source`` for ``fields``."""
    namespace: dict[str, Any] = {"datetime": datetime}
    lines = ["def build(run, source):", "    out = {}"]
    reads_source = False
    for index, plan in enumerate(fields):
        rule, key = plan.rule, repr(plan.key)
        if isinstance(rule, Constant) and type(rule.value) is str:
            lines.append(f"    out[{key}] = {rule.value!r}")
        elif isinstance(rule, FromSource):
            namespace[f"read{index}"] = rule.read
            lines.append(f"    out[{key}] = read{index}(source)")
        elif isinstance(rule, Required) and rule.check in PASSES:
            namespace[f"check{index}"] = rule.check
            lines.append(f"    v = source[{rule.name!r}]")
            lines.append(f"    if not ({PASSES[rule.check]}):")
            lines.append(f"        check{index}(v)")
            lines.append(f"    out[{key}] = v")
        elif isinstance(rule, Stored):
            if not reads_source:
                lines.append("    get = source.get")
                reads_source = True
            namespace[f"default{index}"] = rule.default
            namespace[f"check{index}"] = rule.check
            lines.append(f"    v = get({rule.name!r}, default{index})")
            passes = PASSES.get(rule.check)
            if passes is None:
                lines.append(f"    out[{key}] = check{index}(v)")
            else:
                lines.append(f"    if not ({passes}):")
                lines.append(f"        check{index}(v)")
                lines.append(f"    out[{key}] = v")
        else:
            namespace[f"rule{index}"] = rule
            namespace[f"plan{index}"] = plan
            lines.append(f"    rule{index}(run, source, plan{index}, out)")
    lines.append("    return out")
    # A file name per type, so that a profile tells the builders apart.
    where = f"<fused builder of {fields[0].type_name}>" if fields else "<fused builder>"
    exec(compile("\n".join(lines), where, "exec"), namespace)
    builder: Builder = namespace["build"]
    return builder
