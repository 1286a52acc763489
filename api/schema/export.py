"""Write the schema as SDL to ``schema.graphql`` at the repository root (``make
schema``), for frontends' code generators and for review in diffs."""

from __future__ import annotations

from pathlib import Path

from api.schema.root import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def sdl() -> str:
    return schema.as_str() + "\n"


def main() -> None:
    SCHEMA_FILE.write_text(sdl(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
