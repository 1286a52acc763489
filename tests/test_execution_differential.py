"""The compiled path against the reference path on generated documents: every
document hypothesis-graphql generates from the schema, then reshaped at random with
aliases, inline and named fragments, @skip/@include on variables and real ids,
names and search text, is sent to both executors over HTTP on the same database (the
test corpus, the seeds, and stored documents spoiled on purpose) and, for search, the
same index, and the answers must be byte-identical.

``EXECUTION_EXAMPLES`` sets the number of examples (300 by default; e.g. 5000 on
the bench machine). The default run draws the same examples every time (hypothesis's
``derandomize``), so ``make test`` passes or fails on the code, not on the draw; a run
with ``EXECUTION_EXAMPLES`` set draws new ones each time, to explore."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_named_type,
    parse,
    print_ast,
    validate,
    visit,
)
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from pymongo import MongoClient

from api.schema.ids import to_global_id
from api.schema.root import schema
from api.settings import Settings
from loaders.load import load_paths
from storage.contract import ARTICLES, PROVIDERS, TOPICS
from tests.conftest import RUN_ID, SEEDS, CommandCounter, ServedAPI
from tests.query_corpus import write_corpus

EXAMPLES = int(os.environ.get("EXECUTION_EXAMPLES", "300"))
SDL = schema.as_str()
GRAPHQL = schema._schema

# Stored values the API would never write, each one failing at its own field on the
# reference path (the loader's validator is bypassed to store them).
SPOILED_ARTICLES: list[dict[str, Any]] = [
    {"title": None},
    {"title": 5},
    {"heat": "hot"},
    {"quality": 2.5},
    {"published": "yes"},
    {"publishedDateTime": None},
    {"publishedDateTime": "yesterday"},
    {"excerpt": 7},
    {"webUrl": None},
    {"provider.name": None},
    {"category": ["news"]},
    {"heat": 2**40},
]
SPOILED_PROVIDERS: list[dict[str, Any]] = [{"name": None}, {"articleCount": "many"}]


@pytest.fixture(scope="module")
def spoiled_api(
    mongo_client: MongoClient[dict[str, Any]], mongo_uri: str, tmp_path_factory: Any
) -> Iterator[ServedAPI]:
    name = f"ngtest_{RUN_ID}_differential"
    directory: Path = tmp_path_factory.mktemp("differential")
    write_corpus(directory)
    db = mongo_client[name]
    assert load_paths(db, [directory, SEEDS]).errors == []
    _spoil(db[ARTICLES], SPOILED_ARTICLES)
    _spoil(db[PROVIDERS], SPOILED_PROVIDERS)
    served = ServedAPI(Settings(mongodb_uri=mongo_uri, database=name), CommandCounter())
    served.ready()  # the search index built
    served.ids = [  # type: ignore[attr-defined]
        to_global_id(kind, doc["_id"])
        for kind, collection in (("Article", ARTICLES), ("Provider", PROVIDERS), ("Topic", TOPICS))
        for doc in db[collection].find({}, {"_id": 1}).sort("_id", 1).limit(12)
    ]
    yield served
    served.close()
    mongo_client.drop_database(name)


def _spoil(collection: Any, spoils: list[dict[str, Any]]) -> None:
    keys = [doc["_id"] for doc in collection.find({}, {"_id": 1}).sort("_id", 1)]
    for key, spoil in zip(keys[1::5], spoils, strict=False):
        collection.update_one({"_id": key}, {"$set": spoil}, bypass_document_validation=True)


DOMAINS = ["p0.example", "p1.example", "p2.example", "newsoneplace.com", "nowhere.example"]
NAMES = ["AI", "Climate", "space", "Computer Vision", "nothing"]
# Search text that finds the corpus's articles ("Story n", "About m") and the seeds'
# (facial recognition, police), with phrases and exclusions; and some that fail.
SEARCHES = [
    "story", "stories 12", "facial recognition", '"facial recognition"', "police -arrested",
    '"live facial" cameras', "about story -police", "nothing", "the of", '"unclosed',
]  # fmt: skip


class Reshaper:
    """Draws a variant of a generated document that asks for the same data."""

    def __init__(self, draw: Any, ids: list[str]) -> None:
        self.draw = draw
        self.ids = ids
        self.fragments: list[FragmentDefinitionNode] = []
        self.variables: dict[str, bool] = {}
        self.aliases = 0

    def document(self, document: DocumentNode) -> DocumentNode:
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        root = GRAPHQL.query_type
        assert root is not None
        selection_set = self.selection_set(operation.selection_set, root)
        definitions = [
            VariableDefinitionNode(
                variable=VariableNode(name=NameNode(value=name)),
                type=NonNullTypeNode(type=NamedTypeNode(name=NameNode(value="Boolean"))),
            )
            for name in self.variables
        ]
        reshaped = OperationDefinitionNode(
            operation=operation.operation,
            name=NameNode(value="Generated"),
            variable_definitions=tuple(definitions),
            directives=(),
            selection_set=selection_set,
        )
        return DocumentNode(definitions=(reshaped, *self.fragments))

    def selection_set(self, node: SelectionSetNode, parent: Any) -> SelectionSetNode:
        selections: list[Any] = []
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                selections.append(self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = GRAPHQL.get_type(condition.name.value) if condition else parent
                selections.append(
                    InlineFragmentNode(
                        type_condition=condition,
                        directives=(),
                        selection_set=self.selection_set(selection.selection_set, inner),
                    )
                )
            else:
                selections.append(selection)
        if isinstance(parent, GraphQLObjectType) and self.draw(st.integers(0, 5)) == 0:
            return SelectionSetNode(selections=(self.wrap(selections, parent),))
        return SelectionSetNode(selections=tuple(selections))

    def wrap(self, selections: list[Any], parent: GraphQLObjectType) -> Any:
        """The selections moved into a named fragment (spread) or an inline one."""
        inner = SelectionSetNode(selections=tuple(selections))
        if self.draw(st.booleans()):
            name = f"F{len(self.fragments)}"
            self.fragments.append(
                FragmentDefinitionNode(
                    name=NameNode(value=name),
                    type_condition=NamedTypeNode(name=NameNode(value=parent.name)),
                    directives=(),
                    selection_set=inner,
                )
            )
            return FragmentSpreadNode(name=NameNode(value=name), directives=())
        return InlineFragmentNode(type_condition=None, directives=(), selection_set=inner)

    def field(self, node: FieldNode, parent: Any) -> FieldNode:
        name = node.name.value
        definition = parent.fields.get(name) if hasattr(parent, "fields") else None
        selection_set = node.selection_set
        if selection_set is not None and definition is not None:
            selection_set = self.selection_set(selection_set, get_named_type(definition.type))
        alias = node.alias
        if self.draw(st.integers(0, 4)) == 0:
            self.aliases += 1
            alias = NameNode(value=f"a{self.aliases}")
        return FieldNode(
            alias=alias,
            name=node.name,
            arguments=self.arguments(node.arguments or ()),
            directives=self.directives(),
            selection_set=selection_set,
        )

    def arguments(self, nodes: tuple[ArgumentNode, ...]) -> tuple[ArgumentNode, ...]:
        """Mostly arguments that find something (real ids, names, domains; page
        sizes in range; no made-up cursors), sometimes the generated ones as they
        are, so the errors are compared too."""
        if self.draw(st.integers(0, 4)) == 0:
            return nodes
        names = {node.name.value for node in nodes}
        kept = []
        for node in nodes:
            name = node.name.value
            if name in ("after", "before") or (name == "last" and "first" in names):
                continue
            kept.append(self.argument(node))
        return tuple(kept)

    def argument(self, node: ArgumentNode) -> ArgumentNode:
        name = node.name.value
        real = {"id": self.ids, "domain": DOMAINS, "name": NAMES, "query": SEARCHES}.get(name)
        value: Any = node.value
        if real is not None:
            value = StringValueNode(value=self.draw(st.sampled_from(real)))
        elif name in ("first", "last"):
            value = IntValueNode(value=str(self.draw(st.integers(0, 25))))
        elif name == "ids":
            ids = self.draw(st.lists(st.sampled_from(self.ids), max_size=4))
            value = ListValueNode(values=tuple(StringValueNode(value=i) for i in ids))
        return ArgumentNode(name=node.name, value=value)

    def directives(self) -> tuple[DirectiveNode, ...]:
        choice = self.draw(st.integers(0, 9))
        if choice > 1:
            return ()
        directive = "skip" if choice == 0 else "include"
        if self.draw(st.booleans()):
            value: Any = BooleanValueNode(value=self.draw(st.booleans()))
        else:
            variable = f"v{len(self.variables)}"
            self.variables[variable] = self.draw(st.booleans())
            value = VariableNode(name=NameNode(value=variable))
        argument = ArgumentNode(name=NameNode(value="if"), value=value)
        return (DirectiveNode(name=NameNode(value=directive), arguments=(argument,)),)


DIFFERENTIAL = settings(
    max_examples=EXAMPLES,
    derandomize="EXECUTION_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_generated_documents_answer_byte_for_byte_as_the_reference(
    spoiled_api: ServedAPI,
) -> None:
    ids: list[str] = spoiled_api.ids  # type: ignore[attr-defined]
    sent = 0
    searches: list[FieldNode] = []

    @DIFFERENTIAL
    @given(generated=queries(SDL), data=st.data())
    def check(generated: str, data: st.DataObject) -> None:
        nonlocal sent
        reshaper = Reshaper(data.draw, ids)
        document = reshaper.document(parse(generated))
        if validate(GRAPHQL, document):
            document = parse(generated)  # a reshaping that merged conflicting fields
            reshaper.variables = {}
        note(f"{print_ast(document)}\nvariables: {reshaper.variables}")
        # Both executors, and the compiled one twice: the second time on the fast route.
        spoiled_api.query(print_ast(document), reshaper.variables, repeat=True)
        sent += 1
        searches.extend(_searches(document))

    compiled_before = spoiled_api.plans.compiled
    fast_before = spoiled_api.plans.fast
    check()
    assert sent >= min(EXAMPLES, 300)
    # The comparison means something only if the compiled path answered many of
    # them itself (the rest met an error or a spoiled document: the reference's).
    assert spoiled_api.plans.compiled - compiled_before > sent // 3
    # Every document the compiled path answered is answered again by the fast route.
    assert spoiled_api.plans.fast - fast_before > sent // 6
    # search among them (one root field of ten): compared like the others.
    assert len(searches) > sent // 20


def _searches(document: DocumentNode) -> list[FieldNode]:
    """The search fields a document selects (at its root, or in its fragments)."""
    found: list[FieldNode] = []

    class Finder(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            if node.name.value == "search":
                found.append(node)

    visit(document, Finder())
    return found
