"""Whether the database has been prepared by the loader: every index of the storage
contract exists. Until then the API answers ``DATABASE_NOT_LOADED`` rather than
empty lists (or, for search, a missing text index).

The check costs one ``listIndexes`` per collection, sent together; once it passes,
the answer is kept for the life of the process, so a ready API pays nothing."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from api.store.reads import Database
from storage.contract import INDEXES

LOADER_HINT = (
    "run the loader on it once (`python -m loaders PATH...` with the same MONGODB_URI "
    "and NEWSGRAPH_DB; under docker compose, the `loader` service)"
)


async def missing_indexes(db: Database) -> list[str]:
    """The contract's indexes this database lacks, as ``collection.index``."""
    wanted: dict[str, list[str]] = defaultdict(list)
    for index in INDEXES:
        wanted[index.collection].append(index.name)
    collections = list(wanted)
    # listIndexes on a collection that does not exist answers no index, not an error.
    found = await asyncio.gather(*(_index_names(db, name) for name in collections))
    return [
        f"{collection}.{name}"
        for collection, names in zip(collections, found, strict=True)
        for name in wanted[collection]
        if name not in names
    ]


async def _index_names(db: Database, collection: str) -> set[str]:
    cursor = await db[collection].list_indexes()
    return {spec["name"] async for spec in cursor}


class Readiness:
    """The loader's preparation of one database, checked until it is found."""

    def __init__(self) -> None:
        self.loaded = False

    async def not_loaded_reason(self, db: Database) -> str | None:
        """None when the database is prepared; else what is missing and what to do."""
        if self.loaded:
            return None
        missing = await missing_indexes(db)
        if not missing:
            self.loaded = True
            return None
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        return (
            f"The database {db.name!r} has not been prepared by the loader: it lacks "
            f"{len(missing)} of the {len(INDEXES)} indexes the API needs ({shown}); "
            f"{LOADER_HINT}."
        )
