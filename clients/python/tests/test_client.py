"""The Python client against a real switchboard-server: every service, errors, streams, the hook."""
import asyncio

import pytest

from conftest import run_async
from switchboard import Channel, Client, RPCError, StatusCode
from switchboard.allocation import automatic, reject, serve_allocation_hook, to_group
from switchboard.v1 import agent_pb2, health_pb2, session_pb2, settings_pb2

Policy = settings_pb2.Settings.Allocation.Policy
Fallback = settings_pb2.Settings.Allocation.Fallback


async def create_online_agent(client, agent_id, *groups):
    await client.agents.create_agent(id=agent_id, display_name=agent_id.title())
    for group in groups:
        await client.agents.add_group_member(group_id=group, agent_id=agent_id)
    return await client.agents.set_agent_status(id=agent_id, status=agent_pb2.AGENT_STATUS_ONLINE)


@run_async
async def test_health_and_settings(server):
    async with Client(server.target) as client:
        health = await client.health.check()
        assert health.status == health_pb2.HealthCheckResponse.SERVING_STATUS_SERVING
        assert health.server_version

        document = await client.settings.get_settings()
        queue = settings_pb2.Settings.Queue()
        queue.CopyFrom(document.settings.queue)
        queue.max_sessions_per_agent = 3
        updated = await client.settings.update_settings(
            expected_version=document.version, settings=settings_pb2.Settings(queue=queue))
        assert updated.version == document.version + 1
        assert updated.settings.queue.max_sessions_per_agent == 3
        assert updated.settings.prompts.welcome == document.settings.prompts.welcome  # other sections kept

        with pytest.raises(RPCError) as stale:  # the version read is no longer current
            await client.settings.update_settings(expected_version=document.version,
                                                  settings=settings_pb2.Settings(queue=queue))
        assert stale.value.code == StatusCode.ABORTED

        queue.max_sessions_per_agent = 0
        with pytest.raises(RPCError) as invalid:
            await client.settings.update_settings(expected_version=updated.version,
                                                  settings=settings_pb2.Settings(queue=queue))
        assert invalid.value.code == StatusCode.INVALID_ARGUMENT
        assert "max_sessions_per_agent" in invalid.value.message
        assert (await client.settings.get_settings()).version == updated.version  # nothing changed


@run_async
async def test_agents_and_groups(server):
    async with Client(server.target) as client:
        group = await client.agents.create_group(id="support", name="Support")
        assert (group.id, group.name) == ("support", "Support")
        alice = await client.agents.create_agent(agent_pb2.CreateAgentRequest(id="alice", display_name="Alice", max_sessions=2))
        assert alice.status == agent_pb2.AGENT_STATUS_OFFLINE and alice.max_sessions == 2
        await client.agents.create_agent(id="bob", display_name="Bob")
        assert not (await client.agents.get_agent(id="bob")).HasField("max_sessions")

        with pytest.raises(RPCError) as taken:
            await client.agents.create_agent(id="alice", display_name="Alice again")
        assert taken.value.code == StatusCode.ALREADY_EXISTS
        with pytest.raises(RPCError) as missing:
            await client.agents.get_agent(id="nobody")
        assert missing.value.code == StatusCode.NOT_FOUND
        with pytest.raises(RPCError) as bad_id:
            await client.agents.create_agent(id="no spaces allowed", display_name="x")
        assert bad_id.value.code == StatusCode.INVALID_ARGUMENT and "id" in bad_id.value.message

        await client.agents.add_group_member(group_id="support", agent_id="alice")
        group = await client.agents.add_group_member(group_id="support", agent_id="bob")
        assert group.member_count == 2
        assert [a.id for a in (await client.agents.list_group_agents(group_id="support")).agents] == ["alice", "bob"]
        renamed = await client.agents.rename_group(id="support", name="Customer support")
        assert (await client.agents.get_group(id="support")).name == renamed.name == "Customer support"
        assert [g.id for g in (await client.agents.list_groups()).groups] == ["support"]

        updated = await client.agents.update_agent(id="bob", display_name="Robert")
        assert updated.display_name == "Robert"
        online = await client.agents.set_agent_status(id="bob", status=agent_pb2.AGENT_STATUS_ONLINE)
        assert online.status == agent_pb2.AGENT_STATUS_ONLINE

        first = await client.agents.list_agents(page_size=1)
        assert [a.id for a in first.agents] == ["alice"] and first.next_page_token
        second = await client.agents.list_agents(page_size=1, page_token=first.next_page_token)
        assert [a.id for a in second.agents] == ["bob"]

        await client.agents.remove_group_member(group_id="support", agent_id="bob")
        await client.agents.delete_agent(id="bob")
        await client.agents.delete_group(id="support")
        assert [a.id for a in (await client.agents.list_agents()).agents] == ["alice"]


@run_async
async def test_session_lifecycle(server):
    async with Client(server.target) as client:
        await client.agents.create_group(id="support", name="Support")
        await create_online_agent(client, "alice", "support")
        assert [g.id for g in (await client.sessions.list_groups()).groups] == ["support"]

        session = await client.sessions.create_session(user_id="user-42", channel="web", attributes={"tier": "gold"})
        assert session.state == session_pb2.SESSION_STATE_BOT and session.attributes["tier"] == "gold"
        await client.sessions.send_user_message(session_id=session.id, text="I need a human")
        routed = await client.sessions.request_agent(session_id=session.id)
        assert (routed.state, routed.agent_id) == (session_pb2.SESSION_STATE_ACTIVE, "alice")
        position = await client.sessions.get_queue_position(session_id=session.id)
        assert not position.queued

        assert [s.id for s in (await client.agents.list_agent_sessions(agent_id="alice")).sessions] == [session.id]
        reply = await client.agents.send_agent_message(agent_id="alice", session_id=session.id, text="Hello!")
        assert reply.sender == session_pb2.SENDER_AGENT and reply.agent_id == "alice"
        with pytest.raises(RPCError) as foreign:  # bob has no business with alice's session
            await create_online_agent(client, "bob")
            await client.agents.send_agent_message(agent_id="bob", session_id=session.id, text="Hi")
        assert foreign.value.code == StatusCode.PERMISSION_DENIED

        invited = await client.agents.invite_rating(agent_id="alice", session_id=session.id)
        assert invited.rating_deadline_ms > 0
        closed = await client.agents.close_session(agent_id="alice", session_id=session.id)
        assert closed.state == session_pb2.SESSION_STATE_CLOSED
        assert closed.close_reason == session_pb2.CLOSE_REASON_AGENT_ENDED
        rated = await client.sessions.submit_rating(session_id=session.id, score=5, comment="great")
        assert rated.rating.score == 5
        with pytest.raises(RPCError) as twice:
            await client.sessions.submit_rating(session_id=session.id, score=1)
        assert twice.value.code == StatusCode.ALREADY_EXISTS
        with pytest.raises(RPCError) as closed_already:
            await client.sessions.send_user_message(session_id=session.id, text="hello?")
        assert closed_already.value.code == StatusCode.FAILED_PRECONDITION

        transcript = await client.sessions.list_messages(session_id=session.id)
        texts = [m.text for m in transcript.messages]
        assert "I need a human" in texts and "Hello!" in texts
        assert [m.sequence for m in transcript.messages] == list(range(1, len(texts) + 1))
        assert (await client.sessions.get_session(session_id=session.id)).last_sequence == len(texts)

        second = await client.sessions.create_session(user_id="user-43")
        await client.sessions.close_session(session_id=second.id)
        assert (await client.sessions.get_session(session_id=second.id)).close_reason == session_pb2.CLOSE_REASON_USER_ENDED


@run_async
async def test_errors_deadlines_and_metadata(server):
    async with Channel(server.target, metadata={"request-id": "python-test"}) as channel:
        with pytest.raises(RPCError) as unknown:
            await channel.unary("switchboard.v1.Health", "Explode", health_pb2.HealthCheckRequest(),
                                health_pb2.HealthCheckResponse, metadata=[("x-extra", "1")])
        assert unknown.value.code == StatusCode.UNIMPLEMENTED and "Explode" in unknown.value.message
        assert "UNIMPLEMENTED (12)" in str(unknown.value)

    # Calls share one connection and may finish in any order.
    async with Client(server.target) as client:
        answers = await asyncio.gather(*(client.health.check(timeout=5) for _ in range(200)))
        assert all(a.status == health_pb2.HealthCheckResponse.SERVING_STATUS_SERVING for a in answers)
        with pytest.raises(TypeError):
            await client.agents.get_agent(agent_pb2.GetAgentRequest(id="x"), id="y")

    # A server that is not there.
    async with Client("127.0.0.1:1", timeout=2) as client:
        with pytest.raises(RPCError) as down:
            await client.health.check()
        assert down.value.code == StatusCode.UNAVAILABLE


@run_async
async def test_watch_session_resumes_across_a_restart(server):
    async with Client(server.target) as client:
        session = await client.sessions.create_session(user_id="user-7")
        events = []
        seen_two = asyncio.Event()

        async def watch():
            async for event in client.watch_session(session.id, retry_delay=0.05):
                events.append(event)
                if len(events) >= 2:
                    seen_two.set()
                if event.WhichOneof("event") == "message" and event.message.text == "after the restart":
                    return

        watcher = asyncio.create_task(watch())
        await client.sessions.send_user_message(session_id=session.id, text="before the restart")
        await asyncio.wait_for(seen_two.wait(), 10)

        await asyncio.get_running_loop().run_in_executor(None, server.restart)
        await client.sessions.send_user_message(session_id=session.id, text="after the restart")
        await asyncio.wait_for(watcher, 20)

        sequences = [e.sequence for e in events]
        assert sequences == list(range(1, len(sequences) + 1)), sequences  # no gap, no duplicate
        texts = [e.message.text for e in events if e.WhichOneof("event") == "message"]
        assert texts[-2:] == ["before the restart", "after the restart"]


@run_async
async def test_watch_agent_stream(server):
    async with Client(server.target) as client:
        await create_online_agent(client, "alice")
        stream = client.agents.watch_agent(agent_id="alice")
        session = await client.sessions.create_session(user_id="user-8")
        await client.sessions.request_agent(session_id=session.id)
        await client.sessions.send_user_message(session_id=session.id, text="are you there?")
        kinds = []
        async with stream:
            async for event in stream:
                kinds.append(event.WhichOneof("event"))
                if kinds[-1] == "user_message":
                    assert event.user_message.text == "are you there?"
                    break
        assert kinds == ["assigned_session_id", "user_message"]

        with pytest.raises(RPCError) as missing:
            async for _ in client.agents.watch_agent(agent_id="nobody"):
                pass
        assert missing.value.code == StatusCode.NOT_FOUND


@run_async
async def test_allocation_hook_served_in_python(server):
    calls = []

    async def allocate(request):
        calls.append(request)
        if request.attributes.get("blocked") == "true":
            return reject("Sorry, we cannot help you here.")
        if request.attributes.get("tier") == "vip":
            return to_group("vip")
        return automatic()

    hook = await serve_allocation_hook(allocate, port=0)
    try:
        async with Client(server.target) as client:
            await client.agents.create_group(id="vip", name="VIP")
            await create_online_agent(client, "vera", "vip")
            await create_online_agent(client, "alice")
            document = await client.settings.get_settings()
            await client.settings.update_settings(expected_version=document.version, settings=settings_pb2.Settings(
                allocation=settings_pb2.Settings.Allocation(
                    policy=Policy.POLICY_BUSINESS_SERVER, hook_address=f"127.0.0.1:{hook.port}",
                    hook_deadline_ms=2000, fallback=Fallback.FALLBACK_AUTOMATIC)))

            vip = await client.sessions.create_session(user_id="v1", attributes={"tier": "vip"})
            routed = await client.sessions.request_agent(session_id=vip.id)
            assert (routed.state, routed.group_id, routed.agent_id) == (session_pb2.SESSION_STATE_ACTIVE, "vip", "vera")

            blocked = await client.sessions.create_session(user_id="b1", attributes={"blocked": "true"})
            refused = await client.sessions.request_agent(session_id=blocked.id)
            assert refused.state == session_pb2.SESSION_STATE_BOT
            transcript = await client.sessions.list_messages(session_id=blocked.id)
            assert transcript.messages[-1].text == "Sorry, we cannot help you here."

            assert [c.session_id for c in calls] == [vip.id, blocked.id]
            assert all(c.idempotency_key for c in calls)
    finally:
        await hook.stop()


@run_async
async def test_paging_helpers_read_every_page(server):
    async with Client(server.target) as client:
        await create_online_agent(client, "alice")
        await client.agents.update_agent(id="alice", max_sessions=60)
        for number in range(5):
            await client.agents.create_group(id=f"g{number}", name=f"Group {number}")
            await client.agents.add_group_member(group_id=f"g{number}", agent_id="alice")
        sessions = []
        for number in range(45):  # more than a page of ListAgentSessions (40)
            session = await client.sessions.create_session(user_id=f"user-{number}")
            sessions.append((await client.sessions.request_agent(session_id=session.id)).id)

        first = await client.agents.list_agent_sessions(agent_id="alice")  # no page_size: the default 40
        assert len(first.sessions) == 40 and first.next_page_token
        assert [s.id async for s in client.all_agent_sessions("alice")] == sorted(sessions)
        assert [s.id async for s in client.all_agent_sessions("alice", page_size=7)] == sorted(sessions)
        assert [g.id async for g in client.all_groups(page_size=2)] == [f"g{n}" for n in range(5)]
        assert [g.id async for g in client.all_session_groups(page_size=2)] == [f"g{n}" for n in range(5)]
        assert [a.id async for a in client.all_group_agents("g3", page_size=1)] == ["alice"]
        assert [a.id async for a in client.all_agents(page_size=1)] == ["alice"]
        transcript = [m.sequence async for m in client.all_messages(sessions[0], limit=1)]
        assert transcript == list(range(1, len(transcript) + 1)) and len(transcript) >= 3

        with pytest.raises(RPCError) as bad_token:
            await client.agents.list_agent_sessions(agent_id="alice", page_token="not-a-token")
        assert bad_token.value.code == StatusCode.INVALID_ARGUMENT and "page_token" in bad_token.value.message
