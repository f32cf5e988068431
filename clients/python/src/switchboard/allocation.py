"""Serve `switchboard.hook.v1.AllocationHook`: let your business server choose the agent.

```python
from switchboard.allocation import serve_allocation_hook, to_group, reject, automatic

async def allocate(request):
    if request.attributes.get("blocked") == "true":
        return reject("Sorry, we cannot take your request.")
    if request.attributes.get("tier") == "vip":
        return to_group("vip")
    return automatic()

server = await serve_allocation_hook(allocate, port=7500)
await server.serve_forever()
```

Then set `allocation.policy` to `BUSINESS_SERVER` and `allocation.hook_address` to this address.
Switchboard calls `Allocate` with a deadline (`hook_deadline_ms`) and may retry a call once with
the same `idempotency_key`: the function must give the same answer to both.
"""
from __future__ import annotations

import inspect
from typing import Awaitable, Callable, Iterable, Optional, Union

from switchboard.hook.v1 import hook_pb2
from switchboard.hook.v1.hook_ttrpc import AllocationHookServicer
from switchboard.rpc import RPCError, Server, ServerContext, StatusCode

__all__ = ["serve_allocation_hook", "to_group", "to_agents", "reject", "automatic", "AllocateFunction"]

AllocateFunction = Callable[[hook_pb2.AllocateRequest],
                            Union[hook_pb2.AllocateResponse, Awaitable[hook_pb2.AllocateResponse]]]


def to_group(group_id: str) -> hook_pb2.AllocateResponse:
    """Route the session to a group (Switchboard picks the agent in it)."""
    return hook_pb2.AllocateResponse(group_id=group_id)


def to_agents(agent_ids: Iterable[str]) -> hook_pb2.AllocateResponse:
    """Route the session to one of these agents (the first known, online one with capacity)."""
    return hook_pb2.AllocateResponse(agents=hook_pb2.AgentList(agent_ids=list(agent_ids)))


def reject(message: str) -> hook_pb2.AllocateResponse:
    """Refuse the request; `message` is sent to the user."""
    return hook_pb2.AllocateResponse(reject=hook_pb2.Rejection(message=message))


def automatic() -> hook_pb2.AllocateResponse:
    """Let Switchboard allocate as it would without the hook."""
    return hook_pb2.AllocateResponse(automatic=True)


class _FunctionHook(AllocationHookServicer):
    def __init__(self, allocate: AllocateFunction) -> None:
        self._allocate = allocate

    async def allocate(self, request: hook_pb2.AllocateRequest, context: ServerContext) -> hook_pb2.AllocateResponse:
        answer = self._allocate(request)
        if inspect.isawaitable(answer):
            answer = await answer
        if not isinstance(answer, hook_pb2.AllocateResponse):
            raise RPCError(StatusCode.INTERNAL,
                           f"the allocate function returned {type(answer).__name__}, not an AllocateResponse")
        return answer


async def serve_allocation_hook(allocate: Union[AllocateFunction, AllocationHookServicer],
                                host: str = "127.0.0.1", port: int = 7500, *,
                                token: Optional[str] = None) -> Server:
    """Starts serving the hook (port 0 picks a free one: see `server.port`); returns the server.

    `allocate` is a function of the request (plain or async) returning an `AllocateResponse`
    (see `to_group`, `to_agents`, `reject`, `automatic`), or an `AllocationHookServicer`. With
    `token`, calls must carry `authorization: Bearer <token>` (start Switchboard with
    `--hook-token`); others get `UNAUTHENTICATED`. Await `server.serve_forever()` to run until
    cancelled, `server.stop()` to stop.
    """
    servicer = allocate if isinstance(allocate, AllocationHookServicer) else _FunctionHook(allocate)
    server = Server(servicer, token=token)
    await server.start(host, port)
    return server
