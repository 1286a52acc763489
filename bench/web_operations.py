"""The example web app's operations (web/src), read from its source when the bench
runs, so that the benchmark sends what the app sends and cannot drift from it.

Each document is built as the app's build writes it into its persisted query manifest
(web/dist/persisted-query-manifest.json, which a safelisted API runs): the operation
and the fragments it uses, ``__typename`` added to every selection set but the
operation's root (Apollo Client's cache adds it), the operation first and the
fragments by name (``sortTopLevelDefinitions``), printed by graphql-js's rules. A
browser test (web/e2e) checks the result equals the built manifest byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from graphql import (
    DefinitionNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    NameNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

WEB_SOURCES = Path(__file__).resolve().parent.parent / "web" / "src"
# The documents of codegen's client preset: graphql(`...`) in the app's modules.
LITERAL = re.compile(r"\bgraphql\(\s*`([^`]*)`\s*\)")
TYPENAME = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())


class WebOperationsError(RuntimeError):
    """The app's source does not hold the operations the benchmark needs."""


def app_documents(sources: Path = WEB_SOURCES) -> dict[str, str]:
    """Every operation of the app, by name, as its manifest holds it."""
    definitions = list(_definitions(_modules(sources)))
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    return {
        d.name.value: _manifest_body(d, fragments)
        for d in definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    }


def app_document(name: str, sources: Path = WEB_SOURCES) -> str:
    documents = app_documents(sources)
    if name not in documents:
        found = ", ".join(sorted(documents)) or "none"
        raise WebOperationsError(
            f"the web app ({sources}) has no operation named {name} (found: {found}); "
            "if it was renamed, rename it in bench/operations.py (WEB_OPERATIONS) too"
        )
    return documents[name]


def _modules(sources: Path) -> Iterator[str]:
    if not sources.is_dir():
        raise WebOperationsError(f"{sources} is missing: the benchmark reads the web app's source")
    for path in sorted(sources.rglob("*.ts*")):
        if "gql" not in path.relative_to(sources).parts:  # codegen's output
            yield path.read_text(encoding="utf-8")


def _definitions(modules: Iterable[str]) -> Iterator[DefinitionNode]:
    for text in modules:
        for literal in LITERAL.findall(text):
            yield from parse(literal).definitions


def _manifest_body(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> str:
    used = sorted(_fragments_used(operation, fragments), key=lambda f: f.name.value)
    document = DocumentNode(definitions=(operation, *used))
    typed: DocumentNode = visit(document, _AddTypename())
    return print_ast(typed)


def _fragments_used(
    root: Node, fragments: dict[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    found: dict[str, FragmentDefinitionNode] = {}
    pending = [root]
    while pending:
        spreads: list[str] = []
        visit(pending.pop(), _Spreads(spreads))
        for name in spreads:
            if name not in found:
                if name not in fragments:
                    raise WebOperationsError(f"the web app uses fragment {name}, defined nowhere")
                found[name] = fragments[name]
                pending.append(fragments[name])
    return list(found.values())


class _Spreads(Visitor):
    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.names.append(node.name.value)


class _AddTypename(Visitor):
    """Apollo Client's addTypenameToDocument."""

    def enter_selection_set(
        self, node: SelectionSetNode, _key: Any, parent: Any, *_: Any
    ) -> SelectionSetNode | None:
        if isinstance(parent, OperationDefinitionNode):
            return None
        if any(isinstance(s, FieldNode) and s.name.value.startswith("__") for s in node.selections):
            return None
        return SelectionSetNode(selections=(*node.selections, TYPENAME))
