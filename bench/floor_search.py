"""The floor's search: the same tantivy index as newsgraph's (api.search.fields: the
engine's configuration), built once at start from MongoDB, queried by hand: the
top 20 by BM25, then the page's titles in one MongoDB read by id.

No follower, no cursors, no snapshots, no GraphQL: what a search costs at least
on this engine."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tantivy
from pymongo.asynchronous.database import AsyncDatabase
from tantivy import Occur, Query

from api.schema.ids import to_global_id
from api.search.fields import EXCERPT, KEY, PROJECTION, SCHEMA, TITLE, TITLE_BOOST, to_document
from api.settings import Settings
from storage.contract import ARTICLES

Doc = dict[str, Any]
EN_STEM = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)
PIECE = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')


class FloorSearch:
    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="floor-search-"))
        self.index = tantivy.Index(SCHEMA, path=str(self.directory))
        self.searcher: tantivy.Searcher | None = None

    async def build(self, db: AsyncDatabase[Doc]) -> None:
        # The server's writer heap: the same segments, so results that tie on score
        # come in the same order (tantivy breaks ties by document address).
        writer = self.index.writer(
            heap_size=Settings().search_writer_heap_mb * 2**20, num_threads=1
        )
        async for article in db[ARTICLES].find({}, PROJECTION, batch_size=2000):
            writer.add_document(to_document(article))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def query(self, text: str) -> Query:
        """Words as clauses of one boolean (each in either field), phrases and
        exclusions as a clause each: api.search.query's shape, the cheapest a match."""
        clauses = []
        for negated_phrase, phrase, negated_word, word in PIECE.findall(text):
            terms = EN_STEM.analyze(phrase or word)
            if phrase and not negated_phrase:
                clauses.append((Occur.Must, Query.boolean_query(self._either_field(terms))))
            else:
                occur = Occur.MustNot if negated_phrase or negated_word else Occur.Should
                clauses += [(occur, q) for _, q in self._either_field(terms)]
        return Query.boolean_query(clauses)

    @staticmethod
    def _either_field(terms: list[str]) -> list[tuple[Occur, Query]]:
        def one(name: str) -> Query:
            if len(terms) == 1:
                return Query.term_query(SCHEMA, name, terms[0])
            return Query.phrase_query(SCHEMA, name, list(terms))

        return [
            (Occur.Should, Query.boost_query(one(TITLE), TITLE_BOOST)),
            (Occur.Should, one(EXCERPT)),
        ]

    async def answer(self, db: AsyncDatabase[Doc], variables: Mapping[str, Any]) -> Doc:
        searcher = self.searcher
        assert searcher is not None, "the floor's index is built before it is ready"
        hits = searcher.search(self.query(variables["query"]), 20, count=False).hits
        ranked = [(score, str(searcher.doc(address).get_first(KEY))) for score, address in hits]
        keys = [key for _, key in ranked]
        titles = {
            doc["_id"]: doc["title"]
            for doc in await db[ARTICLES].find({"_id": {"$in": keys}}, {"title": 1}).to_list()
        }
        return {
            "search": {
                "edges": [
                    {
                        "score": float(score),
                        "node": {"id": to_global_id("Article", key), "title": titles[key]},
                    }
                    for score, key in ranked
                ]
            }
        }
