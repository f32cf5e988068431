"""A real switchboard-server process for the tests and the crash harness (no pytest needed).

The binary is `$SWITCHBOARD_SERVER_BINARY`, or the repository's `.build/debug/switchboard-server`
(`swift build` makes it; `scripts/test` builds it before running the tests).

The store: SQLite in the process's data folder by default. With `SWITCHBOARD_TEST_STORE=postgres`,
each `ServerProcess` gets a new database of its own (kept across its restarts) on one PostgreSQL
cluster shared by the whole test process (`shared_cluster()`: started on first use, stopped by
`stop_shared_cluster()`, which the pytest session calls at its end, by `atexit`, and by the
cluster's watchdog when the process dies).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from pathlib import Path
from typing import List, Optional, Union

import pg_cluster

REPOSITORY = Path(__file__).resolve().parents[3]
BINARY = Path(os.environ.get("SWITCHBOARD_SERVER_BINARY", REPOSITORY / ".build/debug/switchboard-server"))

#: The store the test servers use: `sqlite` (the default) or `postgres` (`SWITCHBOARD_TEST_STORE`).
STORE = os.environ.get("SWITCHBOARD_TEST_STORE") or "sqlite"
if STORE not in ("sqlite", "postgres"):
    raise RuntimeError(f"SWITCHBOARD_TEST_STORE must be sqlite or postgres, not {STORE!r}")
ON_POSTGRES = STORE == "postgres"

_shared: Optional[pg_cluster.PostgresCluster] = None
_shared_lock = threading.Lock()


def shared_cluster() -> pg_cluster.PostgresCluster:
    """The test process's PostgreSQL cluster for the servers (fast mode), started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            cluster = pg_cluster.PostgresCluster()
            cluster.start()
            _shared = cluster
        return _shared


def stop_shared_cluster() -> None:
    """Stops the shared cluster and removes its folder, if it was started."""
    global _shared
    with _shared_lock:
        cluster, _shared = _shared, None
    if cluster is not None:
        cluster.stop()


class ServerStartError(RuntimeError):
    """The server did not start listening (its output is in the message)."""


class ServerProcess:
    """A switchboard-server process; `restart()` stops it and starts it again on the same port and data.

    `kill()` ends it with SIGKILL (no shutdown at all), as a crash or power cut of the process would.
    """

    def __init__(self, data_dir: Union[Path, str], binary: Union[Path, str, None] = None,
                 database: Optional[str] = None) -> None:
        self.data_dir = Path(data_dir)
        self.binary = Path(binary) if binary is not None else BINARY
        self.port = 0
        self.process: Optional[subprocess.Popen] = None
        self.log: List[str] = []
        #: More arguments for the server, after the standard ones, e.g. ["--hook-token", "t"].
        self.extra_args: List[str] = []
        self._database = database

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def database(self) -> Optional[str]:
        """The `--database` the server runs on: the one given, else on PostgreSQL (`ON_POSTGRES`) a new
        database of the shared cluster, made on first use and kept for the life of this object; else None
        (SQLite in the data folder)."""
        if self._database is None and ON_POSTGRES:
            self._database = shared_cluster().make_database()
        return self._database

    @property
    def store_args(self) -> List[str]:
        """The options naming this server's data, for `serve` and for `switchboard-server keys`."""
        database = self.database
        return ["--data-dir", str(self.data_dir)] + (["--database", database] if database else [])

    def start(self, timeout: float = 30) -> None:
        if not self.binary.exists():
            raise ServerStartError(f"{self.binary} is missing: run `swift build` first")
        self.process = subprocess.Popen(
            [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port), *self.store_args,
             "--grace-seconds", "1", *self.extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        listening = threading.Event()
        found = []
        process = self.process

        def read() -> None:
            for line in process.stdout:
                self.log.append(line)
                match = re.search(r"listening", line) and re.search(r":(\d+)\b(?!.*:\d)", line)
                if match and not listening.is_set():
                    self.port = int(match.group(1))
                    found.append(True)
                    listening.set()
            listening.set()  # the process ended: stop waiting

        threading.Thread(target=read, daemon=True).start()
        if not listening.wait(timeout) or not found:
            self.stop()
            raise ServerStartError("switchboard-server did not start:\n" + "".join(self.log[-50:]))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> Optional[int]:
        """SIGKILLs the process and waits for it; returns its exit code if it had already ended by itself."""
        if self.process is None:
            return None
        ended = self.process.poll()
        if ended is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        return ended

    def restart(self) -> None:
        self.stop()
        self.start()
