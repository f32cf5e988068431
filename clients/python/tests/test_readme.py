"""Runs the Python program of the repository's README.md against a real server."""
import os
import re
import subprocess
import sys

from conftest import REPOSITORY


def test_the_readme_python_program_runs(server):
    readme = (REPOSITORY / "README.md").read_text()
    section = readme.split("<!-- python client section -->", 1)[1]
    program = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, SWITCHBOARD_SERVER=server.target))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "routed to dave"
    assert lines[-1] == "NOT_FOUND"
    # Every event of the session up to the agent's message, in order from 1.
    sequences = [int(line.split()[0]) for line in lines[1:-1]]
    assert sequences == list(range(1, len(sequences) + 1)) and len(sequences) >= 3
    assert lines[-2].endswith(" message")
