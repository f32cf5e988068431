"""Fixtures: a real switchboard-server process on a free port with its own data directory.

The binary is `$SWITCHBOARD_SERVER_BINARY`, or the repository's `.build/debug/switchboard-server`
(`swift build` makes it; `scripts/test` builds it before running these tests). The process helper
itself is in `server_process.py`, shared with the crash harness.
"""
import asyncio
import functools

import pytest

from server_process import BINARY, REPOSITORY, ServerProcess as _ServerProcess, ServerStartError

__all__ = ["BINARY", "REPOSITORY", "ServerProcess", "eventually", "run_async", "server"]


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
        except ServerStartError as e:
            pytest.fail(str(e))


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path / "data")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def postgres():
    """The session's PostgreSQL cluster (`pg_cluster.PostgresCluster`, fast mode); each test takes a new empty
    database with `postgres.make_database()`. Skips the test when PostgreSQL is not installed, except on CI
    (`CI=true`), where that is a failure."""
    import pg_cluster

    if not pg_cluster.available():
        message = pg_cluster.NOT_INSTALLED
        if pg_cluster.required():
            pytest.fail(message)
        pytest.skip(message)
    with pg_cluster.PostgresCluster() as cluster:
        yield cluster
