"""The Strawberry extension that enforces the resource limits (``api.limits.measure``)
before any resolver runs, and reports the cost in every response's
``extensions.cost``.

It parses the document itself (with the size and token limits, cached), then,
once GraphQL validation has passed, measures the chosen operation: depth,
aliases and cost. Measuring only valid documents means fragment cycles and
unknown fragments get GraphQL's own validation errors, never a hang.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import get_operation_ast
from graphql.execution.values import get_variable_values
from strawberry.extensions import SchemaExtension, ValidationCache

from api.http.request_log import current_record
from api.limits.measure import Limits, check_size, enforce, measure, parse_document
from api.limits.shapes import ShapeCache
from api.settings import Settings


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_query_bytes=settings.max_query_bytes,
        max_cost=settings.max_cost,
    )


class QueryGuard(SchemaExtension):
    requested: int = 0

    def settings(self) -> Settings:
        # The app's settings, so tests and deployments can change the limits.
        request = getattr(self.execution_context.context, "request", None)
        settings = getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)
        return settings if isinstance(settings, Settings) else Settings()

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        limits = limits_of(self.settings())
        if context.graphql_document is None and context.query is not None:
            check_size(context.query, limits)
            context.graphql_document = parse_document(context.query, limits.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.pre_execution_errors or context.graphql_document is None:
            return
        operation = get_operation_ast(context.graphql_document, context.operation_name)
        if operation is None:
            return  # execution reports the missing or ambiguous operation
        schema = context.schema._schema
        variables = get_variable_values(
            schema, operation.variable_definitions or (), context.variables or {}
        )
        if isinstance(variables, list):
            return  # execution reports the bad variables, before any resolver
        limits = limits_of(self.settings())
        document = context.graphql_document
        if context.query is None:
            shape = measure(schema, document, operation, variables.coerced)
        else:
            shape = SHAPES.shape(schema, context.query, document, operation, variables.coerced)
        self.requested = shape.cost
        record = current_record.get()
        if record is not None:
            record.cost = shape.cost
            record.operation = operation.name.value if operation.name else record.operation
        enforce(shape, limits)

    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requested": self.requested, "limit": self.settings().max_cost}}


# Clients repeat the same few documents.
SHAPES = ShapeCache(1024)


def schema_extensions() -> list[Callable[[], SchemaExtension] | type[SchemaExtension]]:
    """The extensions ``api.schema.root`` builds its schema with: the guard (which also
    caches parsing), then a validation cache."""
    return [QueryGuard, lambda: ValidationCache(maxsize=1024)]
