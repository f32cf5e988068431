"""Crash safety: SIGKILLs under load lose nothing acknowledged; a damaged database stops start-up cleanly."""
import asyncio
import os
import sqlite3
import subprocess
import time

import pytest

import crash_harness
import pg_cluster
from conftest import BINARY, ServerProcess, sqlite_only
from switchboard import Client


def test_sigkill_under_load_loses_no_acknowledged_change():
    result = crash_harness.run(kills=20, clients=32, seed=20, binary=BINARY)
    report = result.to_json()
    assert result.kills == 20
    assert result.lost == 0, report
    assert result.invariant_violations == 0, report
    assert result.unexpected_exits == 0, report
    # The load really ran, across the kills, and was checked.
    assert result.acknowledged_writes > 1000, report
    assert result.acknowledged_writes_checked >= 0.9 * result.acknowledged_writes, report
    for kind in ("create_session", "user_message", "agent_message", "request_agent", "agent_close",
                 "transfer", "submit_rating", "update_settings", "agent_status"):
        assert result.acknowledged_by_kind.get(kind, 0) > 0, (kind, report)


def test_the_harness_catches_a_lost_message_and_a_reopened_session():
    """Damages the database between the last kill and the restart: the checks must notice."""
    def damage(server):
        if (server.database or "").startswith("postgres://"):
            damage_postgres(server.database)
            return
        db = sqlite3.connect(str(server.data_dir / "switchboard.sqlite"))
        with db:
            (sid,) = db.execute("SELECT session_id FROM messages WHERE text LIKE '% user %' "
                                "GROUP BY session_id ORDER BY COUNT(*) DESC LIMIT 1").fetchone()
            db.execute("DELETE FROM messages WHERE session_id = ? AND sequence = "
                       "(SELECT MIN(sequence) FROM messages WHERE session_id = ? AND text LIKE '% user %')", (sid, sid))
            db.execute("UPDATE sessions SET state = 0, close_reason = NULL, closed_at = NULL "
                       "WHERE id = (SELECT id FROM sessions WHERE state = 4 AND close_reason = 2 LIMIT 1)")
        db.close()

    result = crash_harness.run(kills=2, clients=16, seed=3, binary=BINARY, min_delay=1.0, max_delay=1.5,
                               before_last_start=damage)
    report = result.to_json()
    assert result.lost >= 2, report   # the acknowledged message, and the acknowledged close
    assert result.invariant_violations >= 1, report   # the transcript's gap
    assert any("acknowledged message" in line for line in result.lost_details), report
    assert any("close acknowledged" in line for line in result.lost_details), report
    assert any("not 1..N" in line for line in result.violation_details), report


def damage_postgres(url):
    """The same damage with psql (the harness's tenant is `default`), one row each, in one transaction."""
    sql = """
        BEGIN;
        WITH victim AS (
            SELECT session_id, MIN(sequence) AS sequence FROM messages
            WHERE tenant_id = 'default' AND session_id = (
                SELECT session_id FROM messages WHERE tenant_id = 'default' AND text LIKE '% user %'
                GROUP BY session_id ORDER BY COUNT(*) DESC LIMIT 1)
              AND text LIKE '% user %'
            GROUP BY session_id)
        DELETE FROM messages m USING victim
        WHERE m.tenant_id = 'default' AND m.session_id = victim.session_id AND m.sequence = victim.sequence;
        UPDATE sessions SET state = 0, close_reason = NULL, closed_at = NULL
        WHERE tenant_id = 'default' AND id = (
            SELECT id FROM sessions WHERE tenant_id = 'default' AND state = 4 AND close_reason = 2 LIMIT 1);
        COMMIT;
    """
    done = subprocess.run([str(pg_cluster.psql()), "-X", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"],
                          input=sql, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "DELETE 1" in done.stdout and "UPDATE 1" in done.stdout, done.stdout


# -- a damaged or unreadable database (the SQLite file itself) -------------------------------------

@pytest.fixture(scope="module")
def real_database(tmp_path_factory):
    """A database with agents, sessions and messages, checkpointed into its main file."""
    data = tmp_path_factory.mktemp("real") / "data"
    server = ServerProcess(data)
    server.start()

    async def fill():
        async with Client(server.target, timeout=10) as client:
            for i in range(10):
                await client.agents.create_agent(id=f"agent-{i}", display_name="Agent " * 20)
            for _ in range(100):
                session = await client.sessions.create_session(user_id="user", channel="web")
                for _ in range(3):
                    await client.sessions.send_user_message(session_id=session.id, text="hello " * 40)
    try:
        asyncio.run(fill())
    finally:
        server.stop()
    db = sqlite3.connect(str(data / "switchboard.sqlite"))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    path = data / "switchboard.sqlite"
    assert path.stat().st_size > 200_000
    return path.read_bytes()


def start_expecting_failure(data_dir):
    started = time.monotonic()
    process = subprocess.run([str(BINARY), "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    return process.returncode, process.stdout, time.monotonic() - started


def damaged(kind, real, path):
    if kind == "random bytes":
        path.write_bytes(os.urandom(64 * 1024))
    elif kind == "zeroed":
        path.write_bytes(bytes(len(real)))
    elif kind == "truncated to half":
        path.write_bytes(real[: len(real) // 2 // 4096 * 4096])
    elif kind == "first page overwritten after its header":
        path.write_bytes(real[:100] + os.urandom(3000) + real[3100:])
    elif kind == "newer schema":
        path.write_bytes(real)
        db = sqlite3.connect(str(path))
        with db:
            db.execute("INSERT INTO grdb_migrations (identifier) VALUES ('v999-from-the-future')")
        db.close()
    else:
        raise AssertionError(kind)


@sqlite_only
@pytest.mark.parametrize("kind", ["random bytes", "zeroed", "truncated to half",
                                  "first page overwritten after its header", "newer schema"])
def test_a_damaged_database_stops_start_up_with_a_clear_message(kind, real_database, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    path = data / "switchboard.sqlite"
    damaged(kind, real_database, path)
    code, output, seconds = start_expecting_failure(data)
    assert code == 2, output               # a clean exit with the start-up error status, not a signal
    assert seconds < 10, output
    assert "cannot start" in output and str(path) in output, output
    if kind == "newer schema":
        assert "newer than this version" in output, output
    else:
        assert "is damaged or is not a Switchboard database" in output, output
        assert "restore it from a backup" in output, output
    for crash in ("Fatal error", "Backtrace", "Segmentation fault", "Illegal instruction", "💣"):
        assert crash not in output, output
    assert "listening" not in output, output


@sqlite_only
@pytest.mark.parametrize("kind", ["database is a folder", "data folder is a file"])
def test_an_unusable_database_location_stops_start_up_with_a_clear_message(kind, tmp_path):
    # Running as root ignores file permissions, so "unreadable" is a folder where the file should
    # be, or a file where the folder should be.
    if kind == "database is a folder":
        data = tmp_path / "data"
        (data / "switchboard.sqlite").mkdir(parents=True)
        expected = [str(data / "switchboard.sqlite"), "is a folder, not a database file"]
    else:
        data = tmp_path / "data"
        data.write_text("not a folder")
        expected = [str(data), "is a file, not a folder"]
    code, output, seconds = start_expecting_failure(data)
    assert code == 2, output
    assert seconds < 10, output
    assert "cannot start" in output, output
    for text in expected:
        assert text in output, output
    assert "Fatal error" not in output and "Backtrace" not in output, output
