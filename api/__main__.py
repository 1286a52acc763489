"""``python -m api``: serve the API with uvicorn on $HOST:$PORT."""

import logging
import sys

import uvicorn

from api.app import create_app
from api.settings import Settings, SettingsError

try:
    settings = Settings.from_env()
except SettingsError as exc:
    sys.exit(f"error: {exc}. Fix the variable (README: Configuration) and start again.")
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
# access_log=False: the edge logs one structured line per request (api.request_log),
# so uvicorn's own access line would only repeat it, at a cost on every request.
uvicorn.run(
    create_app(settings),
    host=settings.host,
    port=settings.port,
    log_level="info",
    access_log=False,
)
