"""Fixtures: a real switchboard-server process on a free port with its own data directory.

The binary is `$SWITCHBOARD_SERVER_BINARY`, or the repository's `.build/debug/switchboard-server`
(`swift build` makes it; `scripts/test` builds it before running these tests). The process helper
itself is in `server_process.py`, shared with the crash harness.
"""
import asyncio
import functools

import pytest

from server_process import BINARY, REPOSITORY, ServerProcess as _ServerProcess, ServerStartError

__all__ = ["BINARY", "REPOSITORY", "ServerProcess", "run_async", "server"]


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
