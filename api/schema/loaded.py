"""The Strawberry extension that answers ``DATABASE_NOT_LOADED`` before any resolver
runs while the database has not been prepared by the loader (``api.store.readiness``).

It runs after parsing, validation and the limits, so a refused query is refused for
what it is, and it lets introspection through: GraphiQL and code generators work
against an API whose database is still being loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import ExecutionResult, FieldNode, OperationDefinitionNode, get_operation_ast
from strawberry.extensions import SchemaExtension

from api.errors import DatabaseNotLoaded
from api.schema.context import Context
from api.store.readiness import Readiness


class RequireLoadedDatabase(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        readiness = _readiness(context.context)
        if readiness is not None and isinstance(context.context, Context):
            document = context.graphql_document
            operation = document and get_operation_ast(document, context.operation_name)
            if not (
                isinstance(operation, OperationDefinitionNode) and _introspection_only(operation)
            ):
                reason = await readiness.not_loaded_reason(context.context.db)
                if reason is not None:
                    error = DatabaseNotLoaded(reason)
                    context.result = ExecutionResult(data=None, errors=[error])
        yield


def _readiness(context: object) -> Readiness | None:
    """The app's Readiness (absent when the schema runs outside the app)."""
    request = getattr(context, "request", None)
    state = getattr(getattr(request, "app", None), "state", None)
    readiness = getattr(state, "readiness", None)
    return readiness if isinstance(readiness, Readiness) else None


def _introspection_only(operation: OperationDefinitionNode) -> bool:
    return all(
        isinstance(selection, FieldNode) and selection.name.value.startswith("__")
        for selection in operation.selection_set.selections
    )
