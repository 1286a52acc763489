"""Compiled plans, kept per (document, operation name, values of the variables that
@skip/@include read), in a bounded LRU."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.language import VariableNode

from api.execution.plan import Fields
from api.lru import LRU

# At most this many @skip/@include combinations of one operation are compiled.
MAX_VARIANTS = 16


class _DirectiveVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_directive(self, node: DirectiveNode, *_: object) -> None:
        if node.name.value in ("skip", "include"):
            for argument in node.arguments or ():
                value = argument.value
                if isinstance(value, VariableNode) and value.name.value not in self.names:
                    self.names.append(value.name.value)
                assert isinstance(value, VariableNode | BooleanValueNode)


@dataclass(eq=False)
class Entry:
    """What is compiled for one operation of one document."""

    document: DocumentNode  # held, so its id() is not reused while cached
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    directive_variables: tuple[str, ...]
    # By the values of directive_variables; None: left to the reference path.
    plans: dict[tuple[object, ...], Fields | None] = field(default_factory=dict)


class PlanCache:
    def __init__(self, size: int) -> None:
        self.size = size
        # Requests answered by the compiled path, and left to the reference path.
        self.compiled = 0
        self.declined = 0
        # Of the compiled, those answered by the view's fast route (api.http.fast_route).
        self.fast = 0
        self.entries: LRU[tuple[int, str | None], Entry] = LRU(size)

    def entry(
        self, document: DocumentNode, operation: OperationDefinitionNode, name: str | None
    ) -> Entry:
        key = (id(document), name)
        found = self.entries.touch(key)
        if found is not None and found.document is document:
            return found
        found = Entry(document, operation, _fragments(document), _directive_variables(document))
        self.entries.put(key, found)
        return found


def _fragments(document: DocumentNode) -> dict[str, FragmentDetails]:
    return {
        definition.name.value: FragmentDetails(definition)
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def _directive_variables(document: DocumentNode) -> tuple[str, ...]:
    visitor = _DirectiveVariables()
    visit(document, visitor)
    return tuple(visitor.names)
