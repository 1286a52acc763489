"""What every resolver can reach: the database and this request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from starlette.requests import Request
from starlette.responses import Response

from api.schema.dataloaders import Loaders
from api.store.reads import Database


@dataclass
class Context:
    db: Database
    request: Request
    response: Response
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)


Info = strawberry.Info[Context, None]
