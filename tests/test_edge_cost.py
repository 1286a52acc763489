"""The cost calculator on its own, over a schema written for it: it must be generic
(connections by first/last, lists by bound or by a list argument, fragments and
variables), not tied to newsgraph's fields."""

from __future__ import annotations

from typing import Any

from graphql import build_schema, get_operation_ast, parse
from graphql.execution.values import get_variable_values

from api.limits.measure import DEFAULT_LIST_BOUND, LIST_BOUNDS, Shape, measure
from api.limits.shapes import ShapeCache

SCHEMA = build_schema(
    """
    interface Node { id: ID! }
    type Item implements Node { id: ID! name: String tags: [Tag!]! related(first: Int = 5): [Item!]! children(first: Int = 20, last: Int): ItemConnection! }
    type Tag implements Node { id: ID! label: String }
    type ItemEdge { cursor: String! node: Item! }
    type PageInfo { hasNextPage: Boolean! }
    type ItemConnection { edges: [ItemEdge!]! nodes: [Item!]! pageInfo: PageInfo! totalCount: Int! }
    type Query {
      items(first: Int, last: Int, after: String): ItemConnection!
      nodes(ids: [ID!]!): [Node]!
      node(id: ID!): Node
      item: Item
    }
    """
)


def shape(query: str, variables: dict[str, Any] | None = None) -> Shape:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables or {})
    assert not isinstance(coerced, list)
    return measure(SCHEMA, document, operation, coerced.coerced)


def test_connections_multiply_by_first_or_last() -> None:
    assert shape("{ items(first: 5) { nodes { id } } }").cost == 1 + 5
    assert shape("{ items(last: 7) { edges { node { id } } } }").cost == 1 + 7 * 2
    # No first/last: the API's default page of 20.
    assert shape("{ items { nodes { id } pageInfo { hasNextPage } } }").cost == 1 + 20 + 1
    # A schema default counts as given.
    assert shape("{ item { children { nodes { id } } } }").cost == 1 + 1 + 20


def test_a_plain_list_with_first_holds_that_many() -> None:
    assert shape("{ item { related { id } } }").cost == 1 + 5
    assert shape("{ item { related(first: 2) { tags { id } } } }").cost == 1 + 2 * (1 + 10)


def test_nested_connections_multiply() -> None:
    query = "{ items(first: 10) { nodes { children(first: 10) { nodes { id } } } } }"
    assert shape(query).cost == 1 + 10 * (1 + 1 + 10)


def test_plain_lists_use_their_bound_and_list_arguments_their_length() -> None:
    assert shape("{ item { tags { id } } }").cost == 1 + DEFAULT_LIST_BOUND
    LIST_BOUNDS["Item.tags"] = 3
    try:
        assert shape("{ item { tags { id } } }").cost == 1 + 3
    finally:
        del LIST_BOUNDS["Item.tags"]
    assert shape('{ nodes(ids: ["a", "b", "c"]) { id } }').cost == 3
    ids = [str(n) for n in range(40)]
    assert shape("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}).cost == 40


def test_variables_fragments_and_scalars() -> None:
    query = """query($n: Int) { items(first: $n) { ...Page } }
      fragment Page on ItemConnection { nodes { ...Named } }
      fragment Named on Item { name tags { label } }"""
    assert shape(query, {"n": 4}).cost == 1 + 4 * (1 + DEFAULT_LIST_BOUND)
    # Every branch of an abstract type counts: an upper bound.
    both = '{ node(id: "x") { ... on Item { tags { id } } ... on Tag { label } } }'
    assert shape(both).cost == 1 + DEFAULT_LIST_BOUND


def test_depth_aliases_and_introspection() -> None:
    measured = shape("{ a: item { b: children(first: 1) { nodes { c: name } } } }")
    assert (measured.depth, measured.aliases) == (4, 3)
    introspection = shape(
        "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }"
    )
    assert introspection == Shape(0, 0, 0)


def cached(cache: ShapeCache, query: str, variables: dict[str, Any]) -> Shape:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables)
    assert not isinstance(coerced, list)
    return cache.shape(SCHEMA, query, document, operation, coerced.coerced)


def test_the_shape_cache_keys_on_what_a_shape_depends_on() -> None:
    cache = ShapeCache(16)
    page = "query q($n: Int, $after: String) { items(first: $n, after: $after) { nodes { id } } }"
    many = "query q($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    requests: list[tuple[str, dict[str, Any]]] = [
        (page, {"n": 5, "after": "a"}),
        (page, {"n": 5, "after": "b"}),  # another cursor: the same shape
        (page, {"n": 50, "after": "a"}),
        (page, {"after": "a"}),
        (many, {"ids": ["1", "2"]}),
        (many, {"ids": ["3", "4"]}),  # other ids, as many: the same shape
        (many, {"ids": ["1", "2", "3"]}),
        (many, {"ids": "1"}),  # one id for a list: a list of one
    ]
    for query, variables in requests:
        assert cached(cache, query, variables) == shape(query, variables), variables
    assert len(cache.shapes) == 6


def test_the_shape_cache_is_bounded() -> None:
    cache = ShapeCache(2)
    for n in range(5):
        cached(cache, "query q($n: Int) { items(first: $n) { nodes { id } } }", {"n": n})
    assert len(cache.shapes) == 2
