"""Fixtures: a real switchboard-server process on a free port with its own data directory.

The binary is `$SWITCHBOARD_SERVER_BINARY`, or the repository's `.build/debug/switchboard-server`
(`swift build` makes it; `scripts/test` builds it before running these tests).
"""
import asyncio
import functools
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[3]
BINARY = Path(os.environ.get("SWITCHBOARD_SERVER_BINARY", REPOSITORY / ".build/debug/switchboard-server"))


def run_async(test):
    """Runs an async test function on a fresh event loop (no plugin needed)."""
    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(asyncio.wait_for(test(*args, **kwargs), 60))
    return wrapper


class ServerProcess:
    """A switchboard-server process; `restart()` stops it and starts it again on the same port and data."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = 0
        self.process = None
        self.log = []

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        if not BINARY.exists():
            pytest.fail(f"{BINARY} is missing: run `swift build` first")
        self.process = subprocess.Popen(
            [str(BINARY), "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir),
             "--grace-seconds", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        listening = threading.Event()

        def read():
            for line in self.process.stdout:
                self.log.append(line)
                match = re.search(r"listening", line) and re.search(r":(\d+)\b(?!.*:\d)", line)
                if match and not listening.is_set():
                    self.port = int(match.group(1))
                    listening.set()

        threading.Thread(target=read, daemon=True).start()
        if not listening.wait(30):
            self.stop()
            pytest.fail("switchboard-server did not start:\n" + "".join(self.log))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path / "data")
    process.start()
    yield process
    process.stop()
