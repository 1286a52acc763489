"""A corpus for the search tests and a plain-Python oracle of what search must
answer on it: words (by their inflections), phrases, exclusions, filters, orders."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

from api.schema.ids import to_global_id
from loaders.urls import article_id, canonical_url
from storage.keys import topic_key
from tests.articles import article
from tests.conftest import ServedAPI
from tests.query_corpus import corpus_doc, matches

# Each word with the inflections English stemming must treat as it.
FORMS = {
    "ban": ["ban", "bans", "banned"],
    "launch": ["launch", "launches", "launched"],
    "storm": ["storm", "storms"],
    "vote": ["vote", "votes", "voted"],
    "rocket": ["rocket", "rockets"],
    "garden": ["garden", "gardens"],
    "police": ["police"],
    "facial": ["facial"],
    "recognition": ["recognition"],
    "council": ["council", "councils"],
    "budget": ["budget", "budgets"],
    "river": ["river", "rivers"],
}
LEMMA = {form: lemma for lemma, forms in FORMS.items() for form in forms}
FILLER = ["the", "of", "and", "in", "a"]  # stop words, kept in the text
SIZE = 60


def texts(n: int) -> tuple[str, str]:
    rng = random.Random(n)
    lemmas = sorted(FORMS)

    def sentence(length: int) -> str:
        words = []
        for _ in range(length):
            if rng.random() < 0.25:
                words.append(rng.choice(FILLER))
            else:
                words.append(rng.choice(FORMS[rng.choice(lemmas)]))
        return " ".join(words)

    title = sentence(5)
    if n % 7 == 0:
        title += " facial recognition"
    return title.capitalize(), sentence(12) + "."


def search_doc(n: int) -> dict[str, Any]:
    title, excerpt = texts(n)
    doc = corpus_doc(n)
    doc.update(title=title, excerpt=excerpt, webUrl=f"https://www.example.com/search/{n}")
    return doc


def extra_doc(n: int, title: str, excerpt: str, date: str) -> dict[str, Any]:
    """An article added during a test (n above SIZE)."""
    return article(
        n, title=title, excerpt=excerpt, publishedDateTime=date,
        webUrl=f"https://www.example.com/search/{n}",
    )  # fmt: skip


def lemmas(text: str) -> list[str]:
    words = "".join(c.lower() if c.isalnum() else " " for c in text).split()
    return [LEMMA.get(word, word) for word in words]


def has_phrase(tokens: list[str], phrase: list[str]) -> bool:
    return any(tokens[i : i + len(phrase)] == phrase for i in range(len(tokens)))


def oracle_doc(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": article_id(canonical_url(doc["webUrl"])),
        "title": lemmas(doc["title"]),
        "excerpt": lemmas(doc["excerpt"]),
        "topicKeys": {topic_key(t) for t in doc["topics"]},
        "domain": doc["provider"]["domain"],
        "category": doc["category"],
        "type": doc["type"],
        "published": doc["published"],
        "publishedDateTime": datetime.fromisoformat(doc["publishedDateTime"]).astimezone(UTC),
        "quality": doc.get("quality"),
        "heat": doc.get("heat"),
    }


def hits(
    docs: list[dict[str, Any]],
    words: list[str],
    phrases: list[list[str]] = (),  # type: ignore[assignment]
    excluded: list[str] = (),  # type: ignore[assignment]
    f: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The oracle: any word, every phrase, no excluded word, and the filter."""
    found = []
    for doc in docs:
        texts_ = (doc["title"], doc["excerpt"])
        if words and not phrases and not any(w in t for w in words for t in texts_):
            continue
        if not all(any(has_phrase(t, p) for t in texts_) for p in phrases):
            continue
        if any(w in t for w in excluded for t in texts_):
            continue
        if f and not matches(doc, f):
            continue
        found.append(doc)
    return found


def newest(docs: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(docs, key=lambda d: (d["publishedDateTime"], d["key"]), reverse=True)
    return [to_global_id("Article", d["key"]) for d in ordered]


def ids(docs: list[dict[str, Any]]) -> set[str]:
    return {to_global_id("Article", d["key"]) for d in docs}


def wait_searchable(api: ServedAPI, count: int, timeout: float = 10.0) -> float:
    """Waits until the index holds ``count`` articles and is current; the seconds it took."""
    started = time.monotonic()
    while True:
        search = api.client.get("/readyz").json().get("search", {})
        if search.get("documents") == count and search.get("state") == "current":
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"search did not reach {count} articles: {search}")
        time.sleep(0.05)
