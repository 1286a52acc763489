"""The benchmark's operations: the query mix of a news frontend, as GraphQL documents,
and the pools of variables (ids, names, domains, cursors) each one rotates over.

Both servers receive the very same request body (``{"query", "operationName",
"variables"}``); the floor dispatches on ``operationName`` and ignores the query text.

``app-home`` and ``app-article`` are the example web app's Home and ArticleDetail
operations, read from its source (bench.web_operations) as it sends them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import orjson
from pymongo import MongoClient

from api.schema.ids import to_global_id
from bench.corpus import vocabulary
from bench.web_operations import app_document
from storage.contract import ARTICLES, PROVIDERS, TOPICS

# The fields of an article in a list (home page, topic page, provider page, deep page).
CARD = """
  id title excerpt publishedDateTime
  provider { name domain }
  topics { name }
  leadImage { url width height }
  related { title provider { domain } }
"""

DOCUMENTS: dict[str, str] = {
    "home": f"""query home {{
  articles(first: 20) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {CARD} }} }}
}}""",
    "article": """query article($id: ID!) {
  article(id: $id) {
    id webUrl originalUrl title excerpt category type publishedDateTime quality heat published
    provider { id name domain articleCount }
    topics { id name articleCount }
    images { url width height title isCached aspectRatio }
    leadImage { url width height aspectRatio }
    related {
      title excerpt publishedDateTime webUrl ampWebUrl cdnAmpWebUrl type quality
      images { url width height title isCached }
      provider { name domain }
      article { id title }
    }
    mentionedIn(first: 5) { nodes { id title publishedDateTime provider { name domain } } }
  }
}""",
    "topic": f"""query topic($name: String!) {{
  topic(name: $name) {{
    id name articleCount
    relatedTopics(first: 10) {{ count topic {{ id name }} }}
    articles(first: 20, orderBy: {{field: HEAT, direction: DESC}}) {{
      pageInfo {{ hasNextPage endCursor }} nodes {{ {CARD} }}
    }}
  }}
}}""",
    "provider": f"""query provider($domain: String!) {{
  provider(domain: $domain) {{
    id name domain articleCount
    topics(first: 10) {{ count topic {{ id name }} }}
    articles(first: 20) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {CARD} }} }}
  }}
}}""",
    "deep": f"""query deep($after: String!) {{
  articles(first: 20, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {CARD} }} }}
}}""",
    "search": """query search($query: String!) {
  search(query: $query, first: 20) { edges { score node { id title } } }
}""",
    "catalog": """query catalog {
  topics(first: 50) { totalCount nodes { id name articleCount } }
  providers(first: 50) { totalCount nodes { id name domain articleCount } }
}""",
}

# The web app's operations: the bench's name, and the operation's name in the app.
WEB_OPERATIONS = {"app-home": "Home", "app-article": "ArticleDetail"}
DOCUMENTS |= {operation: app_document(name) for operation, name in WEB_OPERATIONS.items()}
# The operationName of each request (what the floor dispatches on).
OPERATION_NAMES = {operation: WEB_OPERATIONS.get(operation, operation) for operation in DOCUMENTS}

OPERATIONS = tuple(DOCUMENTS)


def search_queries() -> list[str]:
    """Words at several ranks of the corpus's Zipf vocabulary (bench.corpus): common
    (each in about one article in nine), medium, rare, a phrase, an exclusion."""
    words = vocabulary()

    def at(*ranks: int) -> str:
        return " ".join(words[rank] for rank in ranks)

    return [
        at(0, 1, 2),  # "police facial recognition"
        at(5, 9),
        at(300, 700, 1500),
        at(20_000, 45_000),
        f'"{at(0, 1)}"',
        f"{at(1, 2)} -{at(0)}",
    ]


POOL_SIZE = 20
DEEP_PAGE = 500  # the page `deep` asks for (1-based), or the deepest one that exists
PAGE = 20


def body(operation: str, variables: dict[str, Any]) -> bytes:
    """The HTTP request body sent to both servers."""
    name = OPERATION_NAMES[operation]
    return orjson.dumps(
        {"query": DOCUMENTS[operation], "operationName": name, "variables": variables}
    )


@dataclass
class Pools:
    """For each operation, the variables its requests rotate over."""

    variables: dict[str, list[dict[str, Any]]]
    deep_pages: tuple[int, int]  # the first and last page `deep` asks for (1-based)

    def bodies(self, operation: str) -> list[bytes]:
        return [body(operation, variables) for variables in self.variables[operation]]

    def set_deep_cursors(self, cursors: list[str]) -> None:
        """The cursors that open the deep pages, taken from newsgraph by paging
        (``bench.checks.deep_cursors``) once the pools say which pages they are."""
        self.variables["deep"] = [{"after": cursor} for cursor in cursors]


def _sample(rng: random.Random, items: list[Any], size: int) -> list[Any]:
    return rng.sample(items, min(size, len(items)))


def build_pools(client: MongoClient[dict[str, Any]], database: str, seed: int) -> Pools:
    """Ids, names and domains picked from the loaded corpus with the fixed seed; the
    deep pages' cursors are added by ``Pools.set_deep_cursors``."""
    db = client[database]
    rng = random.Random(seed)
    ids = [doc["_id"] for doc in db[ARTICLES].find({}, {"_id": 1}).sort("_id", 1)]
    # Topic and provider pages people open are the popular ones: the top 200 by count.
    topics = [
        doc["name"]
        for doc in db[TOPICS]
        .find({}, {"name": 1})
        .sort([("articleCount", -1), ("_id", 1)])
        .limit(200)
    ]
    domains = [
        doc["_id"]
        for doc in db[PROVIDERS]
        .find({}, {"_id": 1})
        .sort([("articleCount", -1), ("_id", 1)])
        .limit(200)
    ]
    first, last = _deep_range(len(ids))
    articles = [{"id": to_global_id("Article", key)} for key in _sample(rng, ids, 50)]
    return Pools(
        variables={
            "home": [{}],
            "article": articles,
            "topic": [{"name": name} for name in _sample(rng, topics, POOL_SIZE)],
            "provider": [{"domain": domain} for domain in _sample(rng, domains, POOL_SIZE)],
            "deep": [],
            "search": [{"query": query} for query in search_queries()],
            "catalog": [{}],
            "app-home": [{"first": 20}],  # the app's first page (PAGE_SIZE)
            "app-article": articles,
        },
        deep_pages=(first, last),
    )


def _deep_range(count: int) -> tuple[int, int]:
    """The pages `deep` rotates over: DEEP_PAGE and the next ones, or, when the corpus
    is too small, the deepest full pages that exist."""
    last_full = max(2, count // PAGE)
    last = min(DEEP_PAGE + POOL_SIZE - 1, last_full)
    first = max(2, last - POOL_SIZE + 1)
    return first, last
