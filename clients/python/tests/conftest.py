"""Fixtures: a real switchboard-server process on a free port with its own data directory.

The binary is `$SWITCHBOARD_SERVER_BINARY`, or the repository's `.build/debug/switchboard-server`
(`swift build` makes it; `scripts/test` builds it before running these tests). The process helper
itself is in `server_process.py`, shared with the crash harness.

With `SWITCHBOARD_TEST_STORE=postgres` every server runs on a new PostgreSQL database of the
session's cluster (see `server_process.py`); tests of the SQLite file itself are marked
`sqlite_only` and skipped then.
"""
import asyncio
import functools

import pytest

import pg_cluster
import server_process
from server_process import (BINARY, ON_POSTGRES, REPOSITORY, ServerProcess as _ServerProcess, ServerStartError,
                            shared_cluster)

__all__ = ["BINARY", "ON_POSTGRES", "REPOSITORY", "ServerProcess", "eventually", "run_async", "server",
           "sqlite_only"]

#: Marks a test of the SQLite file itself (it damages or opens it): skipped on PostgreSQL.
sqlite_only = pytest.mark.skipif(
    ON_POSTGRES, reason="SQLite only: reads or damages the .sqlite file (SWITCHBOARD_TEST_STORE=postgres)")


def pytest_sessionfinish(session, exitstatus):
    # The shared cluster ends with the session, failed or not (atexit and its watchdog are the
    # fallbacks when the process is killed).
    server_process.stop_shared_cluster()


async def eventually(check, *, seconds: float = 10, interval: float = 0.05) -> bool:
    """Awaits `check()` until it returns true (for effects a server applies a moment later, such as
    keys reloaded every 2 s); false when `seconds` pass first."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        if await check():
            return True
        await asyncio.sleep(interval)
    return False


def run_async(test):
    """Runs an async test function on a fresh event loop (no plugin needed)."""
    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(asyncio.wait_for(test(*args, **kwargs), 60))
    return wrapper


class ServerProcess(_ServerProcess):
    """`server_process.ServerProcess`, failing the test (instead of raising) when it cannot start."""

    def start(self, timeout: float = 30) -> None:
        try:
            super().start(timeout)
        except (ServerStartError, pg_cluster.PostgresError) as e:
            pytest.fail(str(e))


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path / "data")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def postgres():
    """The session's PostgreSQL cluster (`pg_cluster.PostgresCluster`, fast mode; the one the servers use
    with `SWITCHBOARD_TEST_STORE=postgres`); each test takes a new empty database with
    `postgres.make_database()`. Skips the test when PostgreSQL is not installed, except on CI (`CI=true`) or
    with `SWITCHBOARD_TEST_STORE=postgres`, where that is a failure."""
    if not pg_cluster.available():
        message = pg_cluster.NOT_INSTALLED
        if pg_cluster.required() or ON_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    return shared_cluster()
