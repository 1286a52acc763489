"""Whether the loader has prepared the database: ``articles`` has the indexes of the
storage contract. Until then the API answers ``DATABASE_NOT_LOADED`` rather than
empty lists.

The loader builds those indexes at the end of a first load, so a first load still
running is not ready either. A database that has some of them (an older load, an
index dropped by hand) is ready: a query that needs a missing one says which
(``reads.MissingIndex``), and the others are served.

The check is one ``listIndexes``; once it passes, the answer is kept for the life of
the process, so a ready API pays nothing."""

from __future__ import annotations

from api.store.reads import Database
from storage.contract import ARTICLES, INDEXES

ARTICLE_INDEXES = frozenset(index.name for index in INDEXES if index.collection == ARTICLES)
LOADER_HINT = (
    "run the loader on it once (`python -m loaders PATH...` with the same MONGODB_URI "
    "and NEWSGRAPH_DB; under docker compose, the `loader` service)"
)


async def article_indexes(db: Database) -> set[str]:
    """The contract's indexes that ``articles`` has (none when it does not exist)."""
    cursor = await db[ARTICLES].list_indexes()
    return {spec["name"] async for spec in cursor} & ARTICLE_INDEXES


class Readiness:
    """The loader's preparation of one database, checked until it is found."""

    def __init__(self) -> None:
        self.loaded = False

    async def not_loaded_reason(self, db: Database) -> str | None:
        """None when the database is prepared; else why not and what to do."""
        if self.loaded:
            return None
        if await article_indexes(db):
            self.loaded = True
            return None
        return (
            f"The database {db.name!r} has not been prepared by the loader: its "
            f"{ARTICLES!r} collection has none of the {len(ARTICLE_INDEXES)} indexes the "
            f"API reads with; {LOADER_HINT}."
        )
