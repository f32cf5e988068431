"""Switchboard's Python client.

* `Client`: the services (`health`, `settings`, `agents`, `sessions`, `tenants`) as typed asyncio
  stubs, and `watch_session` / `watch_agent`, event streams that resume by themselves;
  `Client(target, tenant="acme")` acts in one tenant (metadata `TENANT_METADATA_KEY`).
* `RPCError`, `StatusCode`: every failed call raises `RPCError` with its gRPC status code.
* `switchboard.allocation.serve_allocation_hook`: serve the business-server hook.
* `switchboard.v1.*_pb2`: the messages (Google's protobuf, generated from `Protos/`).
* `switchboard.rpc`: the ttrpc channel and server underneath.
"""
from switchboard.client import DEFAULT_TARGET, TENANT_METADATA_KEY, Client
from switchboard.rpc import Channel, RPCError, ServerStream, StatusCode

__all__ = ["Client", "Channel", "RPCError", "ServerStream", "StatusCode", "DEFAULT_TARGET", "TENANT_METADATA_KEY"]
__version__ = "0.1.0"
