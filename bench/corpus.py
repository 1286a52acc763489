"""A synthetic news corpus, the same for a given size and seed on every machine.

Realistic in the ways that matter to the loader and the API: optional fields
missing, unicode and double-encoded text, 0 to 5 related items (some pointing at
other articles of the corpus), 0 to 3 images, a few thousand providers and
topics whose popularity has a long tail, and text drawn from a vocabulary of
60,000 words whose frequencies follow Zipf's law, as real news does (so search
meets common, medium and rare words, not 83 words that are each in most articles).

    python -m bench.corpus --n 100000 --out bench/corpus/100000
"""

from __future__ import annotations

import argparse
import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

# Changed with the Zipf vocabulary (issue 12), so no cache of the old corpus is reused.
DEFAULT_SEED = 20261201
FILES_PER_DIR = 1000

WORDS = [
    "police",
    "facial",
    "recognition",
    "cameras",
    "arrest",
    "london",
    "court",
    "crime",
    "privacy",
    "data",
    "government",
    "election",
    "vote",
    "minister",
    "policy",
    "budget",
    "economy",
    "market",
    "shares",
    "bank",
    "inflation",
    "climate",
    "energy",
    "storm",
    "flood",
    "heat",
    "science",
    "space",
    "rocket",
    "launch",
    "health",
    "hospital",
    "vaccine",
    "virus",
    "study",
    "research",
    "school",
    "teacher",
    "students",
    "university",
    "football",
    "match",
    "league",
    "cup",
    "final",
    "player",
    "coach",
    "transfer",
    "music",
    "film",
    "festival",
    "artist",
    "award",
    "technology",
    "startup",
    "phone",
    "software",
    "robot",
    "ai",
    "chip",
    "security",
    "breach",
    "hackers",
    "ransomware",
    "company",
    "profits",
    "jobs",
    "strike",
    "workers",
    "union",
    "city",
    "council",
    "housing",
    "rent",
    "transport",
    "rail",
    "airport",
    "travel",
    "tourism",
    "food",
    "farming",
    "water",
    "ocean",
]
ACCENTED = ("café", "naïve", "résumé", "Zürich", "São Paulo", "Kraków", "東京", "Αθήνα", "München")
TOPIC_ROOTS = (
    "AI", "Computer Vision", "Privacy", "Policing", "Elections", "Climate", "Energy",
    "Football", "Health", "Vaccines", "Markets", "Startups", "Space", "Security",
    "Housing", "Transport", "Music", "Film", "Education", "Science",
)  # fmt: skip
CATEGORIES = ("news", "news", "news", "business", "sport", "technology", "entertainment")
VOCABULARY_SIZE = 60_000
WORD_SHIFT = 50
_ONSETS = (
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "j",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "w",
    "z",
    "br",
    "ch",
    "cr",
    "dr",
    "fl",
    "gr",
    "pl",
    "pr",
    "sh",
    "st",
    "th",
    "tr",
)
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou")
_CODAS = ("", "", "n", "r", "s", "l", "m", "t", "nd", "st")  # fmt: skip


def vocabulary(size: int = VOCABULARY_SIZE, seed: int = DEFAULT_SEED) -> list[str]:
    """WORDS first (the most frequent), then made-up words of 2 to 4 syllables, in
    the order of their rank. Deterministic for a seed."""
    rng = random.Random(seed)
    words = list(WORDS)
    seen = set(words)
    while len(words) < size:
        syllables = rng.choice((2, 2, 3, 3, 3, 4))
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
        )
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def _zipf_weights(count: int, exponent: float = 1.1, shift: int = 0) -> list[float]:
    """Zipf's law (Zipf-Mandelbrot with a ``shift``: the head is flatter, as for the
    words of news once stop words are set aside)."""
    return [1 / ((rank + shift) ** exponent) for rank in range(1, count + 1)]


class Corpus:
    """Articles number 0..n-1; article i is the same for a given seed whatever n is."""

    def __init__(self, n: int, seed: int = DEFAULT_SEED) -> None:
        self.n = n
        self.seed = seed
        setup = random.Random(seed)
        self.providers = [self._provider(setup, i) for i in range(3000)]
        # Cumulative, as random.choices would compute them on every call (same draws).
        self.provider_weights = list(itertools.accumulate(_zipf_weights(len(self.providers))))
        self.topics = [self._topic(setup, i) for i in range(2000)]
        self.topic_weights = list(itertools.accumulate(_zipf_weights(len(self.topics))))
        self.start = datetime(2019, 1, 1, tzinfo=UTC)
        self.words = vocabulary(VOCABULARY_SIZE, seed)
        # The most frequent word is in about one article in eight, a word of rank
        # 1,000 in one in 150, of rank 50,000 in one in 7,000.
        zipf = _zipf_weights(len(self.words), 1.0, WORD_SHIFT)
        self.word_weights = list(itertools.accumulate(zipf))

    @staticmethod
    def _provider(rng: random.Random, i: int) -> dict[str, str]:
        word = rng.choice(WORDS)
        domain = f"{word}{i}.example.com"
        name = f"The {word.title()} {rng.choice(('Post', 'Times', 'Herald', 'Daily', 'News'))} {i}"
        return {"name": name, "domain": domain}

    @staticmethod
    def _topic(rng: random.Random, i: int) -> str:
        if i < len(TOPIC_ROOTS):
            return TOPIC_ROOTS[i]
        return f"{rng.choice(TOPIC_ROOTS)} {rng.choice(WORDS).title()} {i}"

    def url(self, i: int) -> str:
        provider = self.providers[self._provider_index(i)]
        return f"https://www.{provider['domain']}/news/{i}-{WORDS[i % len(WORDS)]}"

    def _provider_index(self, i: int) -> int:
        rng = random.Random(self.seed * 1_000_003 + i)
        return rng.choices(range(len(self.providers)), cum_weights=self.provider_weights)[0]

    def _sentence(self, rng: random.Random, words: int) -> str:
        picked = rng.choices(self.words, cum_weights=self.word_weights, k=words)
        if rng.random() < 0.1:
            picked.insert(rng.randrange(len(picked)), rng.choice(ACCENTED))
        return " ".join(picked).capitalize()

    def _images(self, rng: random.Random, i: int, count: int) -> list[dict[str, Any]]:
        images = []
        for k in range(count):
            image: dict[str, Any] = {"url": f"https://img.example.net/{i}/{k}.jpg"}
            if rng.random() < 0.9:
                image["width"] = rng.choice((320, 640, 800, 1024, 1620))
                image["height"] = rng.choice((180, 250, 382, 600, 1080))
            if rng.random() < 0.3:
                image["title"] = self._sentence(rng, 6)
            if rng.random() < 0.3:
                image["isCached"] = rng.random() < 0.5
            images.append(image)
        return images

    def article(self, i: int) -> dict[str, Any]:
        rng = random.Random(self.seed * 7_919 + i)
        provider = self.providers[self._provider_index(i)]
        published = self.start + timedelta(minutes=rng.randrange(6 * 365 * 24 * 60))
        # About 35 words an excerpt, 10 a title.
        excerpt = " ".join(self._sentence(rng, rng.randint(8, 15)) + "." for _ in range(3))
        if rng.random() < 0.03:
            # Double-encoded, as some feeds deliver it: the loader must repair it.
            excerpt = f"Tackling ‘{excerpt}’".encode().decode("cp1252", errors="replace")
        doc: dict[str, Any] = {
            "category": rng.choice(CATEGORIES),
            "title": self._sentence(rng, rng.randint(6, 14)),
            "excerpt": excerpt,
            "publishedDateTime": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "webUrl": self.url(i),
            "type": "article",
            "quality": rng.randint(0, 60),
            "heat": rng.randint(0, 100),
            "published": rng.random() < 0.7,
            "provider": dict(provider),
            "topics": sorted(
                set(rng.choices(self.topics, cum_weights=self.topic_weights, k=rng.randint(0, 4))),
                key=self.topics.index,
            ),
            "images": self._images(rng, i, rng.randint(0, 3)),
            "related": [self._related(rng, i) for _ in range(rng.randint(0, 5))],
            "secured": f"{rng.getrandbits(256):064x}",
        }
        for optional in ("category", "excerpt", "quality", "heat", "published", "type"):
            if rng.random() < 0.05:
                del doc[optional]
        if rng.random() < 0.3:
            doc["originalUrl"] = doc["webUrl"]
        return doc

    def _related(self, rng: random.Random, i: int) -> dict[str, Any]:
        if i > 0 and rng.random() < 0.5:
            target = rng.randrange(max(0, i - 5000), i)  # an earlier article of the corpus
            url = self.url(target)
            provider = self.providers[self._provider_index(target)]
        else:
            provider = rng.choices(self.providers, cum_weights=self.provider_weights)[0]
            url = f"https://www.{provider['domain']}/story/{rng.getrandbits(40):x}"
        item: dict[str, Any] = {
            "title": self._sentence(rng, rng.randint(6, 14)),
            "webUrl": url,
            "provider": dict(provider),
        }
        if rng.random() < 0.8:
            item["excerpt"] = self._sentence(rng, rng.randint(10, 30)) + "."
        if rng.random() < 0.8:
            moment = self.start + timedelta(minutes=rng.randrange(6 * 365 * 24 * 60))
            item["publishedDateTime"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if rng.random() < 0.3:
            item["ampWebUrl"] = url.replace("/news/", "/amp/news/").replace(
                "/story/", "/amp/story/"
            )
        if rng.random() < 0.6:
            item["quality"] = rng.randint(0, 40)
        item["type"] = "article"
        item["images"] = self._images(rng, i * 10 + 7, rng.randint(0, 1))
        return item

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self.article(i) for i in range(self.n))


def front_matter(doc: dict[str, Any]) -> str:
    body = yaml.dump(doc, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{body}---\n"


def path_for(root: Path, i: int) -> Path:
    return root / f"{i // FILES_PER_DIR:05d}" / f"{i:07d}.txt"


CACHE = Path(__file__).resolve().parent / "corpus"  # git-ignored


def cached_corpus(n: int, seed: int = DEFAULT_SEED) -> Path:
    """The corpus of n articles for seed, written once under bench/corpus/ and shared
    by every benchmark that asks for the same size and seed."""
    return write_corpus(CACHE / f"{n}-{seed}", n, seed)


def write_corpus(root: Path, n: int, seed: int = DEFAULT_SEED) -> Path:
    """Write n article files under root (1,000 a directory); skipped when a complete
    corpus of that size and seed is already there."""
    marker = root / ".complete"
    if marker.exists() and marker.read_text() == f"{n} {seed}":
        return root
    corpus = Corpus(n, seed)
    for i in range(n):
        path = path_for(root, i)
        if i % FILES_PER_DIR == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(front_matter(corpus.article(i)), encoding="utf-8")
    marker.write_text(f"{n} {seed}")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_corpus(args.out, args.n, args.seed)
    print(f"{args.n} articles in {args.out}")


if __name__ == "__main__":
    main()
