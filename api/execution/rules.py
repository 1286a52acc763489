"""How each field of the schema is built from stored documents: one rule per
(type, field), mirroring what the Strawberry types and resolvers answer
(``api.schema``), and the stored fields each one reads (``paths_of``).

A field that needs another read asks the run's current round for it and fills in
its key when the round has run; every other field is written at once."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from api.errors import BadUserInput
from api.execution.connections import (
    CONNECTION,
    EDGE,
    PAGE_INFO,
    article_connection,
    article_filter,
    catalog,
    mentioned_in,
    owned,
)
from api.execution.plan import FieldPlan, Fields, Rule, Unsupported
from api.execution.rounds import Found, projection
from api.execution.run import Run, build, build_all
from api.execution.search import SEARCH_CONNECTION, SEARCH_EDGE, SEARCH_HIGHLIGHTS, search
from api.execution.values import (
    Constant,
    array,
    date_time,
    document,
    from_source,
    integer,
    opt_boolean,
    opt_date_time,
    opt_float,
    opt_integer,
    opt_string,
    required,
    stored,
    string,
)
from api.schema.ids import from_global_id, to_global_id
from api.store import reads
from api.store.pagination import MAX_PAGE, page_size
from storage.contract import (
    ARTICLES,
    CATEGORIES,
    PROVIDER_TOPICS,
    PROVIDERS,
    TOPIC_PAIRS,
    TOPICS,
)
from storage.keys import provider_key, topic_key

Doc = dict[str, Any]
NODE_COLLECTIONS = {
    "Article": ARTICLES,
    "Provider": PROVIDERS,
    "Topic": TOPICS,
    "Category": CATEGORIES,
}


def _fields(plan: FieldPlan, type_name: str | None = None) -> Fields:
    assert plan.sub is not None
    return plan.sub.fields(type_name)


def _paths(plan: FieldPlan, type_name: str | None = None) -> set[str]:
    assert plan.sub is not None
    return plan.sub.paths(type_name)


# --- Images, as api.schema.types.Image and lead_image -------------------------------


def _images_of(holder: Doc) -> list[Doc]:
    return [document(image) for image in array(holder.get("images", []))]


def _aspect_ratio(image: Doc) -> float | None:
    width, height = image.get("width"), image.get("height")
    return opt_float(width / height if width is not None and height else None)


def _lead_image(images: list[Doc]) -> Doc | None:
    sized = [i for i in images if i.get("width") is not None and i.get("height") is not None]
    if sized:
        return max(sized, key=lambda i: integer(i["width"]) * integer(i["height"]))
    return images[0] if images else None


def _images(run: Run, holder: Doc, plan: FieldPlan, out: Doc) -> None:
    fields = plan.children
    out[plan.key] = build_all(run, fields, _images_of(holder))


def _lead(run: Run, doc: Doc, plan: FieldPlan, out: Doc) -> None:
    image = _lead_image(_images_of(doc))
    out[plan.key] = None if image is None else build(run, plan.children, image)


IMAGE: dict[str, Rule] = {
    "url": required("url", string),
    "width": stored("width", opt_integer),
    "height": stored("height", opt_integer),
    "title": stored("title", opt_string),
    "isCached": stored("isCached", opt_boolean),
    "aspectRatio": from_source(_aspect_ratio),
}


# --- Providers and topics, looked up by key ------------------------------------------


def _provider(run: Run, embedded: Doc, plan: FieldPlan, out: Doc) -> None:
    """The provider of an embedded {name, domain}: the stored one, else (a related
    item's source with no articles) one made of the embedded name."""
    domain = embedded["domain"]
    paths = plan.child_paths
    if not paths:  # only the domain and what follows from it: no need to read
        out[plan.key] = build(run, plan.children, {"_id": domain})
        return
    out[plan.key] = None

    def then(stored: Doc | None) -> None:
        if stored is None:
            stored = {"_id": domain, "name": embedded.get("name") or domain}
        out[plan.key] = build(run, plan.children, stored)

    run.round.lookup_one(PROVIDERS, "_id", domain, paths, then)


def _article_topics(run: Run, doc: Doc, plan: FieldPlan, out: Doc) -> None:
    keys = array(doc.get("topicKeys", []))
    if not keys:
        out[plan.key] = []
        return
    names = dict(zip(keys, doc.get("topics", []), strict=False))
    paths = plan.child_paths
    if not paths:  # only the key and what follows from it
        fields = plan.children
        out[plan.key] = [build(run, fields, {"_id": key}) for key in keys]
        return
    out[plan.key] = None

    def then(found: Found) -> None:
        fields = plan.children
        out[plan.key] = [
            build(run, fields, stored or {"_id": key, "name": names.get(key, key)})
            for key, stored in zip(keys, found, strict=True)
        ]

    run.round.lookup(TOPICS, "_id", keys, paths, then)


def _ranked(pairs: str, owner: str, other: str, target: str) -> Rule:
    """A list of TopicCount or ProviderCount rows: the rows of the pair collection
    ``pairs`` whose ``owner`` is this document, ranked, then the ``target`` documents
    their ``other`` field names (a key with no stored document keeps the key as its
    name)."""

    def rule(run: Run, doc: Doc, plan: FieldPlan, out: Doc) -> None:
        out[plan.key] = None

        def rows_read(rows: list[Doc]) -> None:
            keys = [row[other] for row in rows]
            if not keys:
                out[plan.key] = []
                return

            def then(found: Found) -> None:
                fields = plan.children
                out[plan.key] = [
                    build(run, fields, (row, stored or {"_id": key, "name": key}))
                    for key, row, stored in zip(keys, rows, found, strict=True)
                ]

            paths = _count_target(plan)
            if paths:
                run.round.lookup(target, "_id", keys, paths, then)
            else:  # only the keys and what follows from them
                then([{"_id": key} for key in keys])

        first = page_size(plan.args(run.variables)["first"])
        run.round.rank(reads.Ranked(pairs, owner, other, doc["_id"], first), rows_read)

    return rule


def _count_target(plan: FieldPlan) -> set[str]:
    """The stored fields of the topic or provider inside a TopicCount/ProviderCount."""
    paths: set[str] = set()
    for child in plan.children:
        if child.sub is not None:
            paths |= child.child_paths
    return paths


def _counted(run: Run, source: tuple[Doc, Doc], plan: FieldPlan, out: Doc) -> None:
    out[plan.key] = build(run, plan.children, source[1])


COUNT_ROW: dict[str, Rule] = {
    "count": from_source(lambda source: integer(source[0]["count"])),
    "topic": _counted,
    "provider": _counted,
}


# --- Objects by key ------------------------------------------------------------------


def _one(run: Run, plan: FieldPlan, out: Doc, type_name: str, key: Any) -> None:
    out[plan.key] = None

    def then(stored: Doc | None) -> None:
        if stored is not None:
            out[plan.key] = build(run, _fields(plan, type_name), stored)

    collection = NODE_COLLECTIONS[type_name]
    run.round.lookup_one(collection, "_id", key, _paths(plan, type_name), then)


def _node(run: Run, source: None, plan: FieldPlan, out: Doc) -> None:
    _one(run, plan, out, *from_global_id(plan.args(run.variables)["id"]))


def _nodes_by_id(run: Run, source: None, plan: FieldPlan, out: Doc) -> None:
    ids = plan.args(run.variables)["ids"]
    if len(ids) > MAX_PAGE:
        raise BadUserInput(f"nodes takes at most {MAX_PAGE} ids", argument="ids")
    keys = [from_global_id(global_id) for global_id in ids]
    found: list[Doc | None] = [None] * len(keys)
    out[plan.key] = found

    for index, (type_name, key) in enumerate(keys):

        def then(stored: Doc | None, index: int = index, type_name: str = type_name) -> None:
            if stored is not None:
                found[index] = build(run, _fields(plan, type_name), stored)

        collection = NODE_COLLECTIONS[type_name]
        run.round.lookup_one(collection, "_id", key, _paths(plan, type_name), then)


def _article(run: Run, source: None, plan: FieldPlan, out: Doc) -> None:
    type_name, key = from_global_id(plan.args(run.variables)["id"])
    if type_name != "Article":
        out[plan.key] = None
        return
    _one(run, plan, out, type_name, key)


def _related_article(run: Run, item: Doc, plan: FieldPlan, out: Doc) -> None:
    out[plan.key] = None

    def then(stored: Doc | None) -> None:
        if stored is not None:
            out[plan.key] = build(run, plan.children, stored)

    run.round.lookup_one(ARTICLES, "canonicalUrl", item["canonicalUrl"], plan.child_paths, then)


def _categories(run: Run, source: None, plan: FieldPlan, out: Doc) -> None:
    out[plan.key] = None
    shape = projection(plan.child_paths, "_id")

    def docs() -> Awaitable[list[Doc]]:
        cursor = run.db[CATEGORIES].find({}, shape).sort([("articleCount", -1), ("_id", 1)])
        return cursor.hint("count_name").to_list()

    def then(found: list[Doc]) -> None:
        fields = plan.children
        out[plan.key] = build_all(run, fields, found)

    run.round.call(docs, then)


QUERY: dict[str, Rule] = {
    "node": _node,
    "nodes": _nodes_by_id,
    "article": _article,
    "articles": lambda run, source, plan, out: article_connection(
        run, plan, out, article_filter(plan.args(run.variables)["filter"])
    ),
    "provider": lambda run, source, plan, out: _one(
        run, plan, out, "Provider", provider_key(plan.args(run.variables)["domain"])
    ),
    "providers": catalog(PROVIDERS),
    "topic": lambda run, source, plan, out: _one(
        run, plan, out, "Topic", topic_key(plan.args(run.variables)["name"])
    ),
    "topics": catalog(TOPICS),
    "categories": _categories,
    "search": search,
}


# --- The node types ------------------------------------------------------------------


def _related(run: Run, doc: Doc, plan: FieldPlan, out: Doc) -> None:
    fields = plan.children
    items = [document(item) for item in array(doc.get("related", []))]
    out[plan.key] = build_all(run, fields, items)


def _related_provider(run: Run, item: Doc, plan: FieldPlan, out: Doc) -> None:
    embedded = item.get("provider")
    if embedded:
        _provider(run, embedded, plan, out)
    else:
        out[plan.key] = None


def _global_id(type_name: str) -> Rule:
    return from_source(lambda doc: to_global_id(type_name, string(doc["_id"])))


def _category_name(doc: Doc) -> str:
    return string(doc.get("name") or doc["_id"])


ARTICLE: dict[str, Rule] = {
    "id": _global_id("Article"),
    "webUrl": stored("webUrl", string, ""),
    "originalUrl": stored("originalUrl", opt_string),
    "title": stored("title", string, ""),
    "excerpt": stored("excerpt", opt_string),
    "category": stored("category", opt_string),
    "type": stored("type", opt_string),
    "publishedDateTime": stored("publishedDateTime", date_time),
    "quality": stored("quality", opt_integer),
    "heat": stored("heat", opt_integer),
    "published": stored("published", opt_boolean),
    "images": _images,
    "leadImage": _lead,
    "related": _related,
    "provider": lambda run, doc, plan, out: _provider(run, doc["provider"], plan, out),
    "topics": _article_topics,
    "mentionedIn": mentioned_in,
}
RELATED_ITEM: dict[str, Rule] = {
    "title": required("title", string),
    "excerpt": stored("excerpt", opt_string),
    "publishedDateTime": stored("publishedDateTime", opt_date_time),
    "webUrl": required("webUrl", string),
    "ampWebUrl": stored("ampWebUrl", opt_string),
    "cdnAmpWebUrl": stored("cdnAmpWebUrl", opt_string),
    "type": stored("type", opt_string),
    "quality": stored("quality", opt_integer),
    "images": _images,
    "provider": _related_provider,
    "article": _related_article,
}
PROVIDER: dict[str, Rule] = {
    "id": _global_id("Provider"),
    "name": required("name", string),
    "domain": required("_id", string),
    "articleCount": stored("articleCount", integer, 0),
    "articles": owned(lambda doc, where: where.domains.append([string(doc["_id"])])),
    "topics": _ranked(PROVIDER_TOPICS, "provider", "topic", TOPICS),
}
TOPIC: dict[str, Rule] = {
    "id": _global_id("Topic"),
    "name": required("name", string),
    "articleCount": stored("articleCount", integer, 0),
    "articles": owned(lambda doc, where: where.all_topics.append(string(doc["_id"]))),
    "relatedTopics": _ranked(TOPIC_PAIRS, "topic", "other", TOPICS),
    "providers": _ranked(PROVIDER_TOPICS, "topic", "provider", PROVIDERS),
}
CATEGORY: dict[str, Rule] = {
    "id": _global_id("Category"),
    "name": from_source(_category_name),
    "articleCount": stored("articleCount", integer, 0),
    "articles": owned(lambda doc, where: where.categories.append(_category_name(doc))),
}

RULES: dict[str, dict[str, Rule]] = {
    "Query": QUERY,
    "Article": ARTICLE,
    "RelatedItem": RELATED_ITEM,
    "Image": IMAGE,
    "Provider": PROVIDER,
    "Topic": TOPIC,
    "Category": CATEGORY,
    "TopicCount": COUNT_ROW,
    "ProviderCount": COUNT_ROW,
    "ArticleConnection": CONNECTION,
    "ProviderConnection": CONNECTION,
    "TopicConnection": CONNECTION,
    "ArticleEdge": EDGE,
    "ProviderEdge": EDGE,
    "TopicEdge": EDGE,
    "ArticleSearchConnection": SEARCH_CONNECTION,
    "ArticleSearchEdge": SEARCH_EDGE,
    "SearchHighlights": SEARCH_HIGHLIGHTS,
    "PageInfo": PAGE_INFO,
}


def rule_for(type_name: str, field_name: str) -> Rule:
    if field_name == "__typename":
        return Constant(type_name)
    rule = RULES.get(type_name, {}).get(field_name)
    if rule is None:
        raise Unsupported(f"{type_name}.{field_name}")
    return rule


# --- What each type's selection reads --------------------------------------------------

# Article fields read from the stored field of the same name.
_ARTICLE_SCALARS = {
    "webUrl",
    "originalUrl",
    "title",
    "excerpt",
    "category",
    "type",
    "publishedDateTime",
    "quality",
    "heat",
    "published",
}
_ARTICLE_READS = {
    "images": ("images",),
    "leadImage": ("images",),
    "provider": ("provider",),
    "topics": ("topics", "topicKeys"),
    "mentionedIn": ("canonicalUrl",),
}
_RELATED_READS = {
    "images": "images",
    "provider": "provider",
    "article": "canonicalUrl",
}


def paths_of(type_name: str, fields: list[FieldPlan]) -> set[str]:
    paths: set[str] = set()
    for field in fields:
        name = field.name
        if type_name == "Article":
            if name in _ARTICLE_SCALARS:
                paths.add(name)
            elif name == "related":
                paths |= {f"related.{part}" for part in _related_paths(field)}
            else:
                paths.update(_ARTICLE_READS.get(name, ()))
        elif name in ("name", "articleCount") and type_name in ("Provider", "Topic", "Category"):
            paths.add(name)
        elif name == "articles" and type_name == "Category":
            paths.add("name")
    return paths


def _related_paths(plan: FieldPlan) -> set[str]:
    # An empty projection of related would drop it: read one field at least, so
    # each item is there for its __typename.
    parts = {"title"}
    for child in plan.children:
        if child.name != "__typename":
            parts.add(_RELATED_READS.get(child.name, child.name))
    return parts
