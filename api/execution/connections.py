"""The rules of the connection types (``*Connection``, ``*Edge``, ``PageInfo``) and
of the fields that return one: a page and its count read in the round, the page
together with the same field's pages under other parents (``pages.py``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from api.execution.pages import PageRead
from api.execution.plan import FieldPlan, Rule
from api.execution.rounds import projection
from api.execution.run import Run, build, build_all
from api.execution.values import boolean, from_source, integer
from api.schema.inputs import (
    MOST_ARTICLES,
    NEWEST_FIRST,
    ArticleFilter,
    ArticleOrder,
    CatalogOrder,
    conditions,
)
from api.search.searcher import SearchPage
from api.store import reads
from api.store.filters import ArticleConditions
from api.store.pagination import Window, window
from storage.contract import ARTICLES

Doc = dict[str, Any]


class Paged:
    """What PageInfo reads of a connection's source (of search results too:
    api.execution.search): the flags of its ``page``, and ``cursor_at``."""

    page: reads.Page | SearchPage

    @property
    def has_next(self) -> bool:
        return self.page.has_next

    @property
    def has_previous(self) -> bool:
        return self.page.has_previous


@dataclass
class Connection(Paged):
    page: reads.Page
    order: reads.Order
    total: int | None

    def cursor_at(self, index: int) -> str | None:
        docs = self.page.docs
        return self.order.cursor(docs[index]) if docs else None


def node_paths(plan: FieldPlan) -> set[str]:
    """The stored fields the nodes of a connection read, through edges and nodes."""
    paths: set[str] = set()
    for child in plan.children:
        if child.name == "nodes":
            paths |= child.child_paths
        elif child.name == "edges":
            for part in child.children:
                if part.name == "node":
                    paths |= part.child_paths
    return paths


def _connection(
    run: Run,
    plan: FieldPlan,
    out: Doc,
    order: reads.Order,
    read: PageRead,
    count: Callable[[], Awaitable[int]],
) -> None:
    """A page (and its count, when selected) read in this round, the page together
    with the same field's pages under other parents; the connection is built when
    both are there."""
    shape = projection(node_paths(plan), "_id", order.field)
    counted = plan.wants("totalCount")
    got: dict[str, Any] = {}
    out[plan.key] = None

    def ready() -> None:
        if "page" in got and ("total" in got or not counted):
            connection = Connection(got["page"], order, got.get("total"))
            out[plan.key] = build(run, plan.children, connection)

    def page_read(page: reads.Page) -> None:
        got["page"] = page
        ready()

    def counted_up(total: int) -> None:
        got["total"] = total
        ready()

    run.round.page(plan, replace(read, projection=shape), page_read)
    if counted:
        run.round.call(count, counted_up)


def _edges(run: Run, connection: Connection, plan: FieldPlan, out: Doc) -> None:
    fields = plan.children
    out[plan.key] = [build(run, fields, (connection, doc)) for doc in connection.page.docs]


def _nodes(run: Run, connection: Connection, plan: FieldPlan, out: Doc) -> None:
    fields = plan.children
    out[plan.key] = build_all(run, fields, connection.page.docs)


def _page_info(run: Run, connection: Connection, plan: FieldPlan, out: Doc) -> None:
    out[plan.key] = build(run, plan.children, connection)


def _total(connection: Connection) -> int:
    assert connection.total is not None
    return integer(connection.total)


CONNECTION: dict[str, Rule] = {
    "edges": _edges,
    "nodes": _nodes,
    "pageInfo": _page_info,
    "totalCount": from_source(_total),
}
EDGE: dict[str, Rule] = {
    "cursor": from_source(lambda source: source[0].order.cursor(source[1])),
    "node": lambda run, source, plan, out: out.__setitem__(
        plan.key, build(run, plan.children, source[1])
    ),
}


# The source is a Connection, or search results (api.execution.search).
PAGE_INFO: dict[str, Rule] = {
    "hasNextPage": from_source(lambda c: boolean(c.has_next)),
    "hasPreviousPage": from_source(lambda c: boolean(c.has_previous)),
    "startCursor": from_source(lambda c: c.cursor_at(0)),
    "endCursor": from_source(lambda c: c.cursor_at(-1)),
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def article_filter(value: Doc | None) -> ArticleConditions:
    if value is None:
        return conditions(None)
    return conditions(ArticleFilter(**{_snake(key): item for key, item in value.items()}))


def page_window(args: Doc) -> Window:
    """The window of a connection field's first/after/last/before arguments."""
    return window(args["first"], args["after"], args["last"], args["before"])


def article_connection(run: Run, plan: FieldPlan, out: Doc, where: ArticleConditions) -> None:
    """Every article connection with a filter and an order (as article_connection)."""
    args = plan.args(run.variables)
    order_arg = args.get("orderBy")
    order_by = ArticleOrder(**order_arg) if order_arg is not None else NEWEST_FIRST
    hint, exploded = where.index(order_by.field.value)
    order = order_by.keyset()
    match = where.match()
    db = run.db
    read = PageRead(ARTICLES, match, order, page_window(args), {}, hint, exploded)
    _connection(run, plan, out, order, read, lambda: reads.count_articles(db, where))


def owned(narrow: Callable[[Doc, ArticleConditions], None]) -> Rule:
    def rule(run: Run, doc: Doc, plan: FieldPlan, out: Doc) -> None:
        where = article_filter(plan.args(run.variables)["filter"])
        narrow(doc, where)
        article_connection(run, plan, out, where)

    return rule


def mentioned_in(run: Run, doc: Doc, plan: FieldPlan, out: Doc) -> None:
    collection = run.db[ARTICLES]
    match = {"related.canonicalUrl": doc["canonicalUrl"]}
    order = reads.NEWEST_FIRST
    paging = page_window(plan.args(run.variables))
    read = PageRead(ARTICLES, match, order, paging, {}, "mentioned_in")

    def count() -> Awaitable[int]:
        return reads.count_matching(collection, match, "mentioned_in")

    _connection(run, plan, out, order, read, count)


def catalog(collection: str) -> Rule:
    """providers or topics, by article count or by name (as catalog_connection)."""

    def rule(run: Run, source: None, plan: FieldPlan, out: Doc) -> None:
        args = plan.args(run.variables)
        order_arg = args.get("orderBy")
        order_by = CatalogOrder(**order_arg) if order_arg is not None else MOST_ARTICLES
        order, hint = order_by.keyset()
        db = run.db
        read = PageRead(collection, {}, order, page_window(args), {}, hint)
        _connection(run, plan, out, order, read, lambda: reads.count_all(db, collection))

    return rule
