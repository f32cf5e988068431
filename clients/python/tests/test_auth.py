"""API keys end to end: keys made by `switchboard-server keys`, used by the Python client and the
CLI, revoked while the server runs; the hook call carrying `--hook-token`."""
import asyncio
import os
import subprocess

import pytest

from conftest import BINARY, REPOSITORY, ServerProcess, eventually, run_async
from switchboard import Client, RPCError, StatusCode
from switchboard.allocation import serve_allocation_hook, to_group
from switchboard.v1 import agent_pb2, session_pb2, settings_pb2

CLI = REPOSITORY / ".build/debug/switchboard-cli"


def make_key(server, *arguments):
    """A new key in the database of `server` (a ServerProcess, running or not)."""
    done = subprocess.run([str(BINARY), "keys", "create", *server.store_args, *arguments],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def secured(tmp_path):
    process = ServerProcess(tmp_path / "data")
    keys = {
        "admin": make_key(process, "--role", "admin"),
        "gateway": make_key(process, "--role", "gateway"),
        "alice": make_key(process, "--role", "agent", "--agent", "alice"),
    }
    process.extra_args = ["--hook-token", "hook-secret"]
    process.start()
    yield process, keys
    process.stop()


async def expect_code(code, call):
    with pytest.raises(RPCError) as failure:
        await call
    assert failure.value.code == code, failure.value
    return failure.value


@run_async
async def test_roles_with_the_python_client(secured):
    server, keys = secured
    async with Client(server.target, token=keys["admin"]) as admin, \
            Client(server.target, token=keys["gateway"]) as gateway, \
            Client(server.target, token=keys["alice"]) as alice, \
            Client(server.target) as anonymous:
        assert (await anonymous.health.check()).server_version  # Health is open
        error = await expect_code(StatusCode.UNAUTHENTICATED, anonymous.agents.list_agents())
        assert "authorization" in error.message
        await expect_code(StatusCode.UNAUTHENTICATED, Client(server.target, token="sbk_nope").agents.list_agents())

        for agent_id in ("alice", "bob"):
            await admin.agents.create_agent(id=agent_id, display_name=agent_id)
        await expect_code(StatusCode.PERMISSION_DENIED, gateway.agents.create_agent(id="carol", display_name="c"))
        await expect_code(StatusCode.PERMISSION_DENIED, alice.settings.get_settings())
        await expect_code(StatusCode.PERMISSION_DENIED, alice.sessions.create_session(user_id="u"))

        me = await alice.agents.set_agent_status(status=agent_pb2.AGENT_STATUS_ONLINE)  # no id: the key's agent
        assert me.id == "alice" and me.status == agent_pb2.AGENT_STATUS_ONLINE
        error = await expect_code(StatusCode.PERMISSION_DENIED,
                                  alice.agents.set_agent_status(id="bob", status=agent_pb2.AGENT_STATUS_ONLINE))
        assert "'alice'" in error.message and "'bob'" in error.message

        session = await gateway.sessions.create_session(user_id="u1")
        routed = await gateway.sessions.request_agent(session_id=session.id)
        assert routed.agent_id == "alice"
        await alice.agents.send_agent_message(session_id=session.id, text="Hello from alice")
        events = alice.watch_agent("")  # her own stream
        first = await asyncio.wait_for(events.__anext__(), 10)
        assert first.WhichOneof("event") in ("status_changed", "assigned_session_id")
        await events.aclose()
        with pytest.raises(RPCError) as other:
            async for _ in alice.watch_agent("bob"):
                pass
        assert other.value.code == StatusCode.PERMISSION_DENIED


async def lets_in(client):
    """Whether the client's key is let in (False when it is UNAUTHENTICATED)."""
    try:
        await client.sessions.list_groups()
        return True
    except RPCError as e:
        assert e.code == StatusCode.UNAUTHENTICATED, e
        return False


async def shut_out(client):
    return not await lets_in(client)


@run_async
async def test_revocation_takes_effect_while_the_server_runs(secured):
    server, keys = secured
    async with Client(server.target, token=keys["gateway"]) as gateway:
        await gateway.sessions.list_groups()
        key_id = keys["gateway"][4:16]
        subprocess.run([str(BINARY), "keys", "revoke", key_id, *server.store_args], check=True,
                       capture_output=True)
        # The server reloads keys every 2 s.
        assert await eventually(lambda: shut_out(gateway)), "the revoked key still works after 10 s"
        # A key made while the server runs works within the reload interval too.
        fresh = make_key(server, "--role", "gateway")
        async with Client(server.target, token=fresh) as client:
            assert await eventually(lambda: lets_in(client)), "the new key does not work after 10 s"


def test_cli_passes_the_token(secured):
    server, keys = secured
    target = ["--server", server.target]
    denied = subprocess.run([str(CLI), "agent", "list", *target], capture_output=True, text=True)
    assert denied.returncode == 116, denied.stdout + denied.stderr  # 100 + UNAUTHENTICATED
    assert "UNAUTHENTICATED" in denied.stdout + denied.stderr
    allowed = subprocess.run([str(CLI), "agent", "create", "zoe", "--name", "Zoe", *target, "--token", keys["admin"]],
                             capture_output=True, text=True)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    environment = dict(os.environ, SWITCHBOARD_TOKEN=keys["gateway"])
    wrong_role = subprocess.run([str(CLI), "agent", "list", *target], capture_output=True, text=True, env=environment)
    assert wrong_role.returncode == 107, wrong_role.stdout + wrong_role.stderr  # 100 + PERMISSION_DENIED


@run_async
async def test_the_hook_call_carries_the_hook_token(secured):
    server, keys = secured
    hook = await serve_allocation_hook(lambda request: to_group("vip"), port=0, token="hook-secret")
    strict = await serve_allocation_hook(lambda request: to_group("vip"), port=0, token="another-secret")
    try:
        async with Client(server.target, token=keys["admin"]) as admin:
            await admin.agents.create_group(id="vip", name="VIP")
            await admin.agents.create_agent(id="vera", display_name="Vera")
            await admin.agents.add_group_member(group_id="vip", agent_id="vera")
            await admin.agents.set_agent_status(id="vera", status=agent_pb2.AGENT_STATUS_ONLINE)
            for port, expected_group in ((hook.port, "vip"), (strict.port, "")):
                document = await admin.settings.get_settings()
                await admin.settings.update_settings(expected_version=document.version, settings=settings_pb2.Settings(
                    allocation=settings_pb2.Settings.Allocation(
                        policy=settings_pb2.Settings.Allocation.POLICY_BUSINESS_SERVER,
                        hook_address=f"127.0.0.1:{port}", hook_deadline_ms=2000,
                        fallback=settings_pb2.Settings.Allocation.FALLBACK_AUTOMATIC)))
                session = await admin.sessions.create_session(user_id="u")
                routed = await admin.sessions.request_agent(session_id=session.id)
                # The right token: the hook's group. The wrong one: refused, so the fallback
                # (automatic) applies and no group is set.
                assert routed.group_id == expected_group, routed
                assert routed.state == session_pb2.SESSION_STATE_ACTIVE
                await admin.agents.close_session(agent_id="vera", session_id=session.id)
    finally:
        await hook.stop()
        await strict.stop()
