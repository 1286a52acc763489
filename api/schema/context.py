"""What every resolver can reach: the database and this request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import strawberry
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.websockets import WebSocket

from api.schema.dataloaders import Loaders
from api.store.reads import Database


class Connection(Protocol):
    """The WebSocket connection a subscription runs on (``api.live.transport``)."""

    def slow_consumer(self, operation_id: str | None) -> None: ...


@dataclass
class Context:
    db: Database
    # A Request over HTTP; over WebSocket, the socket (one context per connection).
    request: HTTPConnection
    response: Response | WebSocket
    loaders: Loaders = field(init=False)
    connection: Connection | None = None

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)

    def fresh_loaders(self) -> None:
        """New DataLoaders: a WebSocket context lives as long as its connection, so
        each subscription event starts with empty caches (fresh data, flat memory)."""
        self.loaders = Loaders(self.db)


Info = strawberry.Info[Context, None]
