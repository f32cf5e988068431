"""Tenants against a real switchboard-server: TenantService, the `switchboard-tenant` metadata that
every other call acts in, isolation between tenants, quotas, deletion, operator and tenant keys,
and the CLI's `--tenant` and `tenant` commands."""
import asyncio
import json
import os
import subprocess

import pytest

from conftest import BINARY, REPOSITORY, ServerProcess, eventually, run_async
from switchboard import TENANT_METADATA_KEY, Client, RPCError, StatusCode
from switchboard.v1 import agent_pb2, session_pb2, settings_pb2, tenant_pb2

CLI = REPOSITORY / ".build/debug/switchboard-cli"


async def expect_code(code, call):
    """Awaits `call`, which must fail with `code`; returns the error."""
    with pytest.raises(RPCError) as failure:
        await call
    assert failure.value.code == code, failure.value
    return failure.value


async def expect_no_tenant(tenant_id, call):
    """`call`, made in `tenant_id`, fails as a call in a tenant that does not exist does."""
    error = await expect_code(StatusCode.NOT_FOUND, call)
    assert f"tenant '{tenant_id}' does not exist" in error.message, error
    return error


def quotas(**fields):
    return tenant_pb2.TenantQuotas(**fields)


@run_async
async def test_create_get_list_update_delete(server):
    async with Client(server.target) as operator:
        acme = await operator.tenants.create_tenant(id="acme", display_name="Acme Corp",
                                                    quotas=quotas(max_agents=10, max_watchers=3))
        assert (acme.id, acme.display_name) == ("acme", "Acme Corp")
        assert acme.quotas == quotas(max_agents=10, max_watchers=3)
        assert acme.created_at_ms > 0
        plain = await operator.tenants.create_tenant(tenant_pb2.CreateTenantRequest(id="beta-2"))
        assert plain.display_name == "beta-2"  # the id when no name is given
        assert plain.quotas == quotas()  # none: every quota 0, no limit

        await expect_code(StatusCode.ALREADY_EXISTS, operator.tenants.create_tenant(id="acme"))
        await expect_code(StatusCode.ALREADY_EXISTS, operator.tenants.create_tenant(id="default"))
        for bad in ("Acme", "-acme", "acme_corp", "acme corp", "a" * 64, "", "ä"):
            error = await expect_code(StatusCode.INVALID_ARGUMENT, operator.tenants.create_tenant(id=bad))
            assert "id" in error.message, error
        assert (await operator.tenants.create_tenant(id="9" + "a" * 62)).id == "9" + "a" * 62  # 63 bytes

        got = await operator.tenants.get_tenant(id="acme")
        assert (got.id, got.display_name, got.created_at_ms) == ("acme", "Acme Corp", acme.created_at_ms)
        assert got.quotas == acme.quotas
        assert got.HasField("usage")
        assert (got.usage.agents, got.usage.open_sessions, got.usage.queued_sessions, got.usage.watchers) == (0, 0, 0, 0)
        await expect_code(StatusCode.NOT_FOUND, operator.tenants.get_tenant(id="nope"))
        assert (await operator.tenants.get_tenant(id="default")).id == "default"  # on every server

        everyone = ["9" + "a" * 62, "acme", "beta-2", "default"]  # by id
        assert [t.id async for t in operator.all_tenants()] == everyone
        assert [t.id async for t in operator.all_tenants(page_size=1)] == everyone
        first = await operator.tenants.list_tenants(page_size=2)
        assert [t.id for t in first.tenants] == everyone[:2] and first.next_page_token
        rest = await operator.tenants.list_tenants(page_size=2, page_token=first.next_page_token)
        assert [t.id for t in rest.tenants] == everyone[2:]
        listed = {t.id: t for t in first.tenants}
        assert listed["acme"].quotas == acme.quotas and listed["acme"].display_name == "Acme Corp"

        # The name alone: the quotas stay.
        renamed = await operator.tenants.update_tenant(id="acme", display_name="ACME")
        assert renamed.display_name == "ACME" and renamed.quotas == acme.quotas
        # The quotas are replaced whole: a field left out becomes 0.
        requoted = await operator.tenants.update_tenant(id="acme", quotas=quotas(max_open_sessions=5))
        assert requoted.display_name == "ACME" and requoted.quotas == quotas(max_open_sessions=5)
        stored = await operator.tenants.get_tenant(id="acme")
        assert stored.display_name == "ACME" and stored.quotas == quotas(max_open_sessions=5)
        await expect_code(StatusCode.NOT_FOUND, operator.tenants.update_tenant(id="nope", display_name="x"))

        await operator.tenants.delete_tenant(id="beta-2")
        await expect_code(StatusCode.NOT_FOUND, operator.tenants.get_tenant(id="beta-2"))
        await expect_code(StatusCode.NOT_FOUND, operator.tenants.delete_tenant(id="beta-2"))
        assert [t.id async for t in operator.all_tenants()] == ["9" + "a" * 62, "acme", "default"]


@run_async
async def test_default_cannot_be_deleted(server):
    async with Client(server.target) as operator:
        await expect_code(StatusCode.FAILED_PRECONDITION, operator.tenants.delete_tenant(id="default"))
        assert (await operator.tenants.get_tenant(id="default")).id == "default"
        await operator.agents.create_agent(id="alice", display_name="Alice")  # still serving
        assert [a.id async for a in operator.all_agents()] == ["alice"]


@run_async
async def test_the_same_agent_id_in_two_tenants(server):
    async with Client(server.target) as operator:
        for tenant_id in ("red", "blue"):
            await operator.tenants.create_tenant(id=tenant_id)
    async with Client(server.target, tenant="red") as red, Client(server.target, tenant="blue") as blue, \
            Client(server.target) as default, Client(server.target, tenant="default") as named_default:
        assert red.tenant == "red" and default.tenant is None
        await red.agents.create_agent(id="alice", display_name="Alice Red", max_sessions=2)
        await blue.agents.create_agent(id="alice", display_name="Alice Blue")  # no ALREADY_EXISTS
        await expect_code(StatusCode.ALREADY_EXISTS, red.agents.create_agent(id="alice", display_name="again"))

        assert (await red.agents.get_agent(id="alice")).display_name == "Alice Red"
        assert (await blue.agents.get_agent(id="alice")).display_name == "Alice Blue"
        assert not (await blue.agents.get_agent(id="alice")).HasField("max_sessions")
        await red.agents.set_agent_status(id="alice", status=agent_pb2.AGENT_STATUS_ONLINE)
        assert (await blue.agents.get_agent(id="alice")).status == agent_pb2.AGENT_STATUS_OFFLINE
        await expect_code(StatusCode.NOT_FOUND, default.agents.get_agent(id="alice"))  # no metadata: `default`
        await expect_code(StatusCode.NOT_FOUND, named_default.agents.get_agent(id="alice"))

        # Groups, members and settings are the tenant's too.
        await red.agents.create_group(id="support", name="Red support")
        await red.agents.add_group_member(group_id="support", agent_id="alice")
        await blue.agents.create_group(id="support", name="Blue support")
        assert (await blue.agents.get_group(id="support")).member_count == 0
        assert [g.name async for g in red.all_groups()] == ["Red support"]
        assert [g.name async for g in blue.all_groups()] == ["Blue support"]
        assert [g.id async for g in default.all_groups()] == []

        document = await red.settings.get_settings()
        queue = settings_pb2.Settings.Queue()
        queue.CopyFrom(document.settings.queue)
        queue.max_sessions_per_agent = queue.max_sessions_per_agent + 1
        await red.settings.update_settings(expected_version=document.version, settings=settings_pb2.Settings(queue=queue))
        blue_settings = await blue.settings.get_settings()
        assert blue_settings.version == document.version
        assert blue_settings.settings.queue.max_sessions_per_agent == queue.max_sessions_per_agent - 1

        await red.agents.set_agent_status(id="alice", status=agent_pb2.AGENT_STATUS_OFFLINE)
        await red.agents.remove_group_member(group_id="support", agent_id="alice")
        await red.agents.delete_agent(id="alice")
        assert (await blue.agents.get_agent(id="alice")).display_name == "Alice Blue"  # untouched


@run_async
async def test_a_session_is_seen_only_in_its_tenant(server):
    async with Client(server.target) as operator:
        for tenant_id in ("a", "b"):
            await operator.tenants.create_tenant(id=tenant_id)
    async with Client(server.target, tenant="a") as a, Client(server.target, tenant="b") as b, \
            Client(server.target) as default:
        await a.agents.create_agent(id="alice", display_name="Alice")
        await a.agents.set_agent_status(id="alice", status=agent_pb2.AGENT_STATUS_ONLINE)
        await b.agents.create_agent(id="alice", display_name="Other Alice")
        await b.agents.set_agent_status(id="alice", status=agent_pb2.AGENT_STATUS_ONLINE)
        session = await a.sessions.create_session(user_id="user-1")
        routed = await a.sessions.request_agent(session_id=session.id)
        assert (routed.state, routed.agent_id) == (session_pb2.SESSION_STATE_ACTIVE, "alice")
        await a.agents.send_agent_message(agent_id="alice", session_id=session.id, text="Hello from A")

        for other in (b, default):
            await expect_code(StatusCode.NOT_FOUND, other.sessions.get_session(session_id=session.id))
            await expect_code(StatusCode.NOT_FOUND, other.sessions.list_messages(session_id=session.id))
            await expect_code(StatusCode.NOT_FOUND, other.sessions.send_user_message(session_id=session.id, text="hi"))
            await expect_code(StatusCode.NOT_FOUND, other.sessions.close_session(session_id=session.id))
            with pytest.raises(RPCError) as watched:
                async for _ in other.sessions.watch_session(session_id=session.id):
                    pass
            assert watched.value.code == StatusCode.NOT_FOUND
        # b's alice is another agent: a's session is not hers.
        assert [s.id async for s in b.all_agent_sessions("alice")] == []
        with pytest.raises(RPCError) as foreign:
            await b.agents.send_agent_message(agent_id="alice", session_id=session.id, text="intruding")
        assert foreign.value.code in (StatusCode.NOT_FOUND, StatusCode.PERMISSION_DENIED), foreign.value

        texts = [m.text async for m in a.all_messages(session.id)]
        assert "Hello from A" in texts and "intruding" not in texts and "hi" not in texts
        assert (await a.sessions.get_session(session_id=session.id)).state == session_pb2.SESSION_STATE_ACTIVE


@run_async
async def test_an_unknown_tenant_is_not_found(server):
    async with Client(server.target, tenant="nope") as nope:
        assert nope.tenant == "nope" and (TENANT_METADATA_KEY, "nope") in nope.channel._metadata
        await expect_no_tenant("nope", nope.agents.list_agents())
        await expect_no_tenant("nope", nope.agents.create_agent(id="alice", display_name="Alice"))
        await expect_no_tenant("nope", nope.sessions.create_session(user_id="user-1"))
        await expect_no_tenant("nope", nope.settings.get_settings())
        with pytest.raises(RPCError) as watched:
            async for _ in nope.agents.watch_agent(agent_id="alice"):
                pass
        assert watched.value.code == StatusCode.NOT_FOUND and "tenant 'nope' does not exist" in watched.value.message
    async with Client(server.target) as operator:
        await expect_code(StatusCode.NOT_FOUND, operator.tenants.get_tenant(id="nope"))
        assert [t.id async for t in operator.all_tenants()] == ["default"]  # nothing made on the way


@run_async
async def test_quota_max_agents(server):
    async with Client(server.target) as operator, Client(server.target, tenant="small") as small:
        await operator.tenants.create_tenant(id="small", quotas=quotas(max_agents=1))
        await small.agents.create_agent(id="a1", display_name="One")
        error = await expect_code(StatusCode.RESOURCE_EXHAUSTED, small.agents.create_agent(id="a2", display_name="Two"))
        assert "max_agents" in error.message, error
        assert [a.id async for a in small.all_agents()] == ["a1"]
        assert (await operator.tenants.get_tenant(id="small")).usage.agents == 1
        # Other tenants are not limited by it.
        for number in range(3):
            await operator.agents.create_agent(id=f"d{number}", display_name=f"Default {number}")

        # A deleted agent frees its place.
        await small.agents.delete_agent(id="a1")
        assert (await operator.tenants.get_tenant(id="small")).usage.agents == 0
        await small.agents.create_agent(id="a2", display_name="Two")

        # No limit, then a lowered limit: what exists stays, nothing more is made.
        await operator.tenants.update_tenant(id="small", quotas=quotas(max_agents=0))
        await small.agents.create_agent(id="a3", display_name="Three")
        await small.agents.create_agent(id="a4", display_name="Four")
        await operator.tenants.update_tenant(id="small", quotas=quotas(max_agents=2))
        error = await expect_code(StatusCode.RESOURCE_EXHAUSTED, small.agents.create_agent(id="a5", display_name="Five"))
        assert "max_agents" in error.message, error
        assert [a.id async for a in small.all_agents()] == ["a2", "a3", "a4"]
        assert (await operator.tenants.get_tenant(id="small")).usage.agents == 3


@run_async
async def test_quota_max_open_sessions(server):
    async with Client(server.target) as operator, Client(server.target, tenant="busy") as busy:
        await operator.tenants.create_tenant(id="busy", quotas=quotas(max_open_sessions=2))
        first = await busy.sessions.create_session(user_id="user-1")
        await busy.sessions.create_session(user_id="user-2")
        error = await expect_code(StatusCode.RESOURCE_EXHAUSTED, busy.sessions.create_session(user_id="user-3"))
        assert "max_open_sessions" in error.message, error
        assert (await operator.tenants.get_tenant(id="busy")).usage.open_sessions == 2
        await operator.sessions.create_session(user_id="user-3")  # `default` has no such limit

        # A CLOSED session no longer counts.
        closed = await busy.sessions.close_session(session_id=first.id)
        assert closed.state == session_pb2.SESSION_STATE_CLOSED
        assert (await operator.tenants.get_tenant(id="busy")).usage.open_sessions == 1
        await busy.sessions.create_session(user_id="user-3")
        await expect_code(StatusCode.RESOURCE_EXHAUSTED, busy.sessions.create_session(user_id="user-4"))


@run_async
async def test_quota_max_watchers(server):
    # timeout=None: streams without a deadline.
    async with Client(server.target) as operator, Client(server.target, tenant="watched", timeout=None) as watched:
        await operator.tenants.create_tenant(id="watched", quotas=quotas(max_watchers=1))
        session = await watched.sessions.create_session(user_id="user-1")  # its creation is an event
        first = watched.sessions.watch_session(session_id=session.id)
        async with first:
            await asyncio.wait_for(first.__anext__(), 10)
            assert await eventually(lambda: usage_is(operator, "watched", watchers=1))
            with pytest.raises(RPCError) as refused:
                async for _ in watched.sessions.watch_session(session_id=session.id):
                    pass
            assert refused.value.code == StatusCode.RESOURCE_EXHAUSTED and "max_watchers" in refused.value.message
        # The first stream ended: its place is free again.
        assert await eventually(lambda: usage_is(operator, "watched", watchers=0))
        again = watched.sessions.watch_session(session_id=session.id)
        async with again:
            assert (await asyncio.wait_for(again.__anext__(), 10)).sequence == 1


async def usage_is(operator, tenant_id, **expected):
    usage = (await operator.tenants.get_tenant(id=tenant_id)).usage
    return all(getattr(usage, field) == value for field, value in expected.items())


@run_async
async def test_quota_max_calls_per_second(server):
    async with Client(server.target) as operator, Client(server.target, tenant="slow") as slow:
        await operator.tenants.create_tenant(id="slow", quotas=quotas(max_calls_per_second=5))
        await asyncio.sleep(1.1)  # a full bucket
        answers = await asyncio.gather(*(slow.agents.list_agents() for _ in range(40)), return_exceptions=True)
        refused = [a for a in answers if isinstance(a, RPCError)]
        assert refused and len(refused) < len(answers), answers  # a burst of about one second's worth
        assert len(answers) - len(refused) <= 10, answers
        for error in refused:
            assert error.code == StatusCode.RESOURCE_EXHAUSTED and "max_calls_per_second" in error.message, error
        # Other tenants are not slowed by it.
        assert not [a for a in await asyncio.gather(*(operator.agents.list_agents() for _ in range(40)),
                                                    return_exceptions=True) if isinstance(a, RPCError)]
        await asyncio.sleep(1.1)
        await slow.agents.list_agents()


@run_async
async def test_deleting_a_tenant_ends_its_calls(server):
    async with Client(server.target) as operator, Client(server.target, tenant="gone") as gone, \
            Client(server.target, tenant="gone", timeout=None) as watcher:
        await operator.tenants.create_tenant(id="gone")
        await gone.agents.create_agent(id="alice", display_name="Alice")
        session = await gone.sessions.create_session(user_id="user-1")
        stream = watcher.sessions.watch_session(session_id=session.id)  # no deadline
        await asyncio.wait_for(stream.__anext__(), 10)
        await operator.agents.create_agent(id="alice", display_name="Default Alice")

        await operator.tenants.delete_tenant(id="gone")

        async def drain():
            async for _ in stream:
                pass
        # Its event streams end (the contract names no status for it).
        try:
            await asyncio.wait_for(drain(), 10)
        except RPCError as e:
            assert e.code != StatusCode.DEADLINE_EXCEEDED, e
        await expect_no_tenant("gone", gone.agents.get_agent(id="alice"))
        await expect_no_tenant("gone", gone.agents.list_agents())
        await expect_no_tenant("gone", gone.sessions.get_session(session_id=session.id))
        await expect_no_tenant("gone", gone.sessions.create_session(user_id="user-2"))
        await expect_no_tenant("gone", gone.settings.get_settings())
        assert (await operator.agents.get_agent(id="alice")).display_name == "Default Alice"  # others untouched

        # Its data went with it: a new tenant of the same id starts empty.
        await operator.tenants.create_tenant(id="gone")
        assert [a.id async for a in gone.all_agents()] == []
        await expect_code(StatusCode.NOT_FOUND, gone.sessions.get_session(session_id=session.id))


@run_async
async def test_tenants_survive_a_restart(server):
    async with Client(server.target) as operator, Client(server.target, tenant="kept") as kept:
        await operator.tenants.create_tenant(id="kept", display_name="Kept", quotas=quotas(max_agents=4))
        await operator.tenants.create_tenant(id="dropped")
        await operator.tenants.delete_tenant(id="dropped")
        await kept.agents.create_agent(id="alice", display_name="Alice")
        session = await kept.sessions.create_session(user_id="user-1")
    await asyncio.get_running_loop().run_in_executor(None, server.restart)
    async with Client(server.target) as operator, Client(server.target, tenant="kept") as kept:
        tenant = await operator.tenants.get_tenant(id="kept")
        assert (tenant.display_name, tenant.quotas) == ("Kept", quotas(max_agents=4))
        assert (tenant.usage.agents, tenant.usage.open_sessions) == (1, 1)
        assert [t.id async for t in operator.all_tenants()] == ["default", "kept"]
        assert (await kept.agents.get_agent(id="alice")).display_name == "Alice"
        assert (await kept.sessions.get_session(session_id=session.id)).user_id == "user-1"
        await expect_code(StatusCode.NOT_FOUND, operator.sessions.get_session(session_id=session.id))


# --- API keys: operator keys and keys bound to a tenant -------------------------------------------

def make_key(server, *arguments):
    """A new key in the database of `server` (a ServerProcess, running or not)."""
    done = subprocess.run([str(BINARY), "keys", "create", *server.store_args, *arguments],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def secured(tmp_path):
    process = ServerProcess(tmp_path / "data")
    operator_key = make_key(process, "--role", "operator")
    process.start()
    yield process, operator_key
    process.stop()


async def lets_in(client):
    """Whether the client's key is let in (False while it is UNAUTHENTICATED)."""
    try:
        await client.agents.list_agents()
        return True
    except RPCError as e:
        assert e.code == StatusCode.UNAUTHENTICATED, e
        return False


@run_async
async def test_operator_and_tenant_keys(secured):
    server, operator_key = secured
    async with Client(server.target, token=operator_key) as operator, \
            Client(server.target, token=operator_key, tenant="acme") as operator_in_acme:
        await operator.tenants.create_tenant(id="acme")
        await operator_in_acme.agents.create_agent(id="alice", display_name="Acme Alice")  # any tenant named
        await operator.agents.create_agent(id="dave", display_name="Default Dave")  # none named: `default`
        async with Client(server.target, token=operator_key, tenant="nope") as operator_in_nope:
            await expect_no_tenant("nope", operator_in_nope.agents.list_agents())

        acme_key = make_key(server, "--role", "admin", "--tenant", "acme")
        async with Client(server.target, token=acme_key) as acme, \
                Client(server.target, token=acme_key, tenant="acme") as acme_named, \
                Client(server.target, token=acme_key, tenant="default") as acme_elsewhere, \
                Client(server.target) as anonymous:
            assert await eventually(lambda: lets_in(acme)), "the new key does not work after 10 s"  # reloaded every 2 s
            # The key's tenant, with the metadata absent or naming it.
            assert [a.id async for a in acme.all_agents()] == ["alice"]
            assert [a.id async for a in acme_named.all_agents()] == ["alice"]
            await acme.agents.create_agent(id="bob", display_name="Acme Bob")
            assert [a.id async for a in operator_in_acme.all_agents()] == ["alice", "bob"]
            assert [a.id async for a in operator.all_agents()] == ["dave"]
            # Another tenant named: refused (the contract names no code; these are the candidates).
            with pytest.raises(RPCError) as elsewhere:
                await acme_elsewhere.agents.list_agents()
            assert elsewhere.value.code in (StatusCode.PERMISSION_DENIED, StatusCode.INVALID_ARGUMENT), elsewhere.value
            # Only operator keys manage tenants.
            await expect_code(StatusCode.PERMISSION_DENIED, acme.tenants.list_tenants())
            await expect_code(StatusCode.PERMISSION_DENIED, acme.tenants.create_tenant(id="mine"))
            await expect_code(StatusCode.PERMISSION_DENIED, acme.tenants.delete_tenant(id="acme"))
            await expect_code(StatusCode.UNAUTHENTICATED, anonymous.tenants.list_tenants())

            # Deleting the tenant: its keys stop working.
            await operator.tenants.delete_tenant(id="acme")

            async def refused():
                try:
                    await acme.agents.list_agents()
                    return False
                except RPCError as e:
                    assert e.code in (StatusCode.UNAUTHENTICATED, StatusCode.NOT_FOUND, StatusCode.PERMISSION_DENIED), e
                    return True
            assert await eventually(refused), "the deleted tenant's key still works after 10 s"
        assert [t.id async for t in operator.all_tenants()] == ["default"]


# --- The CLI ---------------------------------------------------------------------------------------

def cli(server, *arguments, env=None):
    done = subprocess.run([str(CLI), *arguments, "--server", server.target], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))
    return done.returncode, done.stdout + done.stderr


def test_cli_tenant_commands_and_global_tenant(server):
    status, output = cli(server, "tenant", "create", "acme", "--name", "Acme Corp", "--max-agents", "1",
                         "--max-watchers", "3")
    assert status == 0, output
    assert "acme" in output and "Acme Corp" in output and "maxAgents=1" in output
    status, output = cli(server, "tenant", "create", "beta")
    assert status == 0, output
    assert cli(server, "tenant", "create", "acme")[0] == 106  # 100 + ALREADY_EXISTS

    # Calls act in --tenant, or in SWITCHBOARD_TENANT.
    status, output = cli(server, "agent", "create", "alice", "--name", "Alice", "--tenant", "acme")
    assert status == 0, output
    status, output = cli(server, "agent", "create", "bob", "--name", "Bob", "--tenant", "acme")
    assert status == 108 and "max_agents" in output, output  # 100 + RESOURCE_EXHAUSTED
    status, output = cli(server, "agent", "create", "bob", "--name", "Bob", env={"SWITCHBOARD_TENANT": "beta"})
    assert status == 0, output
    assert "alice" in cli(server, "agent", "list", "--tenant", "acme")[1]
    assert cli(server, "agent", "get", "alice")[0] == 105  # `default` has no alice
    assert cli(server, "agent", "get", "alice", "--tenant", "beta")[0] == 105
    status, output = cli(server, "agent", "list", "--tenant", "nope")
    assert status == 105 and "tenant 'nope' does not exist" in output, output

    status, output = cli(server, "tenant", "get", "acme", "--output", "json")
    assert status == 0, output
    tenant = json.loads(output)
    assert tenant["id"] == "acme" and tenant["displayName"] == "Acme Corp"
    assert tenant["quotas"] == {"maxAgents": 1, "maxWatchers": 3}
    assert tenant["usage"]["agents"] == 1
    status, output = cli(server, "tenant", "get", "beta")
    assert status == 0 and "usage" in output and "agents=1" in output and "maxAgents=0" in output, output

    # update: only the quotas given change.
    status, output = cli(server, "tenant", "update", "acme", "--max-open-sessions", "5", "--output", "json")
    assert status == 0, output
    assert json.loads(output)["quotas"] == {"maxAgents": 1, "maxOpenSessions": 5, "maxWatchers": 3}
    status, output = cli(server, "tenant", "update", "acme", "--name", "ACME", "--max-agents", "0", "--output", "json")
    assert status == 0, output
    updated = json.loads(output)
    assert updated["displayName"] == "ACME" and updated["quotas"] == {"maxOpenSessions": 5, "maxWatchers": 3}
    assert cli(server, "tenant", "update", "acme")[0] == 64  # nothing to change
    assert cli(server, "tenant", "update", "nope", "--max-agents", "1")[0] == 105

    status, output = cli(server, "tenant", "list", "--page-size", "1", "--output", "json")
    assert status == 0, output
    assert [t["id"] for t in json.loads(output)["tenants"]] == ["acme", "beta", "default"]  # every page
    status, output = cli(server, "tenant", "list")
    assert status == 0, output
    lines = output.splitlines()
    assert lines[0].split()[:2] == ["ID", "DISPLAYNAME"] and [line.split()[0] for line in lines[1:]] == ["acme", "beta", "default"]

    assert cli(server, "tenant", "delete", "default")[0] == 109  # 100 + FAILED_PRECONDITION
    assert cli(server, "tenant", "delete", "beta")[0] == 0
    assert cli(server, "tenant", "get", "beta")[0] == 105
    status, output = cli(server, "agent", "list", "--tenant", "beta")
    assert status == 105 and "tenant 'beta' does not exist" in output, output
    # The tenant commands act in no tenant: a --tenant naming none does not get in their way.
    assert cli(server, "tenant", "list", env={"SWITCHBOARD_TENANT": "beta"})[0] == 0
