"""Build article files for tests, in the seeds' front-matter format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def article(n: int, **fields: Any) -> dict[str, Any]:
    """A valid article, numbered so that every n gives a distinct URL and date."""
    doc: dict[str, Any] = {
        "category": "news",
        "title": f"Article number {n}",
        "excerpt": f"Excerpt of article {n}.",
        "publishedDateTime": f"2024-01-{1 + n % 28:02d}T{n % 24:02d}:00:00Z",
        "webUrl": f"https://www.example.com/news/{n}",
        "type": "article",
        "quality": n % 50,
        "heat": n % 40,
        "published": True,
        "provider": {"name": "Example News", "domain": "example.com"},
        "topics": ["AI"],
        "images": [],
        "related": [],
        "secured": f"token-{n}",
    }
    doc.update(fields)
    return doc


def front_matter(doc: dict[str, Any]) -> str:
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    return f"---\n{body}---\n"


def write_article(directory: Path, name: str, doc: dict[str, Any]) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(front_matter(doc), encoding="utf-8")
    return path
