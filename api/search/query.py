"""What a search string means, and the engine query it becomes.

The syntax is MongoDB's, which the API always had: words (any of them), ``"quoted
phrases"`` (each must appear), ``-word`` and ``-"phrase"`` (must not). Everything
else is text: the query is built term by term, never handed to a query parser, so
no character can be an operator."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import tantivy
from tantivy import FieldType, Occur, Query

from api.errors import BadUserInput
from api.search import fields as f
from api.search.fields import SCHEMA
from api.store.filters import ArticleConditions

# Characters a search string may have; longer is refused with BAD_USER_INPUT.
MAX_QUERY_CHARS = 500

# Words that say nothing on their own (MongoDB's English text search drops them as
# well). They are dropped as words; inside a phrase they are kept, in place.
_STOP_WORDS = """
a about above after again against all am an and any are as at be because been before
being below between both but by can did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in
into is it its itself just me more most my myself no nor not now of off on once only
or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under
until up very was we were what when where which while who whom why will with you
your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

# The tokenizer tantivy's "en_stem" applies, so that query terms are the index's.
ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)
_PIECE = re.compile(r'(-?)"([^"]*)"|(-?)([^\s"]+)')


@dataclass
class Parsed:
    """Each entry is the stemmed terms of one word or phrase."""

    words: list[list[str]] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    excluded: list[list[str]] = field(default_factory=list)

    @property
    def positive(self) -> list[list[str]]:
        return self.words + self.phrases

    @property
    def matches_nothing(self) -> bool:
        """Nothing to look for (empty, only stop words or syntax, only exclusions)."""
        return not self.positive


def parse(text: str) -> Parsed:
    if len(text) > MAX_QUERY_CHARS:
        raise BadUserInput(
            f"the search query has {len(text)} characters; at most {MAX_QUERY_CHARS} "
            "are accepted: shorten it",
            argument="query",
            limit=MAX_QUERY_CHARS,
        )
    if text.count('"') % 2:
        raise BadUserInput(
            'the search query has an unclosed quote ("): close the phrase or remove it',
            argument="query",
        )
    parsed = Parsed()
    for match in _PIECE.finditer(text):
        negated_phrase, phrase, negated_word, word = match.groups()
        if phrase is not None:
            terms = ANALYZER.analyze(phrase)
            target = parsed.excluded if negated_phrase else parsed.phrases
        else:
            is_stop = word.lower() in STOP_WORDS
            terms = [] if is_stop else ANALYZER.analyze(word)
            # A word the tokenizer splits ("U.S.", "e-mail") is a phrase of its parts.
            target = parsed.excluded if negated_word else parsed.words
        if terms:
            target.append(terms)
    return parsed


def _either_field(terms: list[str]) -> tuple[Query, Query]:
    """The word or phrase in the title (boosted) and in the excerpt."""

    def one(name: str) -> Query:
        if len(terms) == 1:
            return Query.term_query(SCHEMA, name, terms[0])
        return Query.phrase_query(SCHEMA, name, list(terms))

    return Query.boost_query(one(f.TITLE), f.TITLE_BOOST), one(f.EXCERPT)


def _in_text(terms: list[str]) -> Query:
    """The word or phrase in the title (boosted) or the excerpt."""
    return Query.boolean_query([(Occur.Should, q) for q in _either_field(terms)])


def text_query(parsed: Parsed) -> Query:
    """Relevance: any of the words, every phrase, none of the exclusions.

    The words' term queries are clauses of this one boolean, not a boolean each:
    tantivy-py collects every match (its collector is a MultiCollector, which never
    prunes with block-max WAND), and one union of term scorers costs half a union
    of unions a match. It is also the shape tantivy's pruning needs (a boost keeps
    a term scorer). The score is the same sum."""
    clauses = [(Occur.Should, q) for terms in parsed.words for q in _either_field(terms)]
    clauses += [(Occur.Must, _in_text(terms)) for terms in parsed.phrases]
    clauses += [(Occur.MustNot, q) for terms in parsed.excluded for q in _either_field(terms)]
    return Query.boolean_query(clauses)


def highlight_query(parsed: Parsed) -> Query:
    """What a result is highlighted with: every word and phrase asked for."""
    return Query.boolean_query([(Occur.Should, _in_text(terms)) for terms in parsed.positive])


def _any_of(name: str, values: list[str]) -> Query:
    return Query.term_set_query(SCHEMA, name, sorted(set(values)))


def _range(name: str, lower: int | None, upper: int | None = None) -> Query:
    """``lower <= value < upper``; an article without the field is outside every range."""
    return Query.range_query(
        SCHEMA, name, FieldType.Integer, lower, upper, include_upper=upper is None
    )


def filter_clauses(where: ArticleConditions) -> list[Query]:
    """The whole ArticleFilter as term and range lookups."""
    clauses = [Query.term_query(SCHEMA, f.TOPIC, topic) for topic in sorted(set(where.all_topics))]
    if where.any_topics:
        clauses.append(_any_of(f.TOPIC, where.any_topics))
    clauses += [_any_of(f.DOMAIN, domains) for domains in where.domains]
    clauses += [Query.term_query(SCHEMA, f.CATEGORY, c) for c in sorted(set(where.categories))]
    if where.type is not None:
        clauses.append(Query.term_query(SCHEMA, f.TYPE, where.type))
    if where.published is not None:
        clauses.append(Query.term_query(SCHEMA, f.PUBLISHED, str(where.published).lower()))
    after, before = where.published_after, where.published_before
    if after is not None or before is not None:
        lower = f.millis(after) if after is not None else None
        upper = f.millis(before) if before is not None else None
        clauses.append(_range(f.DATE, lower, upper))
    if where.min_heat is not None:
        clauses.append(_range(f.HEAT, where.min_heat))
    if where.min_quality is not None:
        clauses.append(_range(f.QUALITY, where.min_quality))
    return clauses


def engine_query(parsed: Parsed, where: ArticleConditions, extra: Sequence[Query] = ()) -> Query:
    """The text query, restricted by the filter (filters add nothing to the score)."""
    restrictions = [*filter_clauses(where), *extra]
    if not restrictions:
        return text_query(parsed)
    clauses = [(Occur.Must, text_query(parsed))]
    clauses += [(Occur.Must, Query.const_score_query(q, 0.0)) for q in restrictions]
    return Query.boolean_query(clauses)
