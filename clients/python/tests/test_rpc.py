"""The ttrpc layer alone: the Python server and channel against each other (no switchboard-server)."""
import asyncio
import struct

import pytest

from conftest import eventually, run_async
from switchboard import TENANT_METADATA_KEY, Channel, Client, RPCError, StatusCode
from switchboard.allocation import serve_allocation_hook, to_agents
from switchboard.hook.v1 import hook_pb2
from switchboard.hook.v1.hook_ttrpc import AllocationHookClient, AllocationHookServicer
from switchboard.rpc import Server
from switchboard.ttrpc import request_pb2
from switchboard.v1 import tenant_pb2
from switchboard.v1.tenant_ttrpc import TenantServiceServicer


class SlowHook(AllocationHookServicer):
    def __init__(self):
        self.cancelled = asyncio.Event()
        self.metadata = None

    async def allocate(self, request, context):
        self.metadata = context.metadata
        if request.session_id == "slow":
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        if request.session_id == "refuse":
            raise RPCError(StatusCode.FAILED_PRECONDITION, "field 'session_id': refused")
        if request.session_id == "bug":
            raise ValueError("oops")
        return to_agents(["a", "b"])


@run_async
async def test_deadline_metadata_and_errors_over_the_python_server():
    hook = SlowHook()
    server = Server(hook)
    port = await server.start()
    try:
        async with Channel(f"127.0.0.1:{port}", metadata={"authorization": "Bearer k"}) as channel:
            client = AllocationHookClient(channel)
            answer = await client.allocate(session_id="s", metadata=[("request-id", "r1"), ("x", "1"), ("x", "2")])
            assert list(answer.agents.agent_ids) == ["a", "b"]
            assert hook.metadata == [("authorization", "Bearer k"), ("request-id", "r1"), ("x", "1"), ("x", "2")]

            with pytest.raises(RPCError) as late:
                await client.allocate(session_id="slow", timeout=0.2)
            assert late.value.code == StatusCode.DEADLINE_EXCEEDED
            await asyncio.wait_for(hook.cancelled.wait(), 5)  # the server cancelled the handler

            with pytest.raises(RPCError) as refused:
                await client.allocate(session_id="refuse")
            assert (refused.value.code, refused.value.message) == (StatusCode.FAILED_PRECONDITION, "field 'session_id': refused")
            with pytest.raises(RPCError) as bug:
                await client.allocate(session_id="bug")
            assert bug.value.code == StatusCode.INTERNAL
            with pytest.raises(RPCError) as unknown:
                await channel.unary("switchboard.hook.v1.Nope", "Allocate", hook_pb2.AllocateRequest(),
                                    hook_pb2.AllocateResponse)
            assert unknown.value.code == StatusCode.UNIMPLEMENTED and "service" in unknown.value.message
            # The connection survived every failure.
            assert (await client.allocate(session_id="again")).agents.agent_ids == ["a", "b"]
    finally:
        await server.stop()


@run_async
async def test_connection_loss_fails_calls_in_flight_and_the_next_call_reconnects():
    hook = SlowHook()
    server = Server(hook)
    port = await server.start()
    async with Channel(f"127.0.0.1:{port}") as channel:
        client = AllocationHookClient(channel)
        pending = asyncio.create_task(client.allocate(session_id="slow"))
        await asyncio.sleep(0.1)
        await server.stop()
        with pytest.raises(RPCError) as lost:
            await pending
        assert lost.value.code == StatusCode.UNAVAILABLE
        server = Server(hook)
        await server.start(port=port)
        try:
            assert (await client.allocate(session_id="s")).agents.agent_ids == ["a", "b"]
        finally:
            await server.stop()


@run_async
async def test_the_server_answers_protocol_errors_and_keeps_serving():
    server = await serve_allocation_hook(lambda request: to_agents([request.user_id]), port=0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)

        async def call(stream_id, data, flags=0):
            writer.write(struct.pack(">IIBB", len(data), stream_id, 1, flags) + data)
            length, answered_id, frame_type, _ = struct.unpack(">IIBB", await reader.readexactly(10))
            assert (answered_id, frame_type) == (stream_id, 2)
            return request_pb2.Response.FromString(await reader.readexactly(length))

        good = request_pb2.Request(service="switchboard.hook.v1.AllocationHook", method="Allocate",
                                   payload=hook_pb2.AllocateRequest(user_id="u").SerializeToString())
        assert (await call(1, b"\xff\xff")).status.code == StatusCode.INVALID_ARGUMENT  # not an envelope
        assert (await call(3, good.SerializeToString(), flags=2)).status.code == StatusCode.UNIMPLEMENTED
        assert (await call(2, good.SerializeToString())).status.code == StatusCode.INVALID_ARGUMENT  # even id
        answer = await call(5, good.SerializeToString())
        assert answer.status.code == 0
        assert hook_pb2.AllocateResponse.FromString(answer.payload).agents.agent_ids == ["u"]
        writer.close()
    finally:
        await server.stop()


async def opens_a_stream(health):
    """Whether a Health/Watch stream opens (False when the server has no place for it)."""
    try:
        async with health.watch() as probe:
            await probe.__anext__()
        return True
    except RPCError as e:
        assert e.code == StatusCode.RESOURCE_EXHAUSTED, e
        return False


@run_async
async def test_a_cancelled_stream_ends_on_the_server(tmp_path):
    from server_process import ServerProcess
    from switchboard.v1 import health_pb2
    from switchboard.v1.health_ttrpc import HealthClient

    server = ServerProcess(tmp_path / "data")
    server.extra_args = ["--max-watchers", "1"]
    server.start()
    try:
        async with Channel(server.target) as channel:
            health = HealthClient(channel)
            for _ in range(5):  # each stream takes the one place, and gives it back when cancelled
                async with health.watch() as stream:
                    first = await stream.__anext__()
                    assert first.status == health_pb2.HealthCheckResponse.SERVING_STATUS_SERVING
                # The server ends the call a moment later.
                assert await eventually(lambda: opens_a_stream(health)), "the cancelled stream still holds its place"
    finally:
        server.stop()


class RecordingTenants(TenantServiceServicer):
    """Two pages of tenants; records each call's metadata."""

    def __init__(self):
        self.metadata = []

    async def list_tenants(self, request, context):
        self.metadata.append(context.metadata)
        if not request.page_token:
            return tenant_pb2.ListTenantsResponse(tenants=[tenant_pb2.Tenant(id="acme")], next_page_token="2")
        return tenant_pb2.ListTenantsResponse(tenants=[tenant_pb2.Tenant(id="default")])


@run_async
async def test_the_client_names_its_tenant_on_every_call():
    tenants = RecordingTenants()
    server = Server(tenants)
    port = await server.start()
    try:
        async with Client(f"127.0.0.1:{port}", token="key", tenant="acme",
                          metadata={TENANT_METADATA_KEY: "replaced", "request-id": "r"}) as client:
            assert client.tenant == "acme"
            assert [t.id async for t in client.all_tenants(page_size=1)] == ["acme", "default"]
        assert len(tenants.metadata) == 2
        for metadata in tenants.metadata:
            assert [v for k, v in metadata if k == TENANT_METADATA_KEY] == ["acme"]
            assert ("authorization", "Bearer key") in metadata and ("request-id", "r") in metadata
        async with Client(f"127.0.0.1:{port}") as plain:
            assert plain.tenant is None
            await plain.tenants.list_tenants()
        assert not [k for k, _ in tenants.metadata[-1] if k == TENANT_METADATA_KEY]
    finally:
        await server.stop()
