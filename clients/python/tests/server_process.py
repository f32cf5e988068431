"""A real switchboard-server process for the tests and the crash harness (no pytest needed).

The binary is `$SWITCHBOARD_SERVER_BINARY`, or the repository's `.build/debug/switchboard-server`
(`swift build` makes it; `scripts/test` builds it before running the tests).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from pathlib import Path
from typing import List, Optional, Union

REPOSITORY = Path(__file__).resolve().parents[3]
BINARY = Path(os.environ.get("SWITCHBOARD_SERVER_BINARY", REPOSITORY / ".build/debug/switchboard-server"))


class ServerStartError(RuntimeError):
    """The server did not start listening (its output is in the message)."""


class ServerProcess:
    """A switchboard-server process; `restart()` stops it and starts it again on the same port and data.

    `kill()` ends it with SIGKILL (no shutdown at all), as a crash or power cut of the process would.
    """

    def __init__(self, data_dir: Union[Path, str], binary: Union[Path, str, None] = None) -> None:
        self.data_dir = Path(data_dir)
        self.binary = Path(binary) if binary is not None else BINARY
        self.port = 0
        self.process: Optional[subprocess.Popen] = None
        self.log: List[str] = []
        #: More arguments for the server, after the standard ones.
        self.extra_args: List[str] = []
        self.extra_args: List[str] = []  # more server options, e.g. ["--hook-token", "t"]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        if not self.binary.exists():
            raise ServerStartError(f"{self.binary} is missing: run `swift build` first")
        self.process = subprocess.Popen(
            [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir),
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
