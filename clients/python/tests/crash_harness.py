"""Crash-safety harness: SIGKILLs a loaded switchboard-server again and again, then checks that
nothing acknowledged was lost and that the routing invariants hold.

    python3 clients/python/tests/crash_harness.py --kills 50 --clients 32 --seed 1 --output FILE
    SWITCHBOARD_TEST_STORE=postgres python3 clients/python/tests/crash_harness.py ...   # on PostgreSQL

What it does:

1. Starts the server on a fresh data directory (with `SWITCHBOARD_TEST_STORE=postgres`: on a new
   database of the test process's PostgreSQL cluster; every check is over RPC either way) and sets
   it up: settings without self-closing timers (no user timeout, connect timeout 3600 s, queue
   message interval 86400 s, rating window 30 days, a queue limit of 10), 8 agents (a0-a3 with
   personal limits of 2, 2, 1, 1, a4-a7 on the settings' limit, which starts at 1 and is only ever
   raised, to 2), 3 groups, every agent ONLINE.
   Demand (one open session per user client) is above capacity, so sessions queue and the queue
   fills up.
2. Runs `clients` concurrent clients, each on its own connection: 8 agent desks (accept offers,
   send messages, close, transfer to an agent or a group, invite ratings, go on BREAK/OFFLINE and
   back), 2 admins (settings updates with `expected_version`: prompts, service mode toggles,
   raising the per-agent limit), and users (create sessions, send messages, ask for an agent, close,
   rate).
3. Meanwhile, after a random 0.2-1.5 s of load, SIGKILLs the server, restarts it on the same port
   and data, and lets the clients reconnect; `kills` times.
4. After the last kill it stops the load, restarts the server and checks it against what the
   clients were told (see `Verifier`).

Every call that returned OK is an acknowledged write and must be found. A call that failed with
`UNAVAILABLE` or `DEADLINE_EXCEEDED` after its request may have been sent is an unknown outcome:
it may or may not have been applied, and it is allowed either way (but never twice). A call that
could not even connect was not sent. Other errors are the server refusing (a closed session, a
stale settings version, ...), which is normal traffic.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
try:
    import switchboard  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(HERE.parent / "src"))

from server_process import BINARY, ServerProcess, ServerStartError  # noqa: E402
from switchboard import Client, RPCError, StatusCode  # noqa: E402
from switchboard.v1 import agent_pb2, session_pb2, settings_pb2  # noqa: E402

S = session_pb2
A = agent_pb2
ONLINE, BREAK, OFFLINE = A.AGENT_STATUS_ONLINE, A.AGENT_STATUS_BREAK, A.AGENT_STATUS_OFFLINE
AGENTS = [f"a{i}" for i in range(8)]
PERSONAL_LIMIT = {"a0": 2, "a1": 2, "a2": 1, "a3": 1}   # a4-a7 use settings.queue.max_sessions_per_agent
GROUPS = {"g-east": AGENTS[:4], "g-west": AGENTS[4:], "g-vip": ["a0", "a5"]}
INITIAL_SHARED_LIMIT = 1
HIGHEST_SHARED_LIMIT = 2
MAX_QUEUE_LENGTH = 10
CALL_TIMEOUT = 5.0

# Outcomes of one call.
OK, REJECTED, UNKNOWN, NOT_SENT = "ok", "rejected", "unknown", "not_sent"


@dataclass
class Result:
    kills: int = 0
    clients: int = 0
    seed: int = 0
    duration_seconds: float = 0.0
    calls: int = 0
    acknowledged_writes: int = 0
    acknowledged_writes_checked: int = 0
    acknowledged_by_kind: Dict[str, int] = field(default_factory=dict)
    unknown_outcomes: int = 0
    unknown_by_kind: Dict[str, int] = field(default_factory=dict)
    not_sent: int = 0
    rejected: int = 0
    rejected_by_kind: Dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    messages_checked: int = 0
    invariant_checks: Dict[str, int] = field(default_factory=dict)
    lost: int = 0
    lost_details: List[str] = field(default_factory=list)
    invariant_violations: int = 0
    violation_details: List[str] = field(default_factory=list)
    unexpected_exits: int = 0
    restart_seconds_max: float = 0.0
    server_log_errors: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.invariant_violations == 0 and self.unexpected_exits == 0

    def to_json(self) -> Dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


@dataclass
class SessionLedger:
    """What the clients were told about one session."""
    id: str
    acked_last_sequence: int = 0
    left_bot: bool = False                     # an acknowledged answer showed it QUEUED/OFFERED/ACTIVE/CLOSED
    may_return_to_bot: bool = False            # a transfer (acknowledged BOT, or unknown) may have sent it back
    close_reason: Optional[int] = None         # of the acknowledged close
    close_unknown: bool = False
    rating: Optional[Tuple[int, str]] = None   # acknowledged (score, comment)
    routes: List[Tuple[int, Optional[int]]] = field(default_factory=list)   # (sent, acked or None): RequestAgent, Transfer
    transferred_by: Set[str] = field(default_factory=set)
    acked_writes: int = 0


class Ledger:
    """Every acknowledged result and every unknown outcome, in memory, with a logical clock."""

    def __init__(self) -> None:
        self.clock = 0
        self.calls = 0
        self.acked: Dict[str, int] = defaultdict(int)
        self.unknown: Dict[str, int] = defaultdict(int)
        self.not_sent = 0
        self.rejected = 0
        self.rejected_by_kind: Dict[str, int] = defaultdict(int)
        self.sessions: Dict[str, SessionLedger] = {}
        self.messages: Dict[Tuple[str, int], Tuple[int, str]] = {}   # (session, sequence) -> (sender, text)
        self.message_texts: Set[str] = set()                         # every text sent, acknowledged or not
        self.settings_acked: List[Tuple[int, str, settings_pb2.SettingsDocument]] = []   # (version, marker, doc)
        self.settings_unknown: List[Tuple[int, str]] = []            # (expected_version, marker)
        # agent -> list of (status, outcome) of its status changes, in order (one task per agent).
        self.status_ops: Dict[str, List[Tuple[int, str]]] = defaultdict(list)
        self.violations_seen_live: List[str] = []

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def session(self, sid: str) -> SessionLedger:
        if sid not in self.sessions:
            self.sessions[sid] = SessionLedger(sid)
        return self.sessions[sid]

    def note_session(self, answer: S.Session) -> None:
        entry = self.session(answer.id)
        entry.acked_last_sequence = max(entry.acked_last_sequence, answer.last_sequence)
        if answer.state != S.SESSION_STATE_BOT:
            entry.left_bot = True
        entry.acked_writes += 1

    def note_message(self, message: S.Message) -> None:
        entry = self.session(message.session_id)
        entry.acked_last_sequence = max(entry.acked_last_sequence, message.sequence)
        entry.acked_writes += 1
        self.messages[(message.session_id, message.sequence)] = (message.sender, message.text)


class Load:
    """The clients' traffic; all of them share the ledger and pause while the server is down."""

    def __init__(self, target: str, ledger: Ledger, seed: int) -> None:
        self.target = target
        self.ledger = ledger
        self.seed = seed
        self.up = asyncio.Event()
        self.up.set()
        self.stopping = False
        self.users = 0

    async def call(self, kind: str, write: bool, fn: Callable[[], Awaitable[Any]]) -> Tuple[str, Any]:
        """Runs one call and classifies its outcome; waits first while the server is down."""
        await self.up.wait()
        ledger = self.ledger
        ledger.calls += 1
        sent = ledger.tick()
        try:
            answer = await fn()
        except RPCError as e:
            if e.code in (StatusCode.UNAVAILABLE, StatusCode.DEADLINE_EXCEEDED, StatusCode.CANCELLED):
                if e.message.startswith(("cannot connect to", "connecting to")):
                    ledger.not_sent += 1
                    await asyncio.sleep(0.02)
                    return NOT_SENT, sent
                if write:
                    ledger.unknown[kind] += 1
                return UNKNOWN, sent
            ledger.rejected += 1
            ledger.rejected_by_kind[f"{kind} {StatusCode(e.code).name}"] += 1
            return REJECTED, e
        if write:
            ledger.acked[kind] += 1
        return OK, (answer, sent, ledger.tick())

    # -- users ---------------------------------------------------------------------------------------

    async def user(self, index: int) -> None:
        rng = random.Random(self.seed * 7919 + index)
        async with Client(self.target, timeout=CALL_TIMEOUT) as client:
            counter = 0
            while not self.stopping:
                counter += 1
                outcome, value = await self.call("create_session", True, lambda: client.sessions.create_session(
                    user_id=f"user-{index}-{counter}", channel=rng.choice(["web", "app"]),
                    attributes={"tier": rng.choice(["basic", "vip"])}))
                if outcome != OK:
                    await asyncio.sleep(0.01)
                    continue
                session = value[0]
                self.ledger.note_session(session)
                await self.conversation(client, rng, session.id)

    async def user_message(self, client: Client, rng: random.Random, sid: str) -> str:
        text = f"{sid} user {rng.getrandbits(48):012x}"
        self.ledger.message_texts.add(text)
        outcome, value = await self.call("user_message", True,
                                         lambda: client.sessions.send_user_message(session_id=sid, text=text))
        if outcome == OK:
            self.ledger.note_message(value[0])
        return outcome

    async def request_agent(self, client: Client, sid: str) -> Optional[S.Session]:
        entry = self.ledger.session(sid)
        outcome, value = await self.call("request_agent", True, lambda: client.sessions.request_agent(session_id=sid))
        if outcome == OK:
            answer, sent, acked = value
            entry.routes.append((sent, acked))
            self.ledger.note_session(answer)
            return answer
        if outcome == UNKNOWN:
            entry.routes.append((value, None))
        return None

    async def conversation(self, client: Client, rng: random.Random, sid: str) -> None:
        entry = self.ledger.session(sid)
        for _ in range(rng.randint(0, 2)):
            await self.user_message(client, rng, sid)
        answer = await self.request_agent(client, sid)
        steps = rng.randint(10, 60)
        for _ in range(steps):
            if self.stopping:
                return
            await asyncio.sleep(rng.uniform(0.01, 0.08))
            outcome, value = await self.call("get_session", False, lambda: client.sessions.get_session(session_id=sid))
            if outcome != OK:
                continue
            state = value[0]
            if state.state == S.SESSION_STATE_CLOSED:
                if state.rating_deadline_ms and not state.HasField("rating") and rng.random() < 0.8:
                    score, comment = rng.randint(1, 5), f"comment {rng.getrandbits(32):08x}"
                    outcome, value = await self.call("submit_rating", True, lambda: client.sessions.submit_rating(
                        session_id=sid, score=score, comment=comment))
                    if outcome == OK:
                        entry.rating = (score, comment)
                        self.ledger.note_session(value[0])
                return
            if state.state == S.SESSION_STATE_BOT and (answer is None or rng.random() < 0.3):
                answer = await self.request_agent(client, sid)
                continue
            roll = rng.random()
            if roll < 0.45:
                await self.user_message(client, rng, sid)
            elif roll < 0.48:
                break
        outcome, value = await self.call("user_close", True, lambda: client.sessions.close_session(session_id=sid))
        if outcome == OK:
            entry.close_reason = S.CLOSE_REASON_USER_ENDED
            self.ledger.note_session(value[0])
        elif outcome == UNKNOWN:
            entry.close_unknown = True

    # -- agents --------------------------------------------------------------------------------------

    async def set_status(self, client: Client, agent: str, status: int) -> str:
        outcome, _ = await self.call("agent_status", True, lambda: client.agents.set_agent_status(id=agent, status=status))
        if outcome in (OK, UNKNOWN):
            self.ledger.status_ops[agent].append((status, outcome))
        return outcome

    async def agent(self, agent: str, index: int) -> None:
        rng = random.Random(self.seed * 104729 + index)
        async with Client(self.target, timeout=CALL_TIMEOUT) as client:
            while not self.stopping:
                await asyncio.sleep(rng.uniform(0.01, 0.05))
                roll = rng.random()
                if roll < 0.015:
                    away = BREAK if roll < 0.012 else OFFLINE
                    await self.set_status(client, agent, away)
                    await asyncio.sleep(rng.uniform(0.05, 0.4))
                    while await self.set_status(client, agent, ONLINE) != OK:
                        await asyncio.sleep(0.05)
                    continue
                outcome, value = await self.call("list_agent_sessions", False,
                                                 lambda: client.agents.list_agent_sessions(agent_id=agent))
                if outcome != OK:
                    continue
                sessions = list(value[0].sessions)
                rng.shuffle(sessions)
                for session in sessions[:3]:
                    await self.agent_step(client, rng, agent, session)

    async def agent_step(self, client: Client, rng: random.Random, agent: str, session: S.Session) -> None:
        ledger = self.ledger
        sid = session.id
        entry = ledger.session(sid)
        if session.state == S.SESSION_STATE_OFFERED:
            outcome, value = await self.call("accept", True, lambda: client.agents.accept_session(agent_id=agent, session_id=sid))
            if outcome == OK:
                ledger.note_session(value[0])
            return
        if session.state != S.SESSION_STATE_ACTIVE:
            return
        roll = rng.random()
        if roll < 0.55:
            text = f"{sid} {agent} {rng.getrandbits(48):012x}"
            ledger.message_texts.add(text)
            outcome, value = await self.call("agent_message", True, lambda: client.agents.send_agent_message(
                agent_id=agent, session_id=sid, text=text))
            if outcome == OK:
                ledger.note_message(value[0])
        elif roll < 0.68:
            outcome, value = await self.call("agent_close", True, lambda: client.agents.close_session(agent_id=agent, session_id=sid))
            if outcome == OK:
                entry.close_reason = S.CLOSE_REASON_AGENT_ENDED
                ledger.note_session(value[0])
            elif outcome == UNKNOWN:
                entry.close_unknown = True
        elif roll < 0.73:
            if rng.random() < 0.5:
                target = {"to_group_id": rng.choice(sorted(GROUPS))}
            else:
                target = {"to_agent_id": rng.choice([a for a in AGENTS if a != agent])}
            outcome, value = await self.call("transfer", True, lambda: client.agents.transfer_session(
                agent_id=agent, session_id=sid, **target))
            if outcome == OK:
                answer, sent, acked = value
                entry.routes.append((sent, acked))
                entry.transferred_by.add(agent)
                if answer.state == S.SESSION_STATE_BOT:
                    entry.may_return_to_bot = True
                ledger.note_session(answer)
            elif outcome == UNKNOWN:
                entry.routes.append((value, None))
                entry.transferred_by.add(agent)
                entry.may_return_to_bot = True
        elif roll < 0.78:
            outcome, value = await self.call("invite_rating", True, lambda: client.agents.invite_rating(agent_id=agent, session_id=sid))
            if outcome == OK:
                ledger.note_session(value[0])

    # -- admins --------------------------------------------------------------------------------------

    async def admin(self, index: int) -> None:
        rng = random.Random(self.seed * 15485863 + index)
        async with Client(self.target, timeout=CALL_TIMEOUT) as client:
            while not self.stopping:
                await asyncio.sleep(rng.uniform(0.05, 0.3))
                outcome, value = await self.call("get_settings", False, lambda: client.settings.get_settings())
                if outcome != OK:
                    continue
                current = value[0]
                marker = f"admin{index}-{rng.getrandbits(48):012x}"
                update = settings_pb2.Settings()
                update.prompts.CopyFrom(current.settings.prompts)
                update.prompts.welcome = f"Hello ({marker})"
                if rng.random() < 0.15:
                    update.service_mode.CopyFrom(current.settings.service_mode)
                    update.service_mode.mode = (settings_pb2.Settings.ServiceMode.MODE_MANUAL
                                                if current.settings.service_mode.mode != settings_pb2.Settings.ServiceMode.MODE_MANUAL
                                                else settings_pb2.Settings.ServiceMode.MODE_AUTOMATIC)
                if rng.random() < 0.05 and current.settings.queue.max_sessions_per_agent < HIGHEST_SHARED_LIMIT:
                    update.queue.CopyFrom(current.settings.queue)
                    update.queue.max_sessions_per_agent += 1   # only ever raised: a lowered limit may leave agents over it
                outcome, value = await self.call("update_settings", True, lambda: client.settings.update_settings(
                    expected_version=current.version, settings=update))
                if outcome == OK:
                    self.ledger.settings_acked.append((value[0].version, marker, value[0]))
                elif outcome == UNKNOWN:
                    self.ledger.settings_unknown.append((current.version, marker))


async def setup(target: str, ledger: Ledger) -> None:
    async with Client(target, timeout=CALL_TIMEOUT) as client:
        current = await client.settings.get_settings()
        settings = settings_pb2.Settings()
        settings.CopyFrom(current.settings)
        settings.service_mode.mode = settings_pb2.Settings.ServiceMode.MODE_AUTOMATIC
        settings.service_mode.connect_timeout_seconds = 3600          # offers never expire during a run
        settings.service_mode.break_after_connect_timeout = False
        settings.queue.max_sessions_per_agent = INITIAL_SHARED_LIMIT
        settings.queue.queue_message_interval_seconds = 86400
        settings.queue.max_queue_length = MAX_QUEUE_LENGTH
        settings.closure.user_timeout_seconds = 0                     # sessions never close by themselves
        settings.rating.enabled = True
        settings.rating.agent_may_invite = True
        settings.rating.send_after_close = True
        settings.rating.validity_seconds = 2_592_000
        settings.working_hours.enabled = False
        doc = await client.settings.update_settings(expected_version=current.version, settings=settings)
        ledger.settings_acked.append((doc.version, "setup", doc))
        ledger.acked["update_settings"] += 1
        for agent in AGENTS:
            fields: Dict[str, Any] = {"id": agent, "display_name": f"Agent {agent}"}
            if agent in PERSONAL_LIMIT:
                fields["max_sessions"] = PERSONAL_LIMIT[agent]
            await client.agents.create_agent(**fields)
            ledger.acked["create_agent"] += 1
        for group, members in GROUPS.items():
            await client.agents.create_group(id=group, name=group)
            ledger.acked["create_group"] += 1
            for agent in members:
                await client.agents.add_group_member(group_id=group, agent_id=agent)
                ledger.acked["add_group_member"] += 1
        for agent in AGENTS:
            await client.agents.set_agent_status(id=agent, status=ONLINE)
            ledger.acked["agent_status"] += 1
            ledger.status_ops[agent].append((ONLINE, OK))


class Verifier:
    """Checks the restarted server against the ledger.

    Lost (an acknowledged change missing): a session, a message at its sequence with its text, a
    session's last sequence below one acknowledged, a close (state CLOSED with the acknowledged
    reason), a rating, a settings version or change, an agent's last acknowledged status, the
    setup's agents, limits and groups.

    Invariants: transcripts are 1..N without gaps, N = the session's last sequence, and no text
    sent once appears twice; no agent has more OFFERED+ACTIVE sessions than its capacity; single
    assignment (every OFFERED/ACTIVE session is listed by its agent and by no other, and an agent
    lists only its own OFFERED/ACTIVE sessions); a session that left the bot does not return to
    it (unless a transfer could have failed); queue positions of each target are 1..K, distinct,
    in the order the sessions were queued (FIFO among those whose queueing is known); nobody waits
    while an ONLINE agent who may serve it has free capacity; settings versions acknowledged are
    distinct.
    """

    def __init__(self, client: Client, ledger: Ledger, result: Result) -> None:
        self.client = client
        self.ledger = ledger
        self.result = result

    def lost(self, what: str) -> None:
        self.result.lost += 1
        if len(self.result.lost_details) < 50:
            self.result.lost_details.append(what)

    def violation(self, what: str) -> None:
        self.result.invariant_violations += 1
        if len(self.result.violation_details) < 50:
            self.result.violation_details.append(what)

    def checked(self, count: int = 1) -> None:
        self.result.acknowledged_writes_checked += count

    def counted(self, check: str, count: int = 1) -> None:
        self.result.invariant_checks[check] = self.result.invariant_checks.get(check, 0) + count

    async def run(self) -> None:
        ledger = self.ledger
        settings_doc = await self.client.settings.get_settings()
        self.check_settings(settings_doc)
        shared_limit = settings_doc.settings.queue.max_sessions_per_agent

        sessions: Dict[str, S.Session] = {}
        semaphore = asyncio.Semaphore(16)

        async def load(sid: str) -> None:
            async with semaphore:
                try:
                    sessions[sid] = await self.client.sessions.get_session(session_id=sid, timeout=30)
                except RPCError as e:
                    if e.code == StatusCode.NOT_FOUND:
                        self.lost(f"session {sid}: created (acknowledged) but NOT_FOUND")
                    else:
                        raise
                    return
                await self.check_transcript(sessions[sid])

        await asyncio.gather(*(load(sid) for sid in ledger.sessions))
        self.result.sessions = len(sessions)
        for sid, entry in ledger.sessions.items():
            if sid in sessions:
                self.check_session(entry, sessions[sid])

        agents = {a.id: a for a in (await self.client.agents.list_agents(page_size=100)).agents}
        listed: Dict[str, List[S.Session]] = {}
        for agent in AGENTS:
            if agent not in agents:
                self.lost(f"agent {agent}: created at setup but missing")
                continue
            listed[agent] = list((await self.client.agents.list_agent_sessions(agent_id=agent)).sessions)
        self.check_agents(agents, shared_limit)
        groups = {g.id for g in (await self.client.agents.list_groups(page_size=100)).groups}
        for group in GROUPS:
            self.checked()
            if group not in groups:
                self.lost(f"group {group}: created at setup but missing")
        self.check_assignment(agents, listed, sessions, shared_limit)
        await self.check_queue(agents, listed, sessions, shared_limit)

    def check_settings(self, doc: settings_pb2.SettingsDocument) -> None:
        ledger = self.ledger
        versions = [v for v, _, _ in ledger.settings_acked]
        if len(set(versions)) != len(versions):
            dupes = sorted({v for v in versions if versions.count(v) > 1})
            self.violation(f"settings: versions acknowledged to two updates: {dupes}")
        for version, marker, _ in ledger.settings_acked:
            self.checked()
            if version > doc.version:
                self.lost(f"settings: version {version} acknowledged ({marker}), current version is {doc.version}")
        if not ledger.settings_acked:
            return
        top, marker, acked_doc = max(ledger.settings_acked, key=lambda item: item[0])
        if doc.version == top:
            if doc.settings != acked_doc.settings:
                self.lost(f"settings: version {top} ({marker}) is current but its content differs from the acknowledged one")
        elif doc.version > top:
            # Every later version must come from an update whose outcome is unknown.
            unknown = defaultdict(list)
            for expected, unknown_marker in ledger.settings_unknown:
                unknown[expected].append(unknown_marker)
            for version in range(top + 1, doc.version + 1):
                if not unknown.get(version - 1):
                    self.violation(f"settings: version {version} exists, but no update from version {version - 1} "
                                   f"had an unknown outcome (acknowledged up to {top})")
            if not any(f"({m})" in doc.settings.prompts.welcome for m in unknown.get(doc.version - 1, [])):
                self.violation(f"settings: current version {doc.version} has welcome {doc.settings.prompts.welcome!r}, "
                               f"which no update with an unknown outcome sent")

    async def check_transcript(self, session: S.Session) -> None:
        sid = session.id
        sequences: List[int] = []
        texts: Dict[int, Tuple[int, str]] = {}
        after = 0
        while True:
            page = await self.client.sessions.list_messages(session_id=sid, after_sequence=after, limit=1000, timeout=30)
            for message in page.messages:
                sequences.append(message.sequence)
                texts[message.sequence] = (message.sender, message.text)
            if page.messages:
                after = page.messages[-1].sequence
            if not page.more or not page.messages:
                break
        self.counted("transcripts")
        self.counted("transcript_messages", len(sequences))
        if sequences != list(range(1, len(sequences) + 1)):
            missing = sorted(set(range(1, max(sequences or [0]) + 1)) - set(sequences))
            self.violation(f"session {sid}: transcript sequences are not 1..N: missing {missing[:10]}, "
                           f"{len(sequences)} messages, last {sequences[-1] if sequences else 0}")
        if sequences and sequences[-1] != session.last_sequence or not sequences and session.last_sequence:
            self.violation(f"session {sid}: last_sequence {session.last_sequence} but the transcript ends at "
                           f"{sequences[-1] if sequences else 0}")
        seen: Set[str] = set()
        for sender, text in texts.values():
            if text in self.ledger.message_texts:
                if text in seen:
                    self.violation(f"session {sid}: message {text!r} stored twice")
                seen.add(text)
        for (msid, sequence), (sender, text) in self.ledger.messages.items():
            if msid != sid:
                continue
            self.result.messages_checked += 1
            if texts.get(sequence) != (sender, text):
                self.lost(f"session {sid}: acknowledged message {sequence} {text!r} is "
                          f"{texts.get(sequence)!r} in the transcript")

    def check_session(self, entry: SessionLedger, session: S.Session) -> None:
        sid = entry.id
        self.checked(entry.acked_writes)
        if session.last_sequence < entry.acked_last_sequence:
            self.lost(f"session {sid}: last_sequence {session.last_sequence}, but {entry.acked_last_sequence} was acknowledged")
        if entry.close_reason is not None:
            if session.state != S.SESSION_STATE_CLOSED:
                self.lost(f"session {sid}: close acknowledged, state is {S.SessionState.Name(session.state)}")
            elif session.close_reason != entry.close_reason:
                self.lost(f"session {sid}: closed with {S.CloseReason.Name(entry.close_reason)} (acknowledged), "
                          f"stored reason {S.CloseReason.Name(session.close_reason)}")
        if entry.rating is not None:
            stored = (session.rating.score, session.rating.comment) if session.HasField("rating") else None
            if stored != entry.rating:
                self.lost(f"session {sid}: rating {entry.rating} acknowledged, stored {stored}")
        if entry.left_bot and not entry.may_return_to_bot and session.state == S.SESSION_STATE_BOT:
            self.violation(f"session {sid}: back with the bot after it was routed, with no transfer that could fail")
        if session.state in (S.SESSION_STATE_OFFERED, S.SESSION_STATE_ACTIVE) and not session.agent_id:
            self.violation(f"session {sid}: {S.SessionState.Name(session.state)} without an agent")

    def capacity(self, agent: A.Agent, shared_limit: int) -> int:
        return agent.max_sessions if agent.HasField("max_sessions") else shared_limit

    def check_agents(self, agents: Dict[str, A.Agent], shared_limit: int) -> None:
        for agent_id in AGENTS:
            agent = agents.get(agent_id)
            if agent is None:
                continue
            self.checked()
            if agent_id in PERSONAL_LIMIT:
                if not agent.HasField("max_sessions") or agent.max_sessions != PERSONAL_LIMIT[agent_id]:
                    self.lost(f"agent {agent_id}: personal limit {PERSONAL_LIMIT[agent_id]} lost")
            elif agent.HasField("max_sessions"):
                self.violation(f"agent {agent_id}: has a personal limit it was never given")
            groups = sorted(g for g, members in GROUPS.items() if agent_id in members)
            self.checked(len(groups))
            if sorted(agent.group_ids) != groups:
                self.lost(f"agent {agent_id}: groups {sorted(agent.group_ids)}, set up {groups}")
            ops = self.ledger.status_ops[agent_id]
            acked = [i for i, (_, outcome) in enumerate(ops) if outcome == OK]
            if not acked:
                continue
            last = acked[-1]
            self.checked()
            allowed = {ops[last][0]} | {status for status, _ in ops[last + 1:]}
            if agent.status not in allowed:
                self.lost(f"agent {agent_id}: status {A.AgentStatus.Name(agent.status)}, last acknowledged "
                          f"{A.AgentStatus.Name(ops[last][0])}" + (f" (then unknown: {[A.AgentStatus.Name(s) for s, _ in ops[last + 1:]]})"
                                                                    if last + 1 < len(ops) else ""))

    def check_assignment(self, agents: Dict[str, A.Agent], listed: Dict[str, List[S.Session]],
                         sessions: Dict[str, S.Session], shared_limit: int) -> None:
        owner: Dict[str, str] = {}
        for agent_id, items in listed.items():
            load = 0
            for item in items:
                if item.id in owner:
                    self.violation(f"session {item.id}: listed by agents {owner[item.id]} and {agent_id}")
                owner[item.id] = agent_id
                if item.state not in (S.SESSION_STATE_OFFERED, S.SESSION_STATE_ACTIVE):
                    self.violation(f"agent {agent_id}: lists session {item.id} in state {S.SessionState.Name(item.state)}")
                else:
                    load += 1
                if item.agent_id != agent_id:
                    self.violation(f"agent {agent_id}: lists session {item.id} assigned to {item.agent_id!r}")
            capacity = self.capacity(agents[agent_id], shared_limit)
            self.counted("agent_capacity")
            self.counted("assigned_sessions", load)
            if load > capacity:
                self.violation(f"agent {agent_id}: {load} OFFERED/ACTIVE sessions, capacity {capacity}")
        for sid, session in sessions.items():
            if session.state in (S.SESSION_STATE_OFFERED, S.SESSION_STATE_ACTIVE):
                if owner.get(sid) != session.agent_id:
                    self.violation(f"session {sid}: {S.SessionState.Name(session.state)} with agent {session.agent_id}, "
                                   f"listed by {owner.get(sid)!r}")
            elif sid in owner:
                self.violation(f"session {sid}: {S.SessionState.Name(session.state)} but listed by agent {owner[sid]}")

    async def check_queue(self, agents: Dict[str, A.Agent], listed: Dict[str, List[S.Session]],
                          sessions: Dict[str, S.Session], shared_limit: int) -> None:
        queues: Dict[str, List[Tuple[int, S.Session]]] = defaultdict(list)
        open_sessions = [s for s in sessions.values() if s.state != S.SESSION_STATE_CLOSED]
        positions = await asyncio.gather(*(self.client.sessions.get_queue_position(session_id=s.id) for s in open_sessions))
        for session, position in zip(open_sessions, positions):
            sid = session.id
            if session.state == S.SESSION_STATE_QUEUED:
                if not position.queued:
                    self.violation(f"session {sid}: QUEUED without a queue position")
                    continue
                queues[session.group_id].append((position.position, session))
                if position.waiting_ahead != position.position - 1:
                    self.violation(f"session {sid}: position {position.position} with {position.waiting_ahead} ahead")
            elif position.queued:
                self.violation(f"session {sid}: {S.SessionState.Name(session.state)} with queue position {position.position}")
        total = sum(len(q) for q in queues.values())
        if total > MAX_QUEUE_LENGTH:
            self.violation(f"queue: {total} sessions wait, the limit is {MAX_QUEUE_LENGTH}")
        free = {a: self.capacity(agents[a], shared_limit) - len(listed.get(a, []))
                for a in agents if agents[a].status == ONLINE and a in listed}
        for group_id, queue in queues.items():
            name = group_id or "any agent"
            self.counted("queues")
            self.counted("queued_sessions", len(queue))
            positions = sorted(p for p, _ in queue)
            if positions != list(range(1, len(queue) + 1)):
                self.violation(f"queue of {name}: positions {positions}, expected 1..{len(queue)}")
            routes = {s.id: self.ledger.session(s.id).routes for _, s in queue}
            known = [(p, s) for p, s in queue if routes[s.id] and all(acked is not None for _, acked in routes[s.id])]
            for pa, a in known:
                for pb, b in known:
                    if a.id != b.id and routes[a.id][-1][1] < routes[b.id][-1][0]:
                        self.counted("fifo_ordered_pairs")
                    if routes[a.id][-1][1] < routes[b.id][-1][0] and not pa < pb:
                        self.violation(f"queue of {name}: {a.id} was queued (acknowledged) before {b.id} was asked "
                                       f"for, but waits at {pa} behind it at {pb} (FIFO)")
            for _, session in queue:
                members = GROUPS.get(group_id, AGENTS) if group_id else AGENTS
                missed = self.ledger.session(session.id).transferred_by
                idle = [a for a in members if free.get(a, 0) > 0 and a not in missed]
                if idle:
                    self.violation(f"queue of {name}: {session.id} waits while ONLINE agent(s) {idle} "
                                   f"have free capacity")
                    break


async def _run(kills: int, clients: int, seed: int, binary: Path, data_dir: Path,
               min_delay: float, max_delay: float, log: Callable[[str], None],
               before_last_start: Optional[Callable[[ServerProcess], None]]) -> Result:
    result = Result(kills=0, clients=clients, seed=seed)
    started = time.monotonic()
    rng = random.Random(seed)
    ledger = Ledger()
    server = ServerProcess(data_dir, binary)
    server.start()
    try:
        await setup(server.target, ledger)
        load = Load(server.target, ledger, seed)
        agents, admins = len(AGENTS), 2
        users = max(1, clients - agents - admins)
        tasks = [asyncio.ensure_future(load.agent(a, i)) for i, a in enumerate(AGENTS)]
        tasks += [asyncio.ensure_future(load.admin(i)) for i in range(admins)]
        tasks += [asyncio.ensure_future(load.user(i)) for i in range(users)]
        for kill in range(kills):
            await asyncio.sleep(rng.uniform(min_delay, max_delay))
            for task in tasks:
                if task.done() and task.exception() is not None:
                    raise task.exception()
            load.up.clear()
            ended = server.kill()
            if ended is not None:
                result.unexpected_exits += 1
                result.violation_details.append(f"the server exited by itself with status {ended} before kill {kill + 1}")
            result.kills += 1
            if kill == kills - 1:
                load.stopping = True
                if before_last_start is not None:
                    before_last_start(server)
            restart = time.monotonic()
            for attempt in range(20):
                try:
                    await asyncio.to_thread(server.start)
                    break
                except ServerStartError as e:
                    if attempt == 19 or "did not start" in str(e) and "cannot start" in str(e):
                        raise
                    await asyncio.sleep(0.1)
            result.restart_seconds_max = max(result.restart_seconds_max, time.monotonic() - restart)
            load.up.set()
            if (kill + 1) % 10 == 0:
                log(f"{kill + 1} kills, {ledger.calls} calls, {sum(ledger.acked.values())} acknowledged writes")
        done, pending = await asyncio.wait(tasks, timeout=30)
        for task in pending:
            task.cancel()
        for task in done:
            if task.exception() is not None:
                raise task.exception()
        if pending:
            raise RuntimeError(f"{len(pending)} client tasks did not finish after the load stopped")
        # The load ended on a killed-and-restarted server; nothing runs now but the checks.
        async with Client(server.target, timeout=30) as client:
            await Verifier(client, ledger, result).run()
        if server.process.poll() is not None:
            result.unexpected_exits += 1
            result.violation_details.append(f"the server exited by itself during the checks ({server.process.returncode})")
    finally:
        server.stop()
    result.calls = ledger.calls
    result.acknowledged_by_kind = dict(sorted(ledger.acked.items()))
    result.acknowledged_writes = sum(ledger.acked.values())
    result.unknown_by_kind = dict(sorted(ledger.unknown.items()))
    result.unknown_outcomes = sum(ledger.unknown.values())
    result.not_sent = ledger.not_sent
    result.rejected = ledger.rejected
    result.rejected_by_kind = dict(sorted(ledger.rejected_by_kind.items()))
    result.server_log_errors = [line.strip() for line in server.log
                                if " error " in line or " critical " in line][:20]
    result.duration_seconds = round(time.monotonic() - started, 2)
    return result


def run(kills: int, clients: int, seed: int, binary: Optional[Path] = None, data_dir: Optional[Path] = None,
        *, min_delay: float = 0.2, max_delay: float = 1.5, log: Callable[[str], None] = lambda _: None,
        before_last_start: Optional[Callable[[ServerProcess], None]] = None) -> Result:
    """Runs the harness: `kills` SIGKILLs under the load of `clients` clients; returns the figures.

    The server binary is copied first, so a rebuild during the run does not swap it. `data_dir` must
    not hold a database yet (default: a temporary folder, removed afterwards). With
    `SWITCHBOARD_TEST_STORE=postgres` the server runs on a new database of the shared PostgreSQL
    cluster instead (see `server_process.py`). `before_last_start` is called with the
    `ServerProcess` (its `data_dir`, and its `database` URL on PostgreSQL) while the server is down
    after the last kill (the harness's own test damages the database there, to see the checks
    catch it).
    """
    binary = Path(binary) if binary is not None else BINARY
    scratch = Path(tempfile.mkdtemp(prefix="switchboard-crash-"))
    try:
        copy = scratch / "switchboard-server"
        shutil.copy2(binary, copy)
        data = Path(data_dir) if data_dir is not None else scratch / "data"
        return asyncio.run(_run(kills, clients, seed, copy, data, min_delay, max_delay, log, before_last_start))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="SIGKILLs a loaded switchboard-server and checks nothing acknowledged is lost.")
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--binary", type=Path, default=BINARY)
    parser.add_argument("--data-dir", type=Path, default=None, help="a new folder (default: a temporary one)")
    parser.add_argument("--min-delay", type=float, default=0.2, help="least seconds of load before a kill")
    parser.add_argument("--max-delay", type=float, default=1.5, help="most seconds of load before a kill")
    parser.add_argument("--output", type=Path, default=None, help="write the figures there as JSON")
    args = parser.parse_args(argv)
    result = run(args.kills, args.clients, args.seed, args.binary, args.data_dir,
                 min_delay=args.min_delay, max_delay=args.max_delay,
                 log=lambda line: print(line, file=sys.stderr, flush=True))
    data = result.to_json()
    data["command"] = " ".join(["crash_harness.py"] + (argv if argv is not None else sys.argv[1:]))
    text = json.dumps(data, indent=2)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    print(text)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
