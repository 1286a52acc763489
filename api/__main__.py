"""``python -m api``: serve the API with uvicorn on $HOST:$PORT."""

import sys

from api import logs
from api.settings import VARIABLES, Settings, SettingsError

USAGE = """usage: python -m api [--help]

Serves the newsgraph GraphQL API (POST/GET /graphql, /healthz, /readyz, /metrics)
with uvicorn in one process. It takes no arguments: every setting is an environment
variable, read once at start (README: Configuration).

environment variables (default):
"""


def usage() -> str:
    width = max(len(name) for name, _, _ in VARIABLES)
    rows = [f"  {name:<{width}}  {meaning} ({default})" for name, default, meaning in VARIABLES]
    return USAGE + "\n".join(rows)


def main(argv: list[str]) -> None:
    if any(arg in ("-h", "--help") for arg in argv):
        print(usage())
        return
    if argv:
        sys.exit(
            f"error: python -m api takes no arguments (got {' '.join(argv)}); "
            "set environment variables instead: python -m api --help lists them."
        )
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        sys.exit(f"error: {exc}. Fix the variable (README: Configuration) and start again.")
    from api.http.app import serve  # only now: --help and errors need no app

    logs.configure()
    serve(settings)


main(sys.argv[1:])
