"""Resource limits on a query, measured on its text and its parsed document before
anything runs: size, tokens, depth, aliases and the calculated cost.

The cost is the number of nodes (objects) the query can return, as GitHub and
Shopify publish theirs, computed from the document and the schema alone:

- every field that returns an object counts once per time it can appear;
- a field with a ``first``/``last`` argument holds that many items (the argument's
  default, else ``DEFAULT_PAGE``, when absent): a connection's lists directly
  inside it (``edges``, ``nodes``), or the field itself when it is a plain list;
- any other list of objects holds at most the length of a list argument
  (``nodes(ids: [...])``), else its bound in ``LIST_BOUNDS``, else
  ``DEFAULT_LIST_BOUND``;
- scalars and introspection (``__schema``, ``__type``, ``__typename``) are free;
- fragments count where they are spread; every branch of an abstract type is
  counted (an upper bound).

Depth counts fields: ``{ articles { totalCount } }`` is 2 deep. Introspection
fields are not counted, so GraphiQL's introspection query always passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    parse,
    value_from_ast,
)
from graphql.utilities.coerce_input_value import coerce_default_value

from api.errors import CostExceeded, QueryTooDeep, QueryTooLarge, TooManyAliases, TooManyTokens
from api.store.pagination import DEFAULT_PAGE

# A plain list (not a connection) of objects is assumed to hold at most this many.
# The stored feed has a handful of images, topics and related items per article.
DEFAULT_LIST_BOUND = 10
# Lists known to be longer or shorter than the default, as "Type.field".
LIST_BOUNDS: dict[str, int] = {}

PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_query_bytes: int
    max_cost: int


@dataclass(frozen=True)
class Shape:
    """What a selection weighs: its depth, its aliases and its cost (per occurrence)."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def __add__(self, other: Shape) -> Shape:
        return Shape(
            max(self.depth, other.depth), self.aliases + other.aliases, self.cost + other.cost
        )


def check_size(query: str, limits: Limits) -> None:
    size = len(query.encode("utf-8"))
    if size > limits.max_query_bytes:
        raise QueryTooLarge(
            f"The query is {size} bytes; the limit is {limits.max_query_bytes} bytes. "
            "Send a smaller document.",
            limit=limits.max_query_bytes,
            size=size,
        )


@lru_cache(maxsize=1024)
def parse_document(query: str, max_tokens: int) -> DocumentNode:
    """Parse, refusing more than ``max_tokens`` tokens (the parser stops counting
    there, so an oversized document costs no more than the limit to refuse).
    Cached: clients repeat the same few documents."""
    try:
        return parse(query, max_lexical_tokens=max_tokens, max_comments=max_tokens)
    except GraphQLSyntaxError as error:
        if "contains more than" in error.message:
            raise TooManyTokens(
                f"The query has more than {max_tokens} tokens (or comments); "
                f"the limit is {max_tokens}. Send a smaller document.",
                limit=max_tokens,
            ) from None
        raise


def enforce(shape: Shape, limits: Limits) -> None:
    if shape.depth > limits.max_depth:
        raise QueryTooDeep(
            f"The query is {shape.depth} fields deep; the limit is {limits.max_depth}. "
            "Split it into several queries.",
            limit=limits.max_depth,
            depth=shape.depth,
        )
    if shape.aliases > limits.max_aliases:
        raise TooManyAliases(
            f"The query uses {shape.aliases} aliases; the limit is {limits.max_aliases}.",
            limit=limits.max_aliases,
            aliases=shape.aliases,
        )
    if shape.cost > limits.max_cost:
        raise CostExceeded(
            f"The query could return up to {shape.cost} nodes; the limit is {limits.max_cost}. "
            "Ask for fewer items (first/last) or nest fewer connections.",
            requested=shape.cost,
            limit=limits.max_cost,
        )


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> Shape:
    """The shape of one operation of a *validated* document (fragments all exist,
    none is cyclic), with ``variables`` already coerced."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return Shape()
    return _Measure(schema, document, variables).selections(operation.selection_set, root, None)


class _Measure:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = dict(variables)
        self.fragments = {
            node.name.value: node
            for node in document.definitions
            if isinstance(node, FragmentDefinitionNode)
        }
        # A fragment spread many times (or fragments spreading each other) is
        # measured once: without this, nested spreads cost exponential time.
        self.measured: dict[tuple[str, int | None], Shape] = {}
        self.visiting: set[str] = set()

    def selections(self, node: SelectionSetNode, parent: Any, page: int | None) -> Shape:
        total = Shape()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, target, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, page)
        return total

    def fragment(self, name: str, page: int | None) -> Shape:
        key = (name, page)
        if key not in self.measured:
            definition = self.fragments.get(name)
            if definition is None or name in self.visiting:
                return Shape()  # validation reports these; never loop on them
            self.visiting.add(name)
            target = self.schema.get_type(definition.type_condition.name.value)
            self.measured[key] = self.selections(definition.selection_set, target, page)
            self.visiting.discard(name)
        return self.measured[key]

    def field(self, node: FieldNode, parent: Any, page: int | None) -> Shape:
        alias = 1 if node.alias else 0
        name = node.name.value
        if name.startswith("__"):
            return Shape(0, alias, 0)
        definition = _field_of(parent, name)
        if definition is None or node.selection_set is None:
            return Shape(1, alias, 0)
        target = get_named_type(definition.type)
        if not is_composite_type(target):
            return Shape(1, alias, 0)
        inner_page = None
        count = 1
        is_list = is_list_type(get_nullable_type(definition.type))
        if any(arg in definition.args for arg in PAGE_ARGUMENTS):
            # A connection's page size applies to the lists inside it; a plain
            # list with a first argument holds that many itself.
            if is_list:
                count = self.page_size(definition, node)
            else:
                inner_page = self.page_size(definition, node)
        elif is_list:
            count = self.list_size(definition, node, f"{parent.name}.{name}", page)
        inner = self.selections(node.selection_set, target, inner_page)
        return Shape(inner.depth + 1, alias + inner.aliases, count * (1 + inner.cost))

    def page_size(self, definition: GraphQLField, node: FieldNode) -> int:
        sizes = [self.argument(definition, node, arg) for arg in PAGE_ARGUMENTS]
        given = [size for size in sizes if isinstance(size, int)]
        return max(0, *given) if given else DEFAULT_PAGE

    def list_size(
        self, definition: GraphQLField, node: FieldNode, coordinate: str, page: int | None
    ) -> int:
        if page is not None:
            return page
        lengths = [
            len(value)
            for arg in definition.args
            if isinstance(value := self.argument(definition, node, arg), list)
        ]
        if lengths:
            return max(lengths)
        return LIST_BOUNDS.get(coordinate, DEFAULT_LIST_BOUND)

    def argument(self, definition: GraphQLField, node: FieldNode, name: str) -> Any:
        """The argument's value as the resolver will see it (None when unknown)."""
        arg = definition.args.get(name)
        if arg is None:
            return None
        for given in node.arguments or ():
            if given.name.value == name:
                value = value_from_ast(given.value, arg.type, self.variables)
                return None if value is Undefined else value
        try:
            default = coerce_default_value(arg)
        except (GraphQLError, TypeError, ValueError):
            return None
        return None if default is Undefined else default


def _field_of(parent: Any, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return parent.fields.get(name)
    return None
