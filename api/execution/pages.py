"""Pages of several parents' connections in one read: the same connection field
under N parents (``categories { articles }``, ``articles { nodes { mentionedIn } }``)
is one aggregate of N branches joined with ``$unionWith``, each branch the very
match, sort and limit its own ``find`` would send. The first branch keeps the index
hint (an aggregate's hint applies to its first stage); the others are planned by
MongoDB, whose only index serving both their match and their sort is the hinted
one's twin. One parent alone is one ``find``, with its hint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api.store import reads
from api.store.pagination import Window
from api.store.reads import Database, Document, Order, Page, fetch_page

TAG = "_branch"


@dataclass(frozen=True)
class PageRead:
    collection: str
    match: Document
    order: Order
    window: Window
    projection: dict[str, int]
    hint: str | None = None
    exploded: bool = False

    def branch(self, tag: int) -> list[Document]:
        scan = self.order.reversed() if self.window.backward else self.order
        bounded = reads._bounded(self.match, self.order, self.window, self.exploded)
        return [
            {"$match": bounded},
            {"$sort": dict(scan.sort())},
            {"$limit": self.window.size + 1},
            {"$project": self.projection},
            {"$set": {TAG: tag}},
        ]


async def read_pages(db: Database, wanted: Sequence[PageRead]) -> list[Page]:
    if len(wanted) == 1:
        one = wanted[0]
        page = await fetch_page(
            db[one.collection], one.match, one.order, one.window, one.projection, one.hint,
            one.exploded,
        )  # fmt: skip
        return [page]
    head, *rest = wanted
    pipeline = head.branch(0) + [
        {"$unionWith": {"coll": r.collection, "pipeline": r.branch(tag)}}
        for tag, r in enumerate(rest, start=1)
    ]
    options: dict[str, Any] = {"hint": head.hint} if head.hint else {}
    found: list[list[Document]] = [[] for _ in wanted]
    for doc in await (await db[head.collection].aggregate(pipeline, **options)).to_list():
        found[doc.pop(TAG)].append(doc)
    return [reads._page(docs, r.window) for docs, r in zip(found, wanted, strict=True)]
