"""The process's logging, the same for ``python -m api`` and ``make serve``: one line
per record, level, logger and message, to stderr."""

from __future__ import annotations

import logging

FORMAT = "%(levelname)s %(name)s: %(message)s"


def configure() -> None:
    logging.basicConfig(level=logging.INFO, format=FORMAT)
    # The format names no source line, thread or process, so no record needs them:
    # looking up the caller's frame and the thread's and process's names is most
    # of what a record costs, once per request (the logging HOWTO's "Optimization").
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
