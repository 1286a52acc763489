"""``python -m loaders PATH...``: load article files into MongoDB.

Exit codes: 0 everything loaded, 1 some inputs were rejected (the rest loaded),
2 nothing could be done (bad arguments, MongoDB unreachable) or the load stopped part
way (MongoDB failing, no primary for longer than --primary-wait, a worker killed):
what was written is consistent, and running again finishes it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError, ServerSelectionTimeoutError

from loaders.failover import (
    DEFAULT_PRIMARY_WAIT,
    PRIMARY_WAIT_ENV,
    Failover,
    NoPrimary,
    PrimaryWatch,
    short_reason,
)
from loaders.inputs import DEFAULT_MAX_SIZE, FORMATS, count_inputs
from loaders.load import BATCH_SIZE, LoadOptions, load_paths
from loaders.progress import feedback
from loaders.report import Report
from storage.contract import database_name
from storage.mongod import MongodError, private_mongod

# Each attempt's wait for a server; across an election, attempts are repeated up to
# --primary-wait (loaders.failover).
SERVER_SELECTION_MS = 5000
UNITS = {"": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2}


def mask_password(uri: str) -> str:
    """The URI with its password (if any) replaced by ``***``."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", uri)


def byte_size(text: str) -> int:
    """``1048576``, ``512KiB``, ``2MiB``, ``1MB``..."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in UNITS or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 1048576, 512KiB or 2MiB)")
    return int(match.group(1)) * UNITS[unit]


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number >= 1: {text!r}")
    return int(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loaders",
        description="Load news articles (YAML front matter, JSON, JSON Lines; optionally "
        "gzipped) into MongoDB.",
        epilog="MONGODB_URI (default: the checkout's private mongod in .data/mongo, the one "
        "`make serve` uses, started for the run unless it is running) and NEWSGRAPH_DB "
        "(default newsgraph) choose where the articles go. Exit code: 0 all loaded, "
        "1 some inputs rejected or not found, 2 nothing could be done or the load stopped "
        "part way (run it again to finish).",
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, help="files, directories (recursive), or - for stdin"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="frontmatter", help="format of standard input"
    )
    parser.add_argument(
        "--workers",
        type=positive,
        default=os.cpu_count() or 1,
        help="parsing processes (default: one per core)",
    )
    parser.add_argument(
        "--max-size",
        type=byte_size,
        default=DEFAULT_MAX_SIZE,
        help="largest input accepted, per file (per line for JSON Lines); default 1MiB",
    )
    parser.add_argument(
        "--batch-size", type=positive, default=BATCH_SIZE, help="articles a bulk write (1000)"
    )
    parser.add_argument("--report", type=Path, metavar="FILE", help="write a JSON report")
    parser.add_argument("--dry-run", action="store_true", help="validate everything, write nothing")
    parser.add_argument(
        "--strict", action="store_true", help="write nothing if any input is rejected"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only errors and the final summary"
    )
    parser.add_argument(
        "--primary-wait",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help=f"how long to wait for a replica-set primary (an election) before giving up; "
        f"default ${PRIMARY_WAIT_ENV}, else {DEFAULT_PRIMARY_WAIT:g}; 0: do not wait",
    )
    args = parser.parse_args(argv)
    if args.primary_wait is None:
        raw = os.environ.get(PRIMARY_WAIT_ENV, "").strip()
        try:
            args.primary_wait = seconds(raw) if raw else DEFAULT_PRIMARY_WAIT
        except argparse.ArgumentTypeError as exc:
            parser.error(f"{PRIMARY_WAIT_ENV}={raw!r}: {exc}")
    return args


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"not a number of seconds from 0 to 86400: {text!r}")
    return value


def _print_outcome(report: Report) -> None:
    for missing in report.not_found:
        print(f"{missing}: not found (no such file or directory)", file=sys.stderr)
    for error in report.errors:
        print(error, file=sys.stderr)
    for duplicate in report.duplicates:
        print(f"warning: {duplicate.describe()}", file=sys.stderr)
    if report.strict_refused:
        print(
            "strict: nothing was written, because some inputs were rejected or not found",
            file=sys.stderr,
        )
    print(report.summary())


def connect(uri: str, failover: Failover) -> MongoClient[dict[str, Any]]:
    """A client that has reached the server. A server that does not answer at all is
    reported after 5 s; a replica set that answers but has no primary (an election)
    is waited for, up to ``failover.wait``; the client tells ``failover`` whenever
    it loses its primary or finds one again. A timeout in the URI
    (serverSelectionTimeoutMS=...) wins over ours."""
    timeout: dict[str, Any] = {}
    if "serverselectiontimeoutms" not in uri.lower():
        timeout["serverSelectionTimeoutMS"] = SERVER_SELECTION_MS
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri, event_listeners=[PrimaryWatch(failover)], **timeout
    )
    try:
        try:
            client.admin.command("ping")
        except ServerSelectionTimeoutError:
            if not client.topology_description.has_known_servers:
                raise
            failover.call(lambda: client.admin.command("ping"))
    except BaseException:
        client.close()
        raise
    return client


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return _main(args)
    except BrokenProcessPool:
        print(
            "error: a parsing worker process died (killed, or out of memory?), so the "
            "load stopped.\nWhat was written is consistent; run the loader again on the "
            "same inputs to finish.",
            file=sys.stderr,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        # Everything is closed (and a mongod started for the run stopped). A normal
        # exit would join the worker pool's thread, which may wait forever for the
        # rest of a result the dead worker was sending.
        os._exit(2)


def _main(args: argparse.Namespace) -> int:
    uri = os.environ.get("MONGODB_URI")
    if uri or args.dry_run:
        return run(args, uri)
    # No server named: the checkout's private mongod, the one `make serve` serves from
    # (shared if it is running, started for this run if not).
    try:
        with private_mongod() as server:
            return run(args, server.uri)
    except MongodError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace, uri: str | None) -> int:
    """Load the inputs into the server at ``uri`` (None only for a dry run)."""
    failover = Failover(args.primary_wait)
    options = LoadOptions(
        workers=args.workers,
        max_size=args.max_size,
        dry_run=args.dry_run,
        strict=args.strict,
        batch_size=args.batch_size,
        stdin_format=args.format,
        expected_inputs=count_inputs(args.paths),
        primary_wait=args.primary_wait,
        failover=failover,
    )
    client: MongoClient[dict[str, Any]] | None = None
    where = mask_password(uri or "")
    try:
        if uri is not None and not args.dry_run:
            client = connect(uri, failover)
    except PyMongoError as exc:
        print(
            f"error: cannot reach MongoDB at {where} ({short_reason(exc)}); "
            "is mongod running there? Set MONGODB_URI to the right server.",
            file=sys.stderr,
        )
        return 2
    try:
        db = client[database_name()] if client else None
        assert options.expected_inputs is not None
        with feedback(options.expected_inputs, args.quiet) as progress:
            report = load_paths(db, args.paths, options, progress)
    except PyMongoError as exc:
        # The server was reachable: the load stopped part way, not before it began.
        print(
            f"error: MongoDB at {where} failed during the load ({short_reason(exc)}).\n"
            "What was written is consistent: run the loader again on the same inputs to "
            "finish"
            + (
                ", with a longer --primary-wait if the replica set was electing a primary."
                if isinstance(exc, NoPrimary)
                else "."
            ),
            file=sys.stderr,
        )
        return 2
    finally:
        if client is not None:
            failover.done()
            client.close()
    _print_outcome(report)
    if args.report:
        report.write_json(args.report)
    report.close()
    return 1 if report.rejected or report.not_found else 0
