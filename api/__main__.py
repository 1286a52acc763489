"""``python -m api``: serve the API with uvicorn on $HOST:$PORT."""

import logging
import sys

from api.http.app import serve
from api.settings import Settings, SettingsError

try:
    settings = Settings.from_env()
except SettingsError as exc:
    sys.exit(f"error: {exc}. Fix the variable (README: Configuration) and start again.")
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
serve(settings)
