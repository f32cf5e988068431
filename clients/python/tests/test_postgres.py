"""The server on PostgreSQL, end to end (in both modes of the suite; skipped without PostgreSQL except on CI):

- PostgreSQL restarted, stopped for 2 s, restarted again, under load: calls fail UNAVAILABLE meanwhile
  (within the database timeout, with no other code), succeed again soon after, nothing acknowledged is
  lost, the server lives on; and the two issues it once brought out, each reproduced on its own (fixed);
- PostgreSQL unreachable at start-up: a quick exit naming the database, without its password;
- `copy-data` SQLite -> PostgreSQL -> SQLite, every answer of the servers compared;
- two servers starting at once on a new database (the migrations under an advisory lock).

The tests that restart or stop PostgreSQL run on a private cluster each; the others on the session's.
"""
import asyncio
import json
import random
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import pytest
from google.protobuf.json_format import MessageToDict

import pg_cluster
from conftest import BINARY, ServerProcess
from switchboard import Client, RPCError, StatusCode
from switchboard.v1 import agent_pb2, session_pb2, settings_pb2, tenant_pb2

S = session_pb2
ONLINE = agent_pb2.AGENT_STATUS_ONLINE
CRASH_MARKERS = ("Fatal error", "Backtrace", "Segmentation fault", "Illegal instruction", "💣")


@pytest.fixture
def private_cluster(postgres):
    """A PostgreSQL cluster of the test's own, to restart and stop (`postgres` only to skip, or fail on CI,
    where PostgreSQL is missing)."""
    with pg_cluster.PostgresCluster() as cluster:
        yield cluster


def run(coroutine, seconds: float):
    return asyncio.run(asyncio.wait_for(coroutine, seconds))


async def poll(check, seconds: float, interval: float = 0.05):
    """Awaits `check()` (a coroutine function) until it returns something true, and returns that; None when
    `seconds` pass first."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        value = await check()
        if value or loop.time() >= end:
            return value or None
        await asyncio.sleep(interval)


def quiet_settings(current: settings_pb2.SettingsDocument) -> settings_pb2.Settings:
    """The settings with nothing that changes by itself during a test: manual mode with offers that do not
    expire, no user timeout, a queue message a day, ratings after closing, no working hours."""
    settings = settings_pb2.Settings()
    settings.CopyFrom(current.settings)
    settings.service_mode.mode = settings_pb2.Settings.ServiceMode.MODE_MANUAL
    settings.service_mode.connect_timeout_seconds = 3600
    settings.service_mode.break_after_connect_timeout = False
    settings.queue.queue_message_interval_seconds = 86400
    settings.closure.user_timeout_seconds = 0
    settings.rating.enabled = True
    settings.rating.agent_may_invite = True
    settings.rating.send_after_close = True
    settings.rating.validity_seconds = 2_592_000
    settings.working_hours.enabled = False
    return settings


# -- a. PostgreSQL restarted and stopped under load ------------------------------------------------

DATABASE_TIMEOUT = 1.0      # --database-timeout-seconds of the server under load: below the 2 s outage
CALL_TIMEOUT = 30.0         # the clients' deadline: far above what an outage may make a call take
# The longest a call may take: seen up to 2 timeouts (it waited for a reload of the state that failed after
# one, then for its own try), plus 3 s for a noisy machine.
SLOWEST_FAILURE = 2 * DATABASE_TIMEOUT + 3


@dataclass
class Call:
    kind: str
    write: bool
    start: float
    end: float
    code: Optional[int] = None      # None: OK
    message: str = ""


class Load:
    """Users who create sessions and send messages, and one agent who accepts, answers and closes them;
    every call recorded, every acknowledged message kept."""

    def __init__(self, target: str, users: int, seed: int) -> None:
        self.target = target
        self.users = users
        self.seed = seed
        self.calls: List[Call] = []
        self.stopping = False
        self.sessions: List[str] = []                            # acknowledged creations, in order
        self.messages: Dict[str, List[Tuple[int, str]]] = {}     # session -> acknowledged (sequence, text), as acknowledged
        self.sent_texts: set = set()                             # every text sent, acknowledged or not
        self.finished: set = set()                               # sessions the user is done with (the agent may close)

    async def call(self, kind: str, write: bool, fn):
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            answer = await fn()
        except RPCError as e:
            self.calls.append(Call(kind, write, start, loop.time(), int(e.code), e.message))
            await asyncio.sleep(0.05)   # no hot loop of failures while PostgreSQL is down
            return None
        self.calls.append(Call(kind, write, start, loop.time()))
        return answer

    def acked(self, message: S.Message) -> None:
        self.messages.setdefault(message.session_id, []).append((message.sequence, message.text))

    async def send(self, kind: str, fn_of_text, sid: str, rng: random.Random) -> bool:
        text = f"{sid} {kind} {rng.getrandbits(48):012x}"
        self.sent_texts.add(text)
        message = await self.call(kind, True, lambda: fn_of_text(text))
        if message is not None:
            self.acked(message)
        return message is not None

    async def user(self, index: int) -> None:
        rng = random.Random(self.seed * 7919 + index)
        async with Client(self.target, timeout=CALL_TIMEOUT) as client:
            counter = 0
            while not self.stopping:
                counter += 1
                session = await self.call("create_session", True, lambda: client.sessions.create_session(
                    user_id=f"user-{index}-{counter}", channel="web"))
                if session is None:
                    continue
                sid = session.id
                self.sessions.append(sid)
                routed = False
                for _ in range(rng.randint(3, 8)):
                    if self.stopping:
                        break
                    await asyncio.sleep(rng.uniform(0.01, 0.05))
                    await self.send("user_message", lambda text: client.sessions.send_user_message(
                        session_id=sid, text=text), sid, rng)
                    if not routed:
                        routed = await self.route(client, sid)
                self.finished.add(sid)

    async def route(self, client: Client, sid: str) -> bool:
        """RequestAgent once the session is (still) with the bot: after an unknown outcome it may have
        been applied, and asking again would be refused."""
        state = await self.call("get_session", False, lambda: client.sessions.get_session(session_id=sid))
        if state is None:
            return False
        if state.state != S.SESSION_STATE_BOT:
            return True
        return await self.call("request_agent", True, lambda: client.sessions.request_agent(session_id=sid)) is not None

    async def agent(self, agent_id: str) -> None:
        rng = random.Random(self.seed)
        answered: set = set()
        async with Client(self.target, timeout=CALL_TIMEOUT) as client:
            while not self.stopping:
                await asyncio.sleep(0.02)
                listed = await self.call("list_agent_sessions", False,
                                         lambda: client.agents.list_agent_sessions(agent_id=agent_id))
                if listed is None:
                    continue
                for session in listed.sessions:
                    sid = session.id
                    if session.state == S.SESSION_STATE_OFFERED:
                        await self.call("accept", True, lambda: client.agents.accept_session(agent_id=agent_id, session_id=sid))
                    elif session.state == S.SESSION_STATE_ACTIVE and sid not in answered:
                        if await self.send("agent_message", lambda text: client.agents.send_agent_message(
                                agent_id=agent_id, session_id=sid, text=text), sid, rng):
                            answered.add(sid)
                    elif session.state == S.SESSION_STATE_ACTIVE and sid in self.finished:
                        await self.call("agent_close", True, lambda: client.agents.close_session(agent_id=agent_id, session_id=sid))

    def writes_acked_after(self, moment: float) -> List[Call]:
        return [c for c in self.calls if c.write and c.code is None and c.start >= moment]


async def setup_load(target: str, agent_id: str) -> None:
    async with Client(target, timeout=CALL_TIMEOUT) as client:
        current = await client.settings.get_settings()
        settings = quiet_settings(current)
        settings.queue.max_sessions_per_agent = 1000
        await client.settings.update_settings(expected_version=current.version, settings=settings)
        await client.agents.create_agent(id=agent_id, display_name="Agent under load", max_sessions=1000)
        await client.agents.set_agent_status(id=agent_id, status=ONLINE)


async def check_transcripts(target: str, load: Load) -> dict:
    """Reads every session the load created back over RPC and checks it against what was acknowledged: every
    acknowledged message at its sequence with its text; sequences 1..N; each sender's messages acknowledged in
    sequence order; no text stored twice. Fails on those; returns the sessions whose GetSession last_sequence
    differs from N (session, last_sequence, N) and the count of acknowledged messages checked."""
    lost, gaps, duplicates, last_sequence, checked = [], [], [], [], 0
    async with Client(target, timeout=30) as client:
        for sid in load.sessions:
            session = await client.sessions.get_session(session_id=sid)
            transcript = [m async for m in client.all_messages(sid)]
            sequences = [m.sequence for m in transcript]
            if sequences != list(range(1, len(sequences) + 1)):
                gaps.append((sid, sequences))
            if session.last_sequence != len(sequences):
                last_sequence.append((sid, session.last_sequence, len(sequences)))
            texts = {m.sequence: m.text for m in transcript}
            acked = load.messages.get(sid, [])
            # One sender's messages (the user's, the agent's: each sends one at a time) are acknowledged in
            # the order of their sequence numbers.
            for sender in ("user_message", "agent_message"):
                own = [sequence for sequence, text in acked if f" {sender} " in text]
                if own != sorted(own):
                    gaps.append((sid, f"{sender}s acknowledged out of order", own))
            for sequence, text in acked:
                checked += 1
                if texts.get(sequence) != text:
                    lost.append((sid, sequence, text, texts.get(sequence)))
            ours = [m.text for m in transcript if m.text in load.sent_texts]
            if len(ours) != len(set(ours)):
                duplicates.append(sid)
    assert not lost, lost[:10]
    assert not gaps, gaps[:10]
    assert not duplicates, duplicates[:10]
    return {"last_sequence": last_sequence, "checked": checked}


async def restarted_under_load(cluster: pg_cluster.PostgresCluster, server: ServerProcess) -> dict:
    loop = asyncio.get_running_loop()
    await setup_load(server.target, "agent")
    load = Load(server.target, users=6, seed=11)
    tasks = [asyncio.ensure_future(load.user(i)) for i in range(load.users)]
    tasks.append(asyncio.ensure_future(load.agent("agent")))
    outages = []

    async def acked_writes_after(moment: float, count: int, seconds: float) -> List[Call]:
        async def enough():
            for task in tasks:
                if task.done():
                    task.result()   # a client task that failed fails the test
            writes = load.writes_acked_after(moment)
            return writes if len(writes) >= count else None
        writes = await poll(enough, seconds)
        assert writes, f"fewer than {count} writes acknowledged within {seconds} s after t={moment - started:.2f}"
        return writes

    async def outage(kind: str) -> None:
        down = loop.time()
        stopped = starting = None
        if kind == "restart":
            await asyncio.to_thread(cluster.restart)
        else:
            await asyncio.to_thread(cluster.stop_server)
            stopped = loop.time()
            await asyncio.sleep(2)   # the outage itself: PostgreSQL stays down 2 s
            starting = loop.time()
            await asyncio.to_thread(cluster.start_server)
        back = loop.time()
        # The first write acknowledged that was sent after PostgreSQL was back.
        first = min(await acked_writes_after(back, 1, 20), key=lambda c: c.end)
        outages.append({"kind": kind, "down": down, "back": back, "recovered": first.end,
                        "stopped": stopped, "starting": starting,
                        "down_seconds": round(back - down, 2), "back_to_first_success_seconds": round(first.end - back, 2)})
        await acked_writes_after(first.end, 150, 60)   # steady work again (2 s and more) before what comes next

    started = loop.time()
    try:
        await acked_writes_after(started, 200, 60)
        await outage("restart")
        await outage("stop 2 s")
        await outage("restart")
    finally:
        load.stopping = True
        done, pending = await asyncio.wait(tasks, timeout=CALL_TIMEOUT + 10)
        for task in pending:
            task.cancel()
    for task in done:
        task.result()
    assert not pending, f"{len(pending)} client tasks did not end"

    # -- the calls -----------------------------------------------------------------------------
    failures = [c for c in load.calls if c.code is not None]

    def around_an_outage(call: Call) -> bool:
        """Whether the call overlaps an outage: from PostgreSQL going down to 2 s after the first success
        once it is back (calls sent before that success may end later; a reload may come a moment later)."""
        return any(call.end >= o["down"] and call.start <= o["recovered"] + 2 for o in outages)

    # Every failure is UNAVAILABLE (no commit reported failed lands later: PostgreSQL cancels it first,
    # statement_timeout; so no write breaks a key), but one, a known weakness: reads answer from memory,
    # which holds a decision while its commit is in flight, so an agent may read a session OFFERED whose
    # commit then fails; its AcceptSession is refused once the state is reloaded. (While the state is
    # stale after such a failure, reads fail UNAVAILABLE: test_reads_after_a_failed_commit_...) Tolerated
    # for the agent's calls only, around an outage, and counted.
    unstored = [c for c in failures if c.kind in ("accept", "agent_message", "agent_close")
                and c.code in (StatusCode.FAILED_PRECONDITION, StatusCode.PERMISSION_DENIED) and around_an_outage(c)]
    other = [c for c in failures if c.code != StatusCode.UNAVAILABLE and all(c is not u for u in unstored)]
    assert not other, [(c.kind, StatusCode(c.code).name, c.message) for c in other[:20]]
    disconnected = [c for c in failures if c.message.startswith(("cannot connect to", "connecting to"))]
    assert not disconnected, [(c.kind, c.message) for c in disconnected[:5]]
    slow = [c for c in load.calls if c.end - c.start > SLOWEST_FAILURE]
    assert not slow, [(c.kind, round(c.end - c.start, 2), c.code) for c in slow[:20]]
    for call in failures:
        assert around_an_outage(call), (call, [(o["down"] - started, o["recovered"] - started) for o in outages],
                                        call.start - started)

    for o in outages:
        o["failed_calls"] = sum(1 for c in failures if c.end >= o["down"] and c.start <= o["recovered"] + 2)
        if o["stopped"] is not None:
            # While PostgreSQL was surely down (from pg_ctl stop returning to pg_ctl start being run), writes
            # ended: failed, after at most the timeout; none was acknowledged.
            ended = [c for c in load.calls if c.write and o["stopped"] <= c.end <= o["starting"]]
            o["writes_failed_while_stopped"] = sum(1 for c in ended if c.code is not None)
            acknowledged = [c for c in ended if c.code is None]
            assert not acknowledged, ("writes acknowledged while PostgreSQL was stopped", acknowledged)
            assert o["writes_failed_while_stopped"] > 0, ("no write failed while PostgreSQL was stopped", [
                (c.kind, round(c.start - o["stopped"], 2), round(c.end - c.start, 2), c.code) for c in load.calls
                if c.write and c.end >= o["stopped"] and c.start <= o["starting"]])

    # -- every acknowledged write is there: on the server that lived through the outages, then restarted -----
    live = await check_transcripts(server.target, load)
    # The memory is the database's: GetSession's last_sequence is the stored transcript's.
    assert not live["last_sequence"], live["last_sequence"][:10]
    await asyncio.to_thread(server.restart)
    restarted = await check_transcripts(server.target, load)
    assert not restarted["last_sequence"], restarted["last_sequence"][:10]
    acked_messages = sum(len(v) for v in load.messages.values())
    assert restarted["checked"] == acked_messages > 100

    writes = [c for c in load.calls if c.write]
    return {
        "calls": len(load.calls),
        "failed_calls": len(failures),
        "failed_writes": sum(1 for c in failures if c.write),
        "failed_reads": sum(1 for c in failures if not c.write),
        "agent_calls_refused_after_reads_of_uncommitted_decisions": len(unstored),
        "acknowledged_writes": sum(1 for c in writes if c.code is None),
        "sessions": len(load.sessions),
        "acknowledged_messages_checked": restarted["checked"],
        "slowest_failed_call_seconds": round(max((c.end - c.start for c in failures), default=0), 2),
        "outages": [{k: v for k, v in o.items() if k not in ("down", "back", "recovered", "stopped", "starting")}
                    for o in outages],
    }


def test_postgres_restarted_and_stopped_under_load_loses_nothing(private_cluster, tmp_path):
    server = ServerProcess(tmp_path / "data", database=private_cluster.make_database())
    server.extra_args = ["--database-timeout-seconds", str(DATABASE_TIMEOUT)]
    server.start()
    try:
        figures = run(restarted_under_load(private_cluster, server), 240)
        assert server.process.poll() is None, "the server exited:\n" + "".join(server.log[-30:])
    finally:
        server.stop()
        # Shown when the test fails (and with -s): what the server said about the outages.
        print("server log, all but info:\n" + "".join(line for line in server.log if " info " not in line)[-20000:])
    log = "".join(server.log)
    for crash in CRASH_MARKERS:
        assert crash not in log, log[-5000:]
    figures["server_log_warnings_and_errors"] = sum(1 for line in server.log if " warning " in line or " error " in line)
    print("\nPostgreSQL outages under load:", json.dumps(figures, indent=2))
    for outage in figures["outages"]:
        assert outage["back_to_first_success_seconds"] < 10, figures
    assert figures["failed_writes"] > 0, figures   # the outages were felt


# Two server issues this test once brought out, each reproduced on its own (fixed in db51b99): reads after
# a failed commit showed decisions never stored; a commit abandoned at the deadline landed after the reload.

def test_reads_after_a_failed_commit_show_only_what_was_stored(private_cluster, tmp_path):
    server = ServerProcess(tmp_path / "data", database=private_cluster.make_database())
    server.extra_args = ["--database-timeout-seconds", "1"]
    server.start()

    async def scenario():
        async with Client(server.target, timeout=CALL_TIMEOUT) as client:
            await setup_load(server.target, "agent")
            session = await client.sessions.create_session(user_id="user", channel="web")
            await asyncio.to_thread(private_cluster.stop_server)
            try:
                try:
                    await client.sessions.request_agent(session_id=session.id)
                    pytest.fail("RequestAgent succeeded with PostgreSQL stopped")
                except RPCError as e:
                    if e.code != StatusCode.UNAVAILABLE:
                        pytest.fail(f"RequestAgent with PostgreSQL stopped: {e}")
                # Nothing of the RequestAgent was stored: the session is with the bot, or the read fails.
                try:
                    read = await client.sessions.get_session(session_id=session.id)
                    listed = await client.agents.list_agent_sessions(agent_id="agent")
                except RPCError as e:
                    assert e.code == StatusCode.UNAVAILABLE, e
                else:
                    assert (S.SessionState.Name(read.state), read.agent_id) == ("SESSION_STATE_BOT", "")
                    assert [s.id for s in listed.sessions] == []
            finally:
                await asyncio.to_thread(private_cluster.start_server)
            async def with_the_bot():
                try:
                    return (await client.sessions.get_session(session_id=session.id)).state == S.SESSION_STATE_BOT
                except RPCError as e:
                    assert e.code == StatusCode.UNAVAILABLE, e
                    return False
            assert await poll(with_the_bot, 10), "the session is not back with the bot 10 s after PostgreSQL"
    try:
        run(scenario(), 60)
    finally:
        server.stop()


def psql_query(url: str, sql: str) -> str:
    done = subprocess.run([str(pg_cluster.psql()), "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_commit_that_timed_out_does_not_land_after_the_reload(private_cluster, tmp_path):
    url = private_cluster.make_database()
    server = ServerProcess(tmp_path / "data", database=url)
    server.extra_args = ["--database-timeout-seconds", "1"]
    server.start()
    locker: Optional[subprocess.Popen] = None

    async def scenario():
        nonlocal locker
        async with Client(server.target, timeout=CALL_TIMEOUT) as client:
            await setup_load(server.target, "agent")
            session = await client.sessions.create_session(user_id="user", channel="web")
            await client.sessions.send_user_message(session_id=session.id, text="one")
            # The transcript's table locked for 3 s: the next commit waits in PostgreSQL beyond the timeout,
            # and the reload after it (which reads no transcript) goes through meanwhile.
            locker = subprocess.Popen([str(pg_cluster.psql()), "-X", "-q", "-d", url, "-c",
                                       "BEGIN; LOCK TABLE messages IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT"],
                                      stdout=subprocess.DEVNULL)

            async def locked():
                return await asyncio.to_thread(psql_query, url, (
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = 'messages' AND l.mode = 'AccessExclusiveLock' AND l.granted")) == "1"
            if not await poll(locked, 10):
                pytest.fail("the messages table was not locked within 10 s")
            try:
                await client.sessions.send_user_message(session_id=session.id, text="two")
                pytest.fail("the message was acknowledged while its table was locked beyond the timeout")
            except RPCError as e:
                # PostgreSQL cancels the statement itself (statement_timeout) before the server's deadline.
                if e.code != StatusCode.UNAVAILABLE or not ("statement timeout" in e.message or "did not answer within" in e.message):
                    pytest.fail(f"the message while its table was locked: {e}")
            if await asyncio.to_thread(locker.wait, 30) != 0:
                pytest.fail("psql holding the lock failed")
            transcript = [m.text async for m in client.all_messages(session.id)]
            stored = await client.sessions.get_session(session_id=session.id)
            # The server knows what is stored: "two" (whose outcome was unknown) is there or not, in both.
            assert stored.last_sequence == len(transcript), (stored.last_sequence, transcript)
            three = await client.sessions.send_user_message(session_id=session.id, text="three")
            assert three.sequence == len(transcript) + 1
    try:
        run(scenario(), 60)
    finally:
        if locker is not None and locker.poll() is None:
            locker.kill()
            locker.wait()
        server.stop()


# -- b. PostgreSQL unreachable at start-up ---------------------------------------------------------

def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("password", [None, "s3cret-pw"])
def test_unreachable_postgres_at_start_up_exits_naming_it(password, tmp_path):
    port = unused_port()
    shown = f"postgres://switchboard@127.0.0.1:{port}/x"
    url = shown if password is None else f"postgres://switchboard:{password}@127.0.0.1:{port}/x"
    started = time.monotonic()
    done = subprocess.run([str(BINARY), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path / "data"),
                           "--database", url, "--database-timeout-seconds", "2"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    seconds = time.monotonic() - started
    output = done.stdout
    assert done.returncode == 2, output   # the start-up error status, not a signal
    assert seconds < 10, (seconds, output)
    assert "cannot start" in output and shown in output, output
    if password:
        assert password not in output, output
    assert "listening" not in output, output
    for crash in CRASH_MARKERS:
        assert crash not in output, output


# -- c. copy-data SQLite -> PostgreSQL -> SQLite ---------------------------------------------------

TENANTS = {
    "default": None,
    "acme": dict(display_name="Acme", quotas=tenant_pb2.TenantQuotas(max_agents=10, max_open_sessions=50)),
    "globex": dict(display_name="Globex Corp", quotas=tenant_pb2.TenantQuotas(max_calls_per_second=500)),
}


def copy_data(source: str, destination: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BINARY), "copy-data", "--from", source, "--to", destination],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)


def make_key(server: ServerProcess, *arguments: str) -> str:
    done = subprocess.run([str(BINARY), "keys", "create", *server.store_args, *arguments],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


async def fill(target: str, token: str) -> Dict[str, List[str]]:
    """Real data in three tenants over RPC: settings, agents, groups and members, sessions in every state
    (with the bot, queued, offered, active, closed by the user, closed by the agent and rated), messages.
    Returns each tenant's session ids."""
    sessions: Dict[str, List[str]] = {}
    async with Client(target, token=token, timeout=30) as operator:
        for tenant, fields in TENANTS.items():
            if fields is not None:
                await operator.tenants.create_tenant(id=tenant, **fields)
    for n, tenant in enumerate(TENANTS):
        async with Client(target, token=token, tenant=tenant, timeout=30) as client:
            current = await client.settings.get_settings()
            settings = quiet_settings(current)
            settings.prompts.welcome = f"Welcome to {tenant}"
            settings.queue.max_sessions_per_agent = 2
            await client.settings.update_settings(expected_version=current.version, settings=settings)
            await client.agents.create_agent(id="alice", display_name=f"Alice of {tenant}", max_sessions=2)
            await client.agents.create_agent(id="bob", display_name=f"Bob of {tenant}")
            await client.agents.create_agent(id="carol", display_name="Carol")
            await client.agents.create_group(id="sales", name=f"{tenant} sales")
            await client.agents.create_group(id="support", name="Support")
            await client.agents.add_group_member(group_id="sales", agent_id="alice")
            await client.agents.add_group_member(group_id="support", agent_id="alice")
            await client.agents.add_group_member(group_id="support", agent_id="carol")
            await client.agents.set_agent_status(id="alice", status=ONLINE)
            await client.agents.set_agent_status(id="bob", status=agent_pb2.AGENT_STATUS_BREAK)
            ids = []

            async def session(user: str, messages: int) -> str:
                created = await client.sessions.create_session(user_id=user, channel="web",
                                                               attributes={"tier": "vip", "n": str(n)})
                for i in range(messages):
                    await client.sessions.send_user_message(session_id=created.id, text=f"{user} says {i} ünïcode ✓")
                ids.append(created.id)
                return created.id

            # Closed by the agent, then rated (the invitation is sent on closing).
            rated = await session("rated-user", 2)
            assert (await client.sessions.request_agent(session_id=rated)).state == S.SESSION_STATE_OFFERED
            await client.agents.accept_session(agent_id="alice", session_id=rated)
            await client.agents.send_agent_message(agent_id="alice", session_id=rated, text="How can I help?")
            await client.agents.close_session(agent_id="alice", session_id=rated)
            await client.sessions.submit_rating(session_id=rated, score=4, comment=f"fine, {tenant}")
            # Active with alice, and offered to her: her capacity (2) is full.
            active = await session("active-user", 1)
            await client.sessions.request_agent(session_id=active)
            await client.agents.accept_session(agent_id="alice", session_id=active)
            await client.agents.send_agent_message(agent_id="alice", session_id=active, text="Hello there")
            await session("offered-user", 1)
            await client.sessions.request_agent(session_id=ids[-1])
            # Queued: nobody else is ONLINE.
            queued = await session("queued-user", 0)
            assert (await client.sessions.request_agent(session_id=queued)).state == S.SESSION_STATE_QUEUED
            # Closed by the user while with the bot; and left with the bot.
            closed = await session("leaving-user", 1)
            await client.sessions.close_session(session_id=closed)
            await session("bot-user", 3)
            sessions[tenant] = ids
    return sessions


async def stored_events(stream, quiet: float = 1.5) -> List[dict]:
    """The events a watch delivers before it goes quiet (all stored ones: nothing happens meanwhile)."""
    events = []
    iterator = stream.__aiter__()
    try:
        while True:
            try:
                event = await asyncio.wait_for(iterator.__anext__(), quiet)
            except (asyncio.TimeoutError, StopAsyncIteration):
                return events
            events.append(MessageToDict(event))
    finally:
        await iterator.aclose()


def as_dict(message) -> dict:
    return MessageToDict(message, preserving_proto_field_name=True)


async def snapshot(target: str, token: str, sessions: Dict[str, List[str]]) -> dict:
    """Everything the server answers about the data, per tenant (the tenants read at once)."""
    async def of_tenant(tenant: str, ids: List[str]) -> dict:
        async with Client(target, token=token, tenant=tenant, timeout=30) as client:
            agents = [a async for a in client.all_agents()]
            groups = [g async for g in client.all_groups()]
            data: dict = {
                "settings": as_dict(await client.settings.get_settings()),
                "agents": [as_dict(a) for a in agents],
                "groups": [as_dict(g) for g in groups],
                "group_agents": {g.id: [a.id async for a in client.all_group_agents(g.id)] for g in groups},
                "agent_sessions": {a.id: [as_dict(s) for s in (await client.agents.list_agent_sessions(agent_id=a.id)).sessions]
                                   for a in agents},
                "sessions": {}, "transcripts": {}, "queue_positions": {},
            }
            for sid in ids:
                data["sessions"][sid] = as_dict(await client.sessions.get_session(session_id=sid))
                data["transcripts"][sid] = [as_dict(m) async for m in client.all_messages(sid)]
                data["queue_positions"][sid] = as_dict(await client.sessions.get_queue_position(session_id=sid))
            session_events = await asyncio.gather(*(stored_events(client.watch_session(sid)) for sid in ids))
            agent_events = await asyncio.gather(*(stored_events(client.watch_agent(a.id)) for a in agents))
            data["session_events"] = dict(zip(ids, session_events))
            data["agent_events"] = dict(zip([a.id for a in agents], agent_events))
            return data

    names = list(sessions)
    result: dict = dict(zip(names, await asyncio.gather(*(of_tenant(name, sessions[name]) for name in names))))
    async with Client(target, token=token, timeout=30) as operator:
        tenants = []
        for listed in [t async for t in operator.all_tenants()]:
            tenant = await operator.tenants.get_tenant(id=listed.id)
            # How busy it is and whether it is awake are of the moment, not of the data.
            for usage in (listed.usage, tenant.usage):
                for name in ("calls_per_second", "awake", "watchers"):
                    usage.ClearField(name)
            tenants.append({"listed": as_dict(listed), "got": as_dict(tenant)})
        result["tenants"] = tenants
    return result


def compare(expected: dict, actual: dict, what: str) -> None:
    assert actual.keys() == expected.keys(), what
    for key in expected:
        if key == "tenants":
            assert actual[key] == expected[key], (what, key)
            continue
        for part in expected[key]:
            assert actual[key][part] == expected[key][part], (what, key, part)


def test_copy_data_sqlite_to_postgres_and_back(postgres, tmp_path):
    sqlite_dir, back_dir = tmp_path / "sqlite", tmp_path / "back"
    sqlite_dir.mkdir()
    back_dir.mkdir()
    sqlite_file, back_file = str(sqlite_dir / "switchboard.sqlite"), str(back_dir / "switchboard.sqlite")
    source = ServerProcess(sqlite_dir, database=sqlite_file)
    token = make_key(source, "--role", "operator", "--description", "copied along")
    source.start()
    try:
        sessions = run(fill(source.target, token), 120)
        expected = run(snapshot(source.target, token, sessions), 120)
    finally:
        source.stop()
    assert sum(len(t["transcripts"]) for k, t in expected.items() if k != "tenants") == 18
    states = {s["state"] for k, t in expected.items() if k != "tenants" for s in t["sessions"].values()}
    assert states == {"SESSION_STATE_BOT", "SESSION_STATE_QUEUED", "SESSION_STATE_OFFERED",
                      "SESSION_STATE_ACTIVE", "SESSION_STATE_CLOSED"}, states
    # The watches delivered the stored events (what the comparison of events relies on).
    for tenant in TENANTS:
        assert all(len(events) >= 2 for events in expected[tenant]["session_events"].values()), expected[tenant]
        assert expected[tenant]["agent_events"]["alice"], expected[tenant]
        assert any("rating" in s for s in expected[tenant]["sessions"].values())

    url = postgres.make_database()
    done = copy_data(sqlite_file, url)
    assert done.returncode == 0 and "done: every count matches" in done.stdout, done.stdout
    on_postgres = ServerProcess(tmp_path / "pg-data", database=url)
    on_postgres.start()
    try:
        compare(expected, run(snapshot(on_postgres.target, token, sessions), 120), "SQLite -> PostgreSQL")
    finally:
        on_postgres.stop()

    done = copy_data(url, back_file)
    assert done.returncode == 0 and "done: every count matches" in done.stdout, done.stdout
    back = ServerProcess(back_dir, database=back_file)
    back.start()
    try:
        compare(expected, run(snapshot(back.target, token, sessions), 120), "PostgreSQL -> SQLite")
    finally:
        back.stop()

    # A destination that holds data is refused, PostgreSQL and SQLite alike, and left as it was.
    for source_db, destination, shown in [(sqlite_file, url, url), (url, back_file, back_file)]:
        done = copy_data(source_db, destination)
        assert done.returncode != 0, done.stdout
        assert "already holds data; copy into a new database" in done.stdout and shown in done.stdout, done.stdout
        assert "done:" not in done.stdout, done.stdout
    again = ServerProcess(tmp_path / "pg-data", database=url)
    again.start()
    try:
        compare(expected, run(snapshot(again.target, token, sessions), 120), "PostgreSQL after the refused copy")
    finally:
        again.stop()


# -- d. two servers starting at once on a new database ---------------------------------------------

def test_two_servers_start_at_once_on_a_new_database(postgres, tmp_path):
    for round in range(3):
        url = postgres.make_database()
        servers = [ServerProcess(tmp_path / f"data-{round}-{i}", database=url) for i in range(2)]
        errors: List[BaseException] = []
        barrier = threading.Barrier(len(servers))

        def start(server: ServerProcess) -> None:
            try:
                barrier.wait()
                server.start()
            except BaseException as e:   # pytest.fail's exception too
                errors.append(e)

        threads = [threading.Thread(target=start, args=(s,)) for s in servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        try:
            assert not errors, [str(e) for e in errors]

            async def check():
                for server in servers:
                    async with Client(server.target, timeout=10) as client:
                        assert (await client.health.check()).server_version
                        assert (await client.settings.get_settings()).version >= 0
                        assert [a async for a in client.all_agents()] == []
            run(check(), 60)
        finally:
            for server in servers:
                server.stop()
        migrations = subprocess.run(
            [str(pg_cluster.psql()), "-X", "-tA", "-d", url, "-c", "SELECT count(*), count(DISTINCT name) FROM switchboard_migrations"],
            capture_output=True, text=True, timeout=60)
        assert migrations.returncode == 0, migrations.stderr
        total, distinct = map(int, migrations.stdout.strip().split("|"))
        assert total == distinct >= 1, migrations.stdout
        for server in servers:
            log = "".join(server.log)
            assert "database ready" in log, log
            for crash in CRASH_MARKERS:
                assert crash not in log, log
