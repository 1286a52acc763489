"""The rules of ``search`` and of its types (``ArticleSearchConnection``,
``ArticleSearchEdge``, ``SearchHighlights``), answering as ``api.schema.search``
does: the page's hits come from the index at once (it is in process, and
synchronous), then its articles from the round's lookup of articles by key,
projected to what the selection reads (title and excerpt too when highlights are
selected). An article the index still has but MongoDB no longer does is left out.

Anything the reference raises (bad query text, a bad cursor, a page size out of
bounds, an index still being built) is raised here before any read, and the
request runs on the reference path, which answers it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.execution.connections import Paged, article_filter, node_paths, page_window
from api.execution.plan import FieldPlan, Rule
from api.execution.rounds import Found
from api.execution.run import Run, build, build_all
from api.execution.values import floating, from_source, integer, opt_string, string
from api.search.searcher import Hit, SearchPage
from storage.contract import ARTICLES

Doc = dict[str, Any]


@dataclass
class SearchResults(Paged):
    """The source of an ArticleSearchConnection and of its PageInfo."""

    page: SearchPage
    found: list[tuple[Hit, Doc]]  # the hits whose article is stored, in order

    def cursor_at(self, index: int) -> str | None:
        return self.found[index][0].cursor if self.found else None


@dataclass
class SearchEdge:
    page: SearchPage
    hit: Hit
    doc: Doc


def search(run: Run, source: None, plan: FieldPlan, out: Doc) -> None:
    """Query.search: the page from the index now, its articles in the round."""
    args = plan.args(run.variables)
    if run.search is None:
        raise LookupError("no search service in this request's app")
    order = args["orderBy"].value  # SearchOrder's values are the searcher's orders
    query = run.search.search_built(args["query"], article_filter(args["filter"]), order)
    window = page_window(args)
    out[plan.key] = None

    def paged(page: SearchPage) -> None:
        keys = [hit.key for hit in page.hits]
        if not keys:
            out[plan.key] = build(run, plan.children, SearchResults(page, []))
            return

        def then(docs: Found) -> None:
            hits = zip(page.hits, docs, strict=True)
            stored = [(hit, doc) for hit, doc in hits if doc is not None]
            out[plan.key] = build(run, plan.children, SearchResults(page, stored))

        run.round.lookup(ARTICLES, "_id", keys, _article_paths(plan), then)

    if query.costly():
        run.round.call(lambda: query.page_in_thread(window), paged)
    else:
        paged(query.page(window))


def _article_paths(plan: FieldPlan) -> set[str]:
    """The stored fields of the page's articles: the nodes', and the highlighted ones."""
    paths = node_paths(plan)
    for child in plan.children:
        if child.name == "edges" and child.wants("highlights"):
            paths |= {"title", "excerpt"}
    return paths


def _edges(run: Run, results: SearchResults, plan: FieldPlan, out: Doc) -> None:
    fields = plan.children
    page = results.page
    out[plan.key] = [build(run, fields, SearchEdge(page, hit, doc)) for hit, doc in results.found]


def _nodes(run: Run, results: SearchResults, plan: FieldPlan, out: Doc) -> None:
    fields = plan.children
    out[plan.key] = build_all(run, fields, [doc for _, doc in results.found])


def _page_info(run: Run, results: SearchResults, plan: FieldPlan, out: Doc) -> None:
    out[plan.key] = build(run, plan.children, results)


def _node(run: Run, edge: SearchEdge, plan: FieldPlan, out: Doc) -> None:
    out[plan.key] = build(run, plan.children, edge.doc)


def _highlights(run: Run, edge: SearchEdge, plan: FieldPlan, out: Doc) -> None:
    # The reference highlights both (SearchHighlights is built whole): a stored value
    # it would fail on fails here too, whichever of the two is selected.
    string(edge.doc.get("title", ""))
    opt_string(edge.doc.get("excerpt"))
    out[plan.key] = build(run, plan.children, edge)


def _title(edge: SearchEdge) -> str:
    return edge.page.highlight("title", edge.doc.get("title", "")) or ""


def _excerpt(edge: SearchEdge) -> str | None:
    return edge.page.highlight("excerpt", edge.doc.get("excerpt"))


SEARCH_CONNECTION: dict[str, Rule] = {
    "edges": _edges,
    "nodes": _nodes,
    "pageInfo": _page_info,
    "totalCount": from_source(lambda results: integer(results.page.count())),
}
SEARCH_EDGE: dict[str, Rule] = {
    "score": from_source(lambda edge: floating(edge.hit.score)),
    "node": _node,
    "cursor": from_source(lambda edge: edge.hit.cursor),
    "highlights": _highlights,
}
SEARCH_HIGHLIGHTS: dict[str, Rule] = {
    "title": from_source(_title),
    "excerpt": from_source(_excerpt),
}
