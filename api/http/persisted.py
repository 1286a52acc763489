"""Automatic persisted queries, as Apollo Client's persisted-queries link speaks them.

A request names its query by ``extensions.persistedQuery {version: 1, sha256Hash}``:

- hash alone, unknown -> ``PersistedQueryNotFound`` (the link then retries with the text);
- hash and text -> the hash is checked against the text, the text is registered;
- hash alone, known -> the registered text runs (over GET too, so it can be cached).

Registered queries live in MongoDB (``persistedQueries``), shared by every API
process, at most ``APQ_MAX_QUERIES`` of them: registering one more evicts the
oldest registrations (a client whose query was evicted just registers it again on
its next request). Each process keeps the texts it has seen in a small LRU, so a
hit usually costs no round trip.

Safelist mode (``APQ_SAFELIST``) closes registration: only queries already
registered run, whether sent by hash or as text. Given a manifest (``APQ_SAFELIST``
naming a persisted query manifest file, ``api/http/manifest.py``), the safelist is
exactly the manifest's operations: nothing registered in MongoDB widens it, and a
lookup costs no round trip.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import ConnectionFailure, DuplicateKeyError

from api.errors import (
    BadRequest,
    PersistedQueryNotAllowed,
    PersistedQueryNotFound,
    PrimaryUnavailable,
)
from api.lru import LRU
from api.store.reads import Database
from storage.contract import PERSISTED_QUERIES

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
LOCAL_CACHE_SIZE = 1000


def sha256_of(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


class PersistedQueries:
    def __init__(
        self,
        max_queries: int,
        safelist: bool,
        max_query_bytes: int,
        manifest: Mapping[str, str] | None = None,
    ) -> None:
        self.max_queries = max_queries
        self.safelist = safelist or manifest is not None
        self.max_query_bytes = max_query_bytes
        self.manifest = manifest
        self._texts: LRU[str, str] = LRU(LOCAL_CACHE_SIZE)

    async def resolve(
        self, db: Database, query: str | None, extensions: Mapping[str, Any] | None
    ) -> tuple[str | None, str | None]:
        """The query text to run, and what APQ did (hit, miss, registered, or None)."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self.safelist and query is not None:
                await self._require_registered(db, sha256_of(query))
            return query, None
        digest = _hash_of(persisted)
        if query is None:
            text = await self.lookup(db, digest)
            if text is None:
                raise PersistedQueryNotFound()
            return text, "hit"
        if sha256_of(query) != digest:
            raise BadRequest(
                "provided sha does not match query: persistedQuery.sha256Hash must be the "
                "SHA-256 of the query text, in lower-case hex",
            )
        if self.safelist:
            await self._require_registered(db, digest)
            return query, "hit"
        await self.register(db, digest, query)
        return query, "registered"

    def resolve_cached(
        self, query: str | None, extensions: Mapping[str, Any] | None
    ) -> tuple[str, str | None] | None:
        """What ``resolve`` answers, when it can without MongoDB and without refusing
        the request; None otherwise (``resolve`` then decides)."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if query is None or (self.safelist and self._cached(sha256_of(query)) is None):
                return None
            return query, None
        try:
            digest = _hash_of(persisted)
        except BadRequest:
            return None
        if query is None:
            text = self._cached(digest)
            return None if text is None else (text, "hit")
        if sha256_of(query) != digest:
            return None
        if self.safelist:
            return None if self._cached(digest) is None else (query, "hit")
        # register() writes nothing for a text this process has seen.
        return (query, "registered") if digest in self._texts else None

    def _cached(self, digest: str) -> str | None:
        """``lookup`` without its MongoDB read: None when that read would be needed."""
        if self.manifest is not None:
            return self.manifest.get(digest)
        text = self._texts.get(digest)
        if text is not None:
            self._remember(digest, text)
        return text

    async def lookup(self, db: Database, digest: str) -> str | None:
        if self.manifest is not None:
            return self.manifest.get(digest)
        text = self._texts.get(digest)
        if text is None:
            doc = await db[PERSISTED_QUERIES].find_one({"_id": digest}, {"query": 1})
            if doc is None:
                return None
            text = str(doc["query"])
        self._remember(digest, text)
        return text

    async def register(self, db: Database, digest: str, query: str) -> None:
        if len(query.encode("utf-8")) > self.max_query_bytes or digest in self._texts:
            return  # refused by the size limit anyway / already registered
        try:
            await self._write(db, digest, query)
        except ConnectionFailure as exc:
            raise PrimaryUnavailable(
                "Registering a persisted query is a write, which needs the MongoDB primary, "
                "and none is reachable (an election may be in progress). Reads are still "
                "served: retry in a few seconds, or send the query without persistedQuery.",
            ) from exc

    async def _write(self, db: Database, digest: str, query: str) -> None:
        collection = db[PERSISTED_QUERIES]
        try:
            result = await collection.update_one(
                {"_id": digest},
                {"$setOnInsert": {"query": query, "registeredAt": datetime.now(UTC)}},
                upsert=True,
            )
        except DuplicateKeyError:
            result = None  # another process registered it at the same moment
        self._remember(digest, query)
        if result is not None and result.upserted_id is not None:
            await self._evict_oldest(db)

    async def _evict_oldest(self, db: Database) -> None:
        collection = db[PERSISTED_QUERIES]
        excess = await collection.count_documents({}) - self.max_queries
        if excess <= 0:
            return
        oldest = collection.find({}, {"_id": 1}).sort("registeredAt", 1).limit(excess)
        ids = [doc["_id"] async for doc in oldest]
        await collection.delete_many({"_id": {"$in": ids}})
        for digest in ids:
            self._texts.pop(digest, None)

    async def _require_registered(self, db: Database, digest: str) -> None:
        if await self.lookup(db, digest) is None:
            raise PersistedQueryNotAllowed(
                "This server only runs registered queries (safelist mode), and this one "
                "is not registered.",
            )

    def _remember(self, digest: str, text: str) -> None:
        self._texts.put(digest, text)


def _hash_of(persisted: Any) -> str:
    if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
        raise BadRequest(
            "Unsupported persisted query: expected extensions.persistedQuery "
            "{version: 1, sha256Hash: <hex>}"
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest.lower()):
        raise BadRequest("persistedQuery.sha256Hash must be 64 hexadecimal characters")
    return digest.lower()
