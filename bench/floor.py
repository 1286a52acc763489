"""The floor: a hand-written Starlette app answering the benchmark's fixed operations
with the fewest, narrowest MongoDB queries (index-served, projected to what the
response needs, independent queries sent concurrently) and orjson.

It is what newsgraph is measured against: the same data, with no GraphQL machinery.
It accepts the same request body as newsgraph (it dispatches on ``operationName``)
and answers ``{"data": ...}`` that must equal newsgraph's ``data``. It reuses the
API's id and cursor codecs only so that the bytes are the same.

    MONGODB_URI=... NEWSGRAPH_DB=... PORT=... python -m bench.floor

``FLOOR_TAMPER=<operation>`` (one of bench.operations.OPERATIONS) makes that operation
answer one wrong field: the tests use it to prove that the identity check catches a
difference.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import orjson
import uvicorn
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.schema.ids import from_global_id, to_global_id
from api.store.cursors import decode_cursor, encode_cursor
from bench.floor_search import FloorSearch
from bench.operations import OPERATION_NAMES
from storage.contract import (
    ARTICLES,
    PROVIDER_TOPICS,
    PROVIDERS,
    TOPIC_PAIRS,
    TOPICS,
    database_name,
)
from storage.keys import provider_key, topic_key

Doc = dict[str, Any]
Db = AsyncDatabase[Doc]
Handler = Callable[[Db, Mapping[str, Any]], Awaitable[Any]]

NEWEST = [("publishedDateTime", -1), ("_id", -1)]
HOTTEST = [("heat", -1), ("_id", -1)]
MOST = [("articleCount", -1), ("_id", -1)]
# (cursor kind, sort field) of newsgraph's keyset cursors, which the floor emits too.
PUBLISHED = ("published-desc", "publishedDateTime")
HEAT = ("heat-desc", "heat")
CARD_FIELDS = {
    "title": 1,
    "excerpt": 1,
    "publishedDateTime": 1,
    "provider": 1,
    "topicKeys": 1,
    "topics": 1,
    "images": 1,
    "related.title": 1,
    "related.provider.domain": 1,
}


# ---- lookups shared by the operations ---------------------------------------------


async def by_key(db: Db, collection: str, keys: Iterable[str], fields: Doc) -> dict[str, Doc]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    docs = await db[collection].find({"_id": {"$in": wanted}}, fields).to_list()
    return {doc["_id"]: doc for doc in docs}


def provider_name(stored: Mapping[str, Doc], embedded: Mapping[str, Any]) -> str:
    doc = stored.get(embedded["domain"])
    if doc is not None:
        return str(doc["name"])
    return str(embedded.get("name") or embedded["domain"])


def topic_names(doc: Doc, stored: Mapping[str, Doc]) -> list[str]:
    keys = doc.get("topicKeys", [])
    spellings = dict(zip(keys, doc.get("topics", []), strict=False))
    return [stored[key]["name"] if key in stored else spellings.get(key, key) for key in keys]


def lead_image(images: list[Doc]) -> Doc | None:
    """The largest image by area, else the first."""
    if not images:
        return None
    sized = [i for i in images if i.get("width") is not None and i.get("height") is not None]
    if not sized:
        return images[0]
    return max(sized, key=lambda image: image["width"] * image["height"])


def aspect_ratio(image: Mapping[str, Any]) -> float | None:
    width, height = image.get("width"), image.get("height")
    return width / height if width is not None and height else None


def image_fields(image: Doc | None, names: tuple[str, ...]) -> Doc | None:
    if image is None:
        return None
    source = {
        "url": image["url"],
        "width": image.get("width"),
        "height": image.get("height"),
        "title": image.get("title"),
        "isCached": image.get("isCached"),
    }
    out = {name: source[name] for name in names if name in source}
    if "aspectRatio" in names:
        out["aspectRatio"] = aspect_ratio(image)
    return out


async def page(
    db: Db, match: Doc, sort: list[tuple[str, int]], size: int, fields: Doc
) -> tuple[list[Doc], bool]:
    docs = await db[ARTICLES].find(match, fields).sort(sort).limit(size + 1).to_list()
    return docs[:size], len(docs) > size


async def cards(db: Db, docs: list[Doc]) -> list[Doc]:
    """The home page's article fields: one concurrent hop for providers and topics."""
    topic_keys = [key for doc in docs for key in doc.get("topicKeys", [])]
    domains = [doc["provider"]["domain"] for doc in docs]
    providers, topics = await asyncio.gather(
        by_key(db, PROVIDERS, domains, {"name": 1}),
        by_key(db, TOPICS, topic_keys, {"name": 1}),
    )
    return [card(doc, providers, topics) for doc in docs]


def card(doc: Doc, providers: Mapping[str, Doc], topics: Mapping[str, Doc]) -> Doc:
    return {
        "id": to_global_id("Article", doc["_id"]),
        "title": doc["title"],
        "excerpt": doc.get("excerpt"),
        "publishedDateTime": doc["publishedDateTime"],
        "provider": {
            "name": provider_name(providers, doc["provider"]),
            "domain": doc["provider"]["domain"],
        },
        "topics": [{"name": name} for name in topic_names(doc, topics)],
        "leadImage": image_fields(lead_image(doc.get("images", [])), ("url", "width", "height")),
        "related": [
            {
                "title": item["title"],
                "provider": {"domain": item["provider"]["domain"]} if "provider" in item else None,
            }
            for item in doc.get("related", [])
        ],
    }


def page_info(docs: list[Doc], has_next: bool, order: tuple[str, str]) -> Doc:
    kind, field = order
    last = docs[-1] if docs else None
    return {
        "hasNextPage": has_next,
        "endCursor": encode_cursor(kind, last.get(field), last["_id"]) if last else None,
    }


def counted(pairs: list[Doc], field: str, topics: Mapping[str, Doc]) -> list[Doc]:
    return [
        {
            "count": pair["count"],
            "topic": {
                "id": to_global_id("Topic", pair[field]),
                "name": topics[pair[field]]["name"] if pair[field] in topics else pair[field],
            },
        }
        for pair in pairs
    ]


# ---- the operations ---------------------------------------------------------------


async def home(db: Db, variables: Mapping[str, Any]) -> Doc:
    docs, has_next = await page(db, {}, NEWEST, 20, CARD_FIELDS)
    return {
        "articles": {
            "pageInfo": page_info(docs, has_next, PUBLISHED),
            "nodes": await cards(db, docs),
        }
    }


async def deep(db: Db, variables: Mapping[str, Any]) -> Doc:
    value, key = decode_cursor(variables["after"], PUBLISHED[0], datetime)
    match = {
        "$or": [
            {"publishedDateTime": {"$lt": value}},
            {"publishedDateTime": value, "_id": {"$lt": key}},
        ]
    }
    docs, has_next = await page(db, match, NEWEST, 20, CARD_FIELDS)
    return {
        "articles": {
            "pageInfo": page_info(docs, has_next, PUBLISHED),
            "nodes": await cards(db, docs),
        }
    }


IMAGE_FIELDS = ("url", "width", "height", "title", "isCached")


async def article(db: Db, variables: Mapping[str, Any]) -> Doc:
    """Three hops: the article; then its providers, topics, linked and mentioning
    articles at once; then the mentioning articles' providers not yet known."""
    type_name, key = from_global_id(variables["id"])
    doc = await db[ARTICLES].find_one({"_id": key}, {"secured": 0, "contentHash": 0, "extra": 0})
    if type_name != "Article" or doc is None:
        return {"article": None}
    related = doc.get("related", [])
    domains = [doc["provider"]["domain"]]
    domains += [item["provider"]["domain"] for item in related if "provider" in item]
    urls = [item["canonicalUrl"] for item in related]
    providers, topics, linked, mentions = await asyncio.gather(
        by_key(db, PROVIDERS, domains, {"name": 1, "articleCount": 1}),
        by_key(db, TOPICS, doc.get("topicKeys", []), {"name": 1, "articleCount": 1}),
        db[ARTICLES]
        .find({"canonicalUrl": {"$in": urls}}, {"canonicalUrl": 1, "title": 1})
        .to_list(),
        db[ARTICLES]
        .find(
            {"related.canonicalUrl": doc["canonicalUrl"]},
            {"title": 1, "publishedDateTime": 1, "provider": 1},
        )
        .sort(NEWEST)
        .limit(5)
        .to_list(),
    )
    by_url = {found["canonicalUrl"]: found for found in linked}
    unknown = [m["provider"]["domain"] for m in mentions]
    providers |= await by_key(db, PROVIDERS, set(unknown) - set(providers), {"name": 1})
    return {"article": full_article(variables["id"], doc, providers, topics, by_url, mentions)}


def full_article(
    article_id: str,
    doc: Doc,
    providers: Mapping[str, Doc],
    topics: Mapping[str, Doc],
    by_url: Mapping[str, Doc],
    mentions: list[Doc],
) -> Doc:
    domain = doc["provider"]["domain"]
    keys = doc.get("topicKeys", [])
    images = doc.get("images", [])
    return {
        "id": article_id,
        "webUrl": doc["webUrl"],
        "originalUrl": doc.get("originalUrl"),
        "title": doc["title"],
        "excerpt": doc.get("excerpt"),
        "category": doc.get("category"),
        "type": doc.get("type"),
        "publishedDateTime": doc["publishedDateTime"],
        "quality": doc.get("quality"),
        "heat": doc.get("heat"),
        "published": doc.get("published"),
        "provider": {
            "id": to_global_id("Provider", domain),
            "name": provider_name(providers, doc["provider"]),
            "domain": domain,
            "articleCount": providers.get(domain, {}).get("articleCount", 0),
        },
        "topics": [
            {
                "id": to_global_id("Topic", key),
                "name": name,
                "articleCount": topics.get(key, {}).get("articleCount", 0),
            }
            for key, name in zip(keys, topic_names(doc, topics), strict=True)
        ],
        "images": [image_fields(image, (*IMAGE_FIELDS, "aspectRatio")) for image in images],
        "leadImage": image_fields(lead_image(images), ("url", "width", "height", "aspectRatio")),
        "related": [related_item(item, providers, by_url) for item in doc.get("related", [])],
        "mentionedIn": {
            "nodes": [
                {
                    "id": to_global_id("Article", m["_id"]),
                    "title": m["title"],
                    "publishedDateTime": m["publishedDateTime"],
                    "provider": {
                        "name": provider_name(providers, m["provider"]),
                        "domain": m["provider"]["domain"],
                    },
                }
                for m in mentions
            ]
        },
    }


def related_item(item: Doc, providers: Mapping[str, Doc], by_url: Mapping[str, Doc]) -> Doc:
    embedded = item.get("provider")
    linked = by_url.get(item["canonicalUrl"])
    return {
        "title": item["title"],
        "excerpt": item.get("excerpt"),
        "publishedDateTime": item.get("publishedDateTime"),
        "webUrl": item["webUrl"],
        "ampWebUrl": item.get("ampWebUrl"),
        "cdnAmpWebUrl": item.get("cdnAmpWebUrl"),
        "type": item.get("type"),
        "quality": item.get("quality"),
        "images": [image_fields(image, IMAGE_FIELDS) for image in item.get("images", [])],
        "provider": (
            {"name": provider_name(providers, embedded), "domain": embedded["domain"]}
            if embedded
            else None
        ),
        "article": (
            {"id": to_global_id("Article", linked["_id"]), "title": linked["title"]}
            if linked
            else None
        ),
    }


async def topic(db: Db, variables: Mapping[str, Any]) -> Doc:
    key = topic_key(variables["name"])
    found, pairs, (docs, has_next) = await asyncio.gather(
        db[TOPICS].find_one({"_id": key}),
        db[TOPIC_PAIRS]
        .find({"topic": key}, {"other": 1, "count": 1})
        .sort([("count", -1), ("other", 1)])
        .limit(10)
        .to_list(),
        page(db, {"topicKeys": key}, HOTTEST, 20, {**CARD_FIELDS, "heat": 1}),
    )
    if found is None:
        return {"topic": None}
    topic_keys = [pair["other"] for pair in pairs] + [
        k for d in docs for k in d.get("topicKeys", [])
    ]
    providers, topics = await asyncio.gather(
        by_key(db, PROVIDERS, [d["provider"]["domain"] for d in docs], {"name": 1}),
        by_key(db, TOPICS, topic_keys, {"name": 1}),
    )
    return {
        "topic": {
            "id": to_global_id("Topic", key),
            "name": found["name"],
            "articleCount": found.get("articleCount", 0),
            "relatedTopics": counted(pairs, "other", topics),
            "articles": {
                "pageInfo": page_info(docs, has_next, HEAT),
                "nodes": [card(doc, providers, topics) for doc in docs],
            },
        }
    }


async def provider(db: Db, variables: Mapping[str, Any]) -> Doc:
    domain = provider_key(variables["domain"])
    found, pairs, (docs, has_next) = await asyncio.gather(
        db[PROVIDERS].find_one({"_id": domain}),
        db[PROVIDER_TOPICS]
        .find({"provider": domain}, {"topic": 1, "count": 1})
        .sort([("count", -1), ("topic", 1)])
        .limit(10)
        .to_list(),
        page(db, {"provider.domain": domain}, NEWEST, 20, CARD_FIELDS),
    )
    if found is None:
        return {"provider": None}
    topic_keys = [pair["topic"] for pair in pairs] + [
        k for d in docs for k in d.get("topicKeys", [])
    ]
    topics = await by_key(db, TOPICS, topic_keys, {"name": 1})
    return {
        "provider": {
            "id": to_global_id("Provider", domain),
            "name": found["name"],
            "domain": domain,
            "articleCount": found.get("articleCount", 0),
            "topics": counted(pairs, "topic", topics),
            "articles": {
                "pageInfo": page_info(docs, has_next, PUBLISHED),
                "nodes": [card(doc, {domain: found}, topics) for doc in docs],
            },
        }
    }


async def catalog(db: Db, variables: Mapping[str, Any]) -> Doc:
    topics, topic_count, providers, provider_count = await asyncio.gather(
        db[TOPICS].find({}, {"name": 1, "articleCount": 1}).sort(MOST).limit(50).to_list(),
        db[TOPICS].estimated_document_count(),
        db[PROVIDERS].find({}, {"name": 1, "articleCount": 1}).sort(MOST).limit(50).to_list(),
        db[PROVIDERS].estimated_document_count(),
    )
    return {
        "topics": {
            "totalCount": topic_count,
            "nodes": [
                {
                    "id": to_global_id("Topic", t["_id"]),
                    "name": t["name"],
                    "articleCount": t["articleCount"],
                }
                for t in topics
            ],
        },
        "providers": {
            "totalCount": provider_count,
            "nodes": [
                {
                    "id": to_global_id("Provider", p["_id"]),
                    "name": p["name"],
                    "domain": p["_id"],
                    "articleCount": p["articleCount"],
                }
                for p in providers
            ],
        },
    }


# ---- the web app's operations (bench.web_operations): Home and ArticleDetail ------
# Their documents carry __typename everywhere (Apollo's cache adds it), so do these.

APP_CARD_FIELDS = {
    "title": 1,
    "excerpt": 1,
    "publishedDateTime": 1,
    "provider": 1,
    "topicKeys": 1,
    "topics": 1,
    "images": 1,
}
# newsgraph counts what the loader does not maintain up to here (api.store.reads).
COUNT_LIMIT = 10_000


def typed(name: str, fields: Doc) -> Doc:
    return {**fields, "__typename": name}


def app_card(doc: Doc, providers: Mapping[str, Doc], topics: Mapping[str, Doc]) -> Doc:
    """The app's ArticleCard fragment."""
    domain = doc["provider"]["domain"]
    keys = doc.get("topicKeys", [])
    image = image_fields(lead_image(doc.get("images", [])), ("url", "width", "height", "title"))
    return typed(
        "Article",
        {
            "id": to_global_id("Article", doc["_id"]),
            "title": doc["title"],
            "excerpt": doc.get("excerpt"),
            "publishedDateTime": doc["publishedDateTime"],
            "provider": typed(
                "Provider",
                {
                    "id": to_global_id("Provider", domain),
                    "name": provider_name(providers, doc["provider"]),
                    "domain": domain,
                },
            ),
            "topics": [
                typed("Topic", {"id": to_global_id("Topic", key), "name": name})
                for key, name in zip(keys, topic_names(doc, topics), strict=True)
            ],
            "leadImage": typed("Image", image) if image else None,
        },
    )


def app_edge(cursor: str, node: Doc) -> Doc:
    return typed("ArticleEdge", {"cursor": cursor, "node": node})


def app_page_info(docs: list[Doc], has_next: bool) -> Doc:
    return typed("PageInfo", page_info(docs, has_next, PUBLISHED))


def published_cursor(doc: Doc) -> str:
    return encode_cursor(PUBLISHED[0], doc["publishedDateTime"], doc["_id"])


async def app_home(db: Db, variables: Mapping[str, Any]) -> Doc:
    """Two hops: the page; then its providers and topics, with the count."""
    docs, has_next = await page(db, {}, NEWEST, variables["first"], APP_CARD_FIELDS)
    domains = [doc["provider"]["domain"] for doc in docs]
    topic_keys = [key for doc in docs for key in doc.get("topicKeys", [])]
    count, providers, topics = await asyncio.gather(
        db[ARTICLES].estimated_document_count(),
        by_key(db, PROVIDERS, domains, {"name": 1}),
        by_key(db, TOPICS, topic_keys, {"name": 1}),
    )
    edges = [app_edge(published_cursor(doc), app_card(doc, providers, topics)) for doc in docs]
    connection = {"totalCount": count, "pageInfo": app_page_info(docs, has_next), "edges": edges}
    return {"articles": typed("ArticleConnection", connection)}


async def app_article(db: Db, variables: Mapping[str, Any]) -> Doc:
    """Three hops, as ``article``: the article; then its providers, topics, linked
    and mentioning articles and their count at once; then the mentioning articles'
    providers not yet known."""
    type_name, key = from_global_id(variables["id"])
    doc = await db[ARTICLES].find_one({"_id": key}, {"secured": 0, "contentHash": 0, "extra": 0})
    if type_name != "Article" or doc is None:
        return {"article": None}
    related = doc.get("related", [])
    domains = [doc["provider"]["domain"]]
    domains += [item["provider"]["domain"] for item in related if "provider" in item]
    mentioning = {"related.canonicalUrl": doc["canonicalUrl"]}
    providers, topics, linked, mentions, mention_count = await asyncio.gather(
        by_key(db, PROVIDERS, domains, {"name": 1}),
        by_key(db, TOPICS, doc.get("topicKeys", []), {"name": 1}),
        db[ARTICLES]
        .find(
            {"canonicalUrl": {"$in": [item["canonicalUrl"] for item in related]}},
            {"canonicalUrl": 1, "title": 1},
        )
        .to_list(),
        db[ARTICLES]
        .find(mentioning, {"title": 1, "publishedDateTime": 1, "provider": 1})
        .sort(NEWEST)
        .limit(10)
        .to_list(),
        db[ARTICLES].count_documents(mentioning, limit=COUNT_LIMIT),
    )
    unknown = {m["provider"]["domain"] for m in mentions} - set(providers)
    providers |= await by_key(db, PROVIDERS, unknown, {"name": 1})
    by_url = {found["canonicalUrl"]: found for found in linked}
    article = {
        **app_card(doc, providers, topics),
        "webUrl": doc["webUrl"],
        "originalUrl": doc.get("originalUrl"),
        "category": doc.get("category"),
        "type": doc.get("type"),
        "quality": doc.get("quality"),
        "heat": doc.get("heat"),
        "published": doc.get("published"),
        "images": [
            typed("Image", image_fields(image, ("url", "width", "height", "title")) or {})
            for image in doc.get("images", [])
        ],
        "related": [app_related_item(item, providers, by_url) for item in related],
        "mentionedIn": typed(
            "ArticleConnection",
            {
                "totalCount": mention_count,
                "edges": [
                    app_edge(published_cursor(m), app_mention(m, providers)) for m in mentions
                ],
            },
        ),
    }
    return {"article": article}


def app_related_item(item: Doc, providers: Mapping[str, Doc], by_url: Mapping[str, Doc]) -> Doc:
    embedded = item.get("provider")
    linked = by_url.get(item["canonicalUrl"])
    provider = {
        "id": to_global_id("Provider", embedded["domain"]) if embedded else None,
        "name": provider_name(providers, embedded) if embedded else None,
        "domain": embedded["domain"] if embedded else None,
    }
    found = (
        {"id": to_global_id("Article", linked["_id"]), "title": linked["title"]} if linked else None
    )
    return typed(
        "RelatedItem",
        {
            "title": item["title"],
            "excerpt": item.get("excerpt"),
            "publishedDateTime": item.get("publishedDateTime"),
            "webUrl": item["webUrl"],
            "provider": typed("Provider", provider) if embedded else None,
            "article": typed("Article", found) if found else None,
        },
    )


def app_mention(doc: Doc, providers: Mapping[str, Doc]) -> Doc:
    domain = doc["provider"]["domain"]
    provider = {
        "id": to_global_id("Provider", domain),
        "name": provider_name(providers, doc["provider"]),
    }
    fields = {
        "id": to_global_id("Article", doc["_id"]),
        "title": doc["title"],
        "publishedDateTime": doc["publishedDateTime"],
        "provider": typed("Provider", provider),
    }
    return typed("Article", fields)


HANDLERS: dict[str, Handler] = {
    "home": home,
    "article": article,
    "topic": topic,
    "provider": provider,
    "deep": deep,
    "catalog": catalog,
    # By operationName: the app's own names (bench.operations.WEB_OPERATIONS).
    "Home": app_home,
    "ArticleDetail": app_article,
}


def tampered(handler: Handler) -> Handler:
    """The same answer with one field changed: the first string found gets a suffix."""

    def spoil(value: Any) -> tuple[Any, bool]:
        if isinstance(value, str):
            return value + " (tampered)", True
        if isinstance(value, dict):
            for name, item in value.items():
                value[name], done = spoil(item)
                if done:
                    return value, True
        if isinstance(value, list):
            for index, item in enumerate(value):
                value[index], done = spoil(item)
                if done:
                    return value, True
        return value, False

    async def answer(db: Db, variables: Mapping[str, Any]) -> Any:
        return spoil(await handler(db, variables))[0]

    return answer


def create_floor(uri: str, database: str, tamper: str | None = None) -> Starlette:
    # Search on the same engine as newsgraph's (bench/floor_search.py).
    engine = FloorSearch()
    handlers = {**HANDLERS, "search": engine.answer}
    if tamper:
        name = OPERATION_NAMES.get(tamper, tamper)
        handlers[name] = tampered(handlers[name])

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client: AsyncMongoClient[Doc] = AsyncMongoClient(uri, tz_aware=True, appname="floor")
        app.state.db = client[database]
        await engine.build(app.state.db)  # before it is ready: /readyz waits for it
        try:
            yield
        finally:
            engine.close()
            await client.close()

    async def graphql(request: Request) -> Response:
        payload = orjson.loads(await request.body())
        handler = handlers.get(payload.get("operationName"))
        if handler is None:
            return Response(b'{"error":"unknown operation"}', status_code=400)
        data = await handler(request.app.state.db, payload.get("variables") or {})
        return Response(orjson.dumps({"data": data}), media_type="application/json")

    async def readyz(request: Request) -> Response:
        await request.app.state.db.command("ping")
        return Response(b'{"status":"ready"}', media_type="application/json")

    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"]), Route("/readyz", readyz)],
        lifespan=lifespan,
    )


def main() -> None:
    app = create_floor(
        os.environ.get("MONGODB_URI") or "mongodb://127.0.0.1:27017/",
        database_name(),
        os.environ.get("FLOOR_TAMPER") or None,
    )
    uvicorn.run(
        app,
        host=os.environ.get("HOST") or "127.0.0.1",
        port=int(os.environ.get("PORT") or 8001),
        log_level="warning",
    )


if __name__ == "__main__":
    main()
