"""The stored fields a connection's selection needs: reads fetch only those."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from strawberry.types.nodes import SelectedField, Selection

from api.schema.context import Info

# The stored fields behind each GraphQL field of Article.
ARTICLE_FIELDS: dict[str, tuple[str, ...]] = {
    "__typename": (),
    "id": (),
    "webUrl": ("webUrl",),
    "originalUrl": ("originalUrl",),
    "title": ("title",),
    "excerpt": ("excerpt",),
    "category": ("category",),
    "type": ("type",),
    "publishedDateTime": ("publishedDateTime",),
    "quality": ("quality",),
    "heat": ("heat",),
    "published": ("published",),
    "images": ("images",),
    "leadImage": ("images",),
    "related": ("related",),
    "provider": ("provider",),
    "topics": ("topics", "topicKeys"),
    "mentionedIn": ("canonicalUrl",),
}


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields in ``selections``, with fragments flattened."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)


def node_selections(info: Info) -> Iterator[SelectedField]:
    """The fields selected on the nodes of the connection being resolved."""
    for connection in _fields(info.selected_fields):
        for child in _fields(connection.selections):
            if child.name == "nodes":
                yield from _fields(child.selections)
            elif child.name == "edges":
                for part in _fields(child.selections):
                    if part.name == "node":
                        yield from _fields(part.selections)


def subfields(field: SelectedField) -> Iterator[SelectedField]:
    """The fields selected under ``field``, with fragments flattened."""
    return _fields(field.selections)


def _node_fields(info: Info) -> Iterator[str]:
    """The names selected on the nodes of the connection being resolved."""
    return (field.name for field in node_selections(info))


def article_projection(info: Info, *always: str) -> dict[str, int] | None:
    """An inclusion projection for the articles of this connection (with ``always``
    added, e.g. the sort field for cursors); None, meaning every served field, when
    a selected field is not known here."""
    stored = {"_id", *always}
    for name in _node_fields(info):
        if name not in ARTICLE_FIELDS:
            return None
        stored.update(ARTICLE_FIELDS[name])
    return dict.fromkeys(sorted(stored), 1)
