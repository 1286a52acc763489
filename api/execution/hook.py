"""The hook: a Strawberry schema extension whose ``on_execute`` runs the compiled
plan and sets the result, so Strawberry skips graphql-core's execution. Parsing,
validation, the limits and everything at the edge run as on the reference path.

When the compiled path cannot answer cleanly (an error raised on purpose, such as
BAD_USER_INPUT or BAD_CURSOR, a stored value of the wrong type, anything
unexpected) it sets nothing: the request runs on the reference path, whose answer,
errors included, is graphql-core's own. A lost MongoDB is the exception: waiting
for it twice would double the time to answer, so the compiled path answers the
error itself, as graphql-core does when every root field's read fails."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_variable_values
from pymongo.errors import ConnectionFailure
from strawberry.extensions import SchemaExtension

from api.execution.cache import MAX_VARIANTS, Entry, PlanCache
from api.execution.plan import FieldPlan, Fields, Unsupported, compile_operation
from api.execution.run import Run, execute
from api.search.service import SearchService
from api.settings import Settings
from api.store.reads import Database

log = logging.getLogger("newsgraph.execution")


# Set in the request's ASGI scope: the compiled path answered this request (the
# document, its operation and the name the plan cache knows it by), so the view's
# fast route may answer the document's next requests (api.http.fast_route); or the
# fast route already tried and declined, so this request runs on the reference path.
ANSWERED = "newsgraph.compiled"
DECLINED = "newsgraph.declined"


class CompiledExecution(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        request = getattr(context.context, "request", None)
        state = getattr(getattr(request, "app", None), "state", None)
        settings = getattr(state, "settings", None)
        plans = getattr(state, "plans", None)
        if (
            isinstance(settings, Settings)
            and settings.executor == "compiled"
            and isinstance(plans, PlanCache)
            and context.graphql_document is not None
            and context.result is None  # not answered already (api.schema.loaded)
            and DECLINED not in getattr(request, "scope", {})
        ):
            result = await counted(plans, self.run(plans, getattr(state, "search", None)))
            if result is not None:
                context.result = result
        yield

    async def run(self, plans: PlanCache, search: SearchService | None) -> ExecutionResult | None:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        operation = get_operation_ast(document, context.operation_name)
        if operation is None:
            return None
        schema = context.schema._schema
        variables = get_variable_values(
            schema, operation.variable_definitions or (), context.variables or {}
        )
        if not isinstance(variables, VariableValues):
            return None  # graphql-core reports them
        name = context.operation_name
        result = await run_plan(
            plans, context.context.db, search, schema, document, operation, name, variables
        )
        request = context.context.request
        over_http = request.scope.get("type") == "http"
        if result is not None and over_http and operation.operation is OperationType.QUERY:
            request.scope[ANSWERED] = (document, operation, context.operation_name)
        return result


async def counted(
    plans: PlanCache, answer: Awaitable[ExecutionResult | None]
) -> ExecutionResult | None:
    """``answer``'s result, counted as compiled or declined (None) in ``plans``."""
    try:
        result = await answer
    except Exception:  # a fault of the compiled path: the reference answers
        log.exception("compiled path failed; running the reference path")
        result = None
    if result is None:
        plans.declined += 1
    else:
        plans.compiled += 1
    return result


async def run_plan(
    plans: PlanCache,
    db: Database,
    search: SearchService | None,
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    name: str | None,
    variables: VariableValues,
) -> ExecutionResult | None:
    """The compiled answer to a parsed, validated operation, or None to leave it to
    the reference path."""
    entry = plans.entry(document, operation, name)
    fields = _plan(entry, schema, variables)
    if fields is None:
        return None
    run = Run(db, variables, search)
    try:
        data = await execute(run, fields)
    except ConnectionFailure as exc:
        return _unavailable(fields, exc)
    except Exception as exc:  # the reference path answers instead
        log.debug("compiled path declined (%s: %s); running the reference path",
                  type(exc).__name__, exc)  # fmt: skip
        return None
    return ExecutionResult(data=data)


def _plan(entry: Entry, schema: Any, variables: VariableValues) -> Fields | None:
    values = tuple(variables.coerced.get(name) for name in entry.directive_variables)
    if values in entry.plans:
        return entry.plans[values]
    try:
        fields: Fields | None = compile_operation(
            schema, entry.fragments, entry.operation, variables
        )
    except Unsupported as exc:
        log.debug("not compiled (%s): the reference path runs it", exc)
        fields = None
    if len(entry.plans) < MAX_VARIANTS:
        entry.plans[values] = fields
    return fields


def _unavailable(fields: list[FieldPlan], exc: ConnectionFailure) -> ExecutionResult:
    """One error per root field that reads, each at its path; data null when one of
    them is non-null, as graphql-core propagates it."""
    data: dict[str, Any] | None = {}
    errors = []
    for field in fields:
        if field.definition is None:
            if data is not None:
                data[field.key] = field.type_name
            continue
        errors.append(
            GraphQLError(str(exc), nodes=field.nodes, path=[field.key], original_error=exc)
        )
        if isinstance(field.definition.type, GraphQLNonNull):
            data = None
        elif data is not None:
            data[field.key] = None
    return ExecutionResult(data=data, errors=errors)
