"""A private PostgreSQL cluster for the tests, run by the repository's `scripts/pg-cluster` (no pytest needed).

The cluster listens on 127.0.0.1 and a free port, in a folder under /tmp (as the `postgres` OS user when the
tests run as root). It is stopped and its folder removed by `stop()`, by an `atexit` hook on a normal exit, and
by the script's watchdog (`pg-cluster start --watch <pid>`) when the Python process is killed or crashes.

    with PostgresCluster() as cluster:
        url = cluster.make_database()   # postgres://switchboard@127.0.0.1:PORT/test_...
"""
from __future__ import annotations

import atexit
import os
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import List, Optional

REPOSITORY = Path(__file__).resolve().parents[3]
SCRIPT = REPOSITORY / "scripts/pg-cluster"
NOT_INSTALLED = "PostgreSQL is not installed: run scripts/install-deps --test"


class PostgresError(RuntimeError):
    """The cluster did not start, restart or stop, or a statement failed (the program's output is in the message)."""


def bindir() -> Optional[Path]:
    """The folder of the PostgreSQL binaries the script uses (`pg-cluster bindir`), or None when not installed."""
    result = subprocess.run([str(SCRIPT), "bindir"], capture_output=True, text=True)
    path = result.stdout.strip()
    return Path(path) if result.returncode == 0 and path else None


def available() -> bool:
    """Whether PostgreSQL is installed (`scripts/install-deps --test` installs it)."""
    return bindir() is not None


def required() -> bool:
    """Whether PostgreSQL must be there: on CI (`CI=true`) a missing PostgreSQL fails the tests instead of
    skipping them."""
    return os.environ.get("CI") == "true"


def psql() -> Path:
    """The `psql` program, to run queries against the URLs."""
    directory = bindir()
    if directory is None:
        raise PostgresError(NOT_INSTALLED)
    return directory / "psql"


class PostgresCluster:
    """A cluster of its own: `start()` (or `with`), `make_database()`, `restart()`, `stop_server()` and
    `start_server()` (an outage), `stop()`.

    With `fast` (the default) fsync, synchronous_commit and full_page_writes are off: quicker, and the data
    survives restarts of the server but not of the machine.
    """

    def __init__(self, fast: bool = True) -> None:
        self.fast = fast
        #: The cluster's folder (data in `data/`, the server's log in `log`), once started.
        self.directory: Optional[Path] = None
        #: The server's TCP port on 127.0.0.1, once started.
        self.port = 0

    @property
    def base_url(self) -> str:
        """The URL of the cluster's own database `switchboard` (owned by the superuser `switchboard`, no
        password); `make_database()`'s URLs differ only in the database."""
        return self._url("switchboard")

    def start(self) -> "PostgresCluster":
        if bindir() is None:
            raise PostgresError(NOT_INSTALLED)
        self.directory = Path(tempfile.mkdtemp(prefix="switchboard-pg-", dir="/tmp"))
        atexit.register(self.stop)
        environment = dict(os.environ)
        environment.pop("PORT", None)  # a free port, whatever the environment says
        environment.pop("PG_FAST", None)
        if self.fast:
            environment["PG_FAST"] = "1"
        try:
            self._run(["start", "--watch", str(os.getpid()), str(self.directory)], environment, timeout=120)
            self.port = int((self.directory / "port").read_text().strip())
        except BaseException:
            self.stop()
            raise
        return self

    def make_database(self) -> str:
        """A new empty database (a unique name, owned by `switchboard`) and its URL."""
        name = "test_" + uuid.uuid4().hex
        result = subprocess.run(
            [str(psql()), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.base_url, "-c", f"CREATE DATABASE {name}"],
            capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise PostgresError(f"CREATE DATABASE {name}: {result.stdout}{result.stderr}")
        return self._url(name)

    def restart(self) -> None:
        """Restarts the server (`pg_ctl restart -m fast`: sessions are ended) on the same port and data; returns
        once it accepts connections again."""
        self._run(["restart", str(self._started())])

    def stop_server(self) -> None:
        """Stops the server (`pg_ctl stop -m fast`) but keeps its folder, data and port, for `start_server()`:
        an outage as long as the caller likes."""
        self._run(["stop", str(self._started())])

    def start_server(self) -> None:
        """Starts the server again after `stop_server()`, on the same port and data (fails if another process
        took the port meanwhile); returns once it accepts connections."""
        environment = dict(os.environ, PORT=str(self.port))
        environment.pop("PG_FAST", None)
        if self.fast:
            environment["PG_FAST"] = "1"
        self._run(["start", str(self._started())], environment, timeout=120)

    def stop(self) -> None:
        """Stops the server and removes its folder (and its watchdog); does nothing when already stopped."""
        if self.directory is None:
            return
        atexit.unregister(self.stop)
        directory, self.directory = self.directory, None
        self._run(["stop", "--remove", str(directory)])

    def __enter__(self) -> "PostgresCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _url(self, database: str) -> str:
        return f"postgres://switchboard@127.0.0.1:{self.port}/{database}"

    def _started(self) -> Path:
        if self.directory is None:
            raise PostgresError("the cluster is not started")
        return self.directory

    def _run(self, arguments: List[str], environment: Optional[dict] = None, timeout: float = 60) -> None:
        result = subprocess.run([str(SCRIPT), *arguments], env=environment, capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise PostgresError(f"scripts/pg-cluster {' '.join(arguments)} failed:\n{result.stdout}{result.stderr}")
