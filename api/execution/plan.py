"""Compiling an operation: its fields collected per type by graphql-core's own
``collect_fields``/``collect_subfields`` (so merging, fragments, aliases and
@skip/@include are exactly graphql-core's), each bound to its rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    ValueNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values

if TYPE_CHECKING:
    from api.execution.fused import Builder
    from api.execution.run import Run

# Builds one field of a source into ``out``: run, source, the field, out.
Rule = Callable[["Run", Any, "FieldPlan", dict[str, Any]], None]


class Unsupported(Exception):
    """Part of the document the compiled path leaves to the reference path."""


@dataclass(eq=False)
class FieldPlan:
    key: str  # the response key: the alias, else the name
    name: str
    type_name: str  # the object type the field is on
    nodes: list[FieldNode]
    definition: GraphQLField | None  # None for __typename
    rule: Rule = field(repr=False)
    sub: Selection | None
    static_args: dict[str, Any] | None  # None when the arguments use variables

    def args(self, variables: VariableValues) -> dict[str, Any]:
        if self.static_args is not None:
            return self.static_args
        assert self.definition is not None
        return get_argument_values(self.definition, self.nodes[0], variables)

    @cached_property
    def children(self) -> Fields:
        """The fields selected under this one (its type is an object type)."""
        assert self.sub is not None
        return self.sub.fields()

    @cached_property
    def child_paths(self) -> set[str]:
        """The stored fields the selection under this one reads."""
        assert self.sub is not None
        return self.sub.paths()

    def wants(self, name: str) -> bool:
        """Whether the (concrete) selection under this field asks for ``name``."""
        return any(child.name == name for child in self.children)


class Fields(list[FieldPlan]):
    """A selection's fields for one type, in response order, and the builder fused
    from their rules (``api.execution.fused``), made on first use."""

    __slots__ = ("builder",)

    def __init__(self, plans: list[FieldPlan]) -> None:
        super().__init__(plans)
        self.builder: Builder | None = None


class Selection:
    """The fields under one field, per runtime type, compiled on first use (an
    interface's selection is compiled for the types actually met)."""

    def __init__(self, compiler: Compiler, details: FieldDetailsList, named: Any) -> None:
        self.compiler = compiler
        self.details = details
        self.named = named
        self.by_type: dict[str, Fields] = {}
        self.paths_by_type: dict[str, set[str]] = {}

    def fields(self, type_name: str | None = None) -> Fields:
        name = type_name or self.named.name
        compiled = self.by_type.get(name)
        if compiled is None:
            runtime = self.compiler.schema.get_type(name)
            assert isinstance(runtime, GraphQLObjectType)
            grouped = collect_subfields(
                self.compiler.schema,
                self.compiler.fragments,
                self.compiler.variables,
                self.compiler.operation,
                runtime,
                self.details,
            ).grouped_field_set
            compiled = self.by_type[name] = self.compiler.fields(runtime, grouped)
        return compiled

    def paths(self, type_name: str | None = None) -> set[str]:
        """The stored fields (dotted paths) this selection reads on ``type_name``."""
        name = type_name or self.named.name
        found = self.paths_by_type.get(name)
        if found is None:
            from api.execution.rules import paths_of

            found = self.paths_by_type[name] = paths_of(name, self.fields(name))
        return found


@dataclass
class Compiler:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode

    def fields(self, runtime: GraphQLObjectType, grouped: GroupedFieldSet) -> Fields:
        from api.execution.rules import rule_for

        plans = []
        for key, details in grouped.items():
            if any(detail.fragment_variable_values is not None for detail in details):
                raise Unsupported("fragment arguments")
            nodes = [detail.node for detail in details]
            name = nodes[0].name.value
            if name in ("__schema", "__type"):
                raise Unsupported("introspection")
            definition = runtime.fields.get(name) if name != "__typename" else None
            sub = None
            if definition is not None:
                named = get_named_type(definition.type)
                if isinstance(named, GraphQLObjectType) or is_abstract_type(named):
                    sub = Selection(self, details, named)
            static = None
            if definition is not None and not _uses_variables(nodes[0]):
                static = get_argument_values(definition, nodes[0], self.variables)
            elif definition is None:
                static = {}
            plans.append(
                FieldPlan(
                    key=key,
                    name=name,
                    type_name=runtime.name,
                    nodes=nodes,
                    definition=definition,
                    rule=rule_for(runtime.name, name),
                    sub=sub,
                    static_args=static,
                )
            )
        return Fields(plans)


def _uses_variables(node: FieldNode) -> bool:
    return any(_value_uses_variables(argument.value) for argument in node.arguments or ())


def _value_uses_variables(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_value_uses_variables(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_value_uses_variables(item.value) for item in value.fields)
    return False


def compile_operation(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDetails],
    operation: OperationDefinitionNode,
    variables: VariableValues,
) -> Fields:
    """The root fields of a query operation; Unsupported for anything else."""
    root = schema.query_type
    if root is None or operation.operation.value != "query":
        raise Unsupported(operation.operation.value)
    compiler = Compiler(schema, fragments, variables, operation)
    grouped = collect_fields(schema, fragments, variables, root, operation).grouped_field_set
    return compiler.fields(root, grouped)
