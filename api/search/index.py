"""The tantivy index on disk, its writer, its point-in-time snapshots, and the
metadata beside it (schema version, database, the change stream's resume token).

The index is derived state: deleting its directory loses nothing, the next start
rebuilds it from MongoDB. One process writes a directory (tantivy locks it)."""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from api.search import fields as f
from api.search.fields import SCHEMA, SCHEMA_VERSION
from api.search.memory import release_free_memory

log = logging.getLogger("newsgraph.search")

META = "newsgraph-search.json"
# A relevance cursor pages on the snapshot its first page came from while that
# snapshot is at most this old, so its pages neither shift nor repeat as articles
# arrive (BM25's statistics move with every article). Older cursors page on the
# current index by (score, key).
SNAPSHOT_SECONDS = 300


class IndexInUse(RuntimeError):
    """Another process writes this index directory."""


@dataclass
class Snapshot:
    generation: int
    searcher: tantivy.Searcher
    taken: float


class SearchIndex:
    def __init__(self, directory: Path, database: str, heap_bytes: int) -> None:
        self.directory = directory
        self.database = database
        self.heap_bytes = heap_bytes
        self.path = directory / database
        self.path.mkdir(parents=True, exist_ok=True)
        meta = self._read_meta()
        wipe = meta.get("schemaVersion") != SCHEMA_VERSION or meta.get("database") != database
        if wipe:
            self._wipe()
            meta = {}
        self.token: dict[str, Any] | None = meta.get("resumeToken")
        # The articles collection the index was built from (its UUID): another
        # collection (dropped and made again, another server) means a rebuild.
        self.source: str | None = meta.get("collection")
        if wipe:
            # Recorded at once, so that a build process opening this directory
            # next does not wipe it again under this process's reader.
            self.save_token(None)
        self.index = tantivy.Index(SCHEMA, path=str(self.path), reuse=True)
        self.index.config_reader("manual")
        # Held by each use of the writer: the follower's worker thread may still be
        # in one (a cancelled build goes on in its thread) when close() is called.
        self._writing = threading.Lock()
        self._writer: tantivy.IndexWriter | None = None
        # Changes made since the last commit: only those are rolled back on release.
        self._uncommitted = False
        self.open_writer()
        # Names this index's snapshots inside relevance cursors: a cursor made by
        # another process (or another index) is never read against these.
        self.instance = secrets.token_hex(4)
        self.generation = 0
        self.snapshots: dict[int, Snapshot] = {}
        self.refresh()

    def _read_meta(self) -> dict[str, Any]:
        try:
            meta: dict[str, Any] = json.loads((self.path / META).read_text())
        except (OSError, ValueError):
            return {}
        return meta

    def _wipe(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True, exist_ok=True)

    def reload_meta(self) -> None:
        """Takes the token and source another process (a build) recorded."""
        meta = self._read_meta()
        self.token, self.source = meta.get("resumeToken"), meta.get("collection")

    # The directory's writer lock: held while this process writes, released while a
    # build process writes the directory instead.

    def open_writer(self) -> None:
        if self._writer is not None:
            return
        try:
            self._writer = self.index.writer(heap_size=self.heap_bytes, num_threads=1)
        except ValueError as exc:
            raise IndexInUse(
                f"the search index in {self.path} is in use by another process ({exc}): "
                "give each API process its own SEARCH_INDEX_DIR"
            ) from exc

    def release_writer(self) -> None:
        """Drops what was not committed and releases the directory's lock once
        background merges end; searches on the snapshots still work.

        Only uncommitted changes are rolled back: tantivy's rollback also discards
        the merges in progress, which would leave a freshly built index in all the
        segments its writer flushed (15 instead of 8 at 100,000 articles, and each
        search visits every segment)."""
        with self._writing:
            writer, self._writer = self._writer, None
            if writer is not None:
                if self._uncommitted:
                    writer.rollback()
                writer.wait_merging_threads()
            self._uncommitted = False
        release_free_memory()

    @property
    def writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise RuntimeError(f"the search index in {self.path} has no writer open")
        return self._writer

    # Writing: called from one worker thread at a time (see follower).

    def apply(self, upserts: Iterable[dict[str, Any]], deletes: Iterable[str]) -> int:
        """Replaces or adds each article and deletes each key; not yet visible."""
        count = 0
        with self._writing:
            self._uncommitted = True
            for key in deletes:
                self.writer.delete_documents_by_term(f.KEY, key)
                count += 1
            for article in upserts:
                self.writer.delete_documents_by_term(f.KEY, str(article["_id"]))
                self._add(article)
                count += 1
        return count

    def add(self, articles: Iterable[dict[str, Any]]) -> int:
        """Adds each article to an index being built (nothing to replace)."""
        count = 0
        with self._writing:
            self._uncommitted = True
            for article in articles:
                self._add(article)
                count += 1
        release_free_memory()
        return count

    def _add(self, article: dict[str, Any]) -> None:
        """One malformed article is left out of search, never the whole index."""
        try:
            self.writer.add_document(f.to_document(article))
        except f.Unindexable as exc:
            log.warning(
                "search: %s, so it is left out of search; fix it in MongoDB (run the "
                "loader on its file again) and it is indexed with the change",
                exc,
            )

    def clear(self) -> None:
        with self._writing:
            self._uncommitted = True
            self.writer.delete_all_documents()

    def commit(self, token: dict[str, Any] | None) -> None:
        """Makes the changes durable, then records ``token``: a crash in between
        replays changes already applied, which is harmless (they are idempotent)."""
        with self._writing:
            self.writer.commit()
            self._uncommitted = False
        release_free_memory()
        self.save_token(token)

    def save_token(self, token: dict[str, Any] | None) -> None:
        self.token = token
        meta = {
            "schemaVersion": SCHEMA_VERSION,
            "database": self.database,
            "collection": self.source,
            "resumeToken": token,
        }
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".meta-")
        with os.fdopen(fd, "w") as out:
            json.dump(meta, out)
        os.replace(tmp, self.path / META)

    def forget(self) -> None:
        """Drops the resume token: the next follower start rebuilds."""
        self.save_token(None)

    # Reading: refreshed on the event loop, read from worker threads too (a search's
    # engine work runs in one, api.search.searcher), so a new snapshot is in
    # ``snapshots`` before ``generation`` names it.

    def refresh(self) -> None:
        """Makes committed changes visible: a new snapshot."""
        self.index.reload()
        generation = self.generation + 1
        now = time.monotonic()
        self.snapshots[generation] = Snapshot(generation, self.index.searcher(), now)
        self.generation = generation
        for old in [g for g, s in self.snapshots.items() if now - s.taken > SNAPSHOT_SECONDS]:
            if old != generation:
                del self.snapshots[old]

    @property
    def current(self) -> Snapshot:
        return self.snapshots[self.generation]

    def snapshot(self, generation: int) -> Snapshot | None:
        snapshot = self.snapshots.get(generation)
        if snapshot is None or time.monotonic() - snapshot.taken > SNAPSHOT_SECONDS:
            return None
        return snapshot

    @property
    def documents(self) -> int:
        return int(self.current.searcher.num_docs)

    @property
    def segments(self) -> int:
        """Segments of the current snapshot: every search visits each of them."""
        return int(self.current.searcher.num_segments)

    def disk_bytes(self) -> int:
        return sum(_size(entry) for entry in self.path.iterdir())

    def close(self) -> None:
        """Releases the directory's lock; waits for a write in progress in another
        thread. Searches on the snapshots still work."""
        self.release_writer()


def private_directory() -> Path:
    """A directory of this process's own, for when SEARCH_INDEX_DIR is not set."""
    return Path(tempfile.mkdtemp(prefix="newsgraph-search-"))


def _size(entry: Path) -> int:
    """A file's size; 0 for a directory or a file a merge deleted since it was listed
    (tantivy merges segments in background threads while /readyz reports)."""
    try:
        return entry.stat().st_size if entry.is_file() else 0
    except FileNotFoundError:
        return 0
