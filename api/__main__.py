"""``python -m api``: serve the API with uvicorn on $HOST:$PORT."""

import logging

import uvicorn

from api.app import create_app
from api.settings import Settings

settings = Settings.from_env()
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
