"""Configuration, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

from storage.contract import database_name

DEFAULT_URI = "mongodb://127.0.0.1:27017/"


@dataclass(frozen=True)
class Settings:
    mongodb_uri: str = DEFAULT_URI
    database: str = "newsgraph"
    host: str = "127.0.0.1"
    port: int = 8000
    # How long a request waits for MongoDB before it is answered as unavailable.
    mongo_timeout_ms: int = 2500

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            mongodb_uri=os.environ.get("MONGODB_URI") or DEFAULT_URI,
            database=database_name(),
            host=os.environ.get("HOST") or "127.0.0.1",
            port=int(os.environ.get("PORT") or 8000),
            mongo_timeout_ms=int(os.environ.get("MONGO_TIMEOUT_MS") or 2500),
        )
