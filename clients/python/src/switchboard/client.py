"""The Switchboard client: the services and health on one channel, and resuming watches."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator, Awaitable, Callable, Optional, Type, TypeVar

from google.protobuf.message import Message

from switchboard.rpc import Channel, MetadataLike, RPCError, ServerStream, StatusCode, _metadata_pairs
from switchboard.v1 import agent_pb2, session_pb2, tenant_pb2
from switchboard.v1.agent_ttrpc import AgentServiceClient
from switchboard.v1.health_ttrpc import HealthClient
from switchboard.v1.session_ttrpc import SessionServiceClient
from switchboard.v1.settings_ttrpc import SettingsServiceClient
from switchboard.v1.tenant_ttrpc import TenantServiceClient

__all__ = ["Client", "DEFAULT_TARGET", "TENANT_METADATA_KEY"]

#: Where `switchboard-server` listens by default.
DEFAULT_TARGET = "127.0.0.1:7420"

#: The metadata key that names the tenant a call acts in (`switchboard-tenant: <tenant id>`); without
#: it, a call acts in its API key's tenant, or in `default`.
TENANT_METADATA_KEY = "switchboard-tenant"

log = logging.getLogger("switchboard")
E = TypeVar("E", bound=Message)

#: The codes after which a watch reconnects: the connection dropped or the server is shutting down.
_RESUMABLE = {StatusCode.UNAVAILABLE}


class Client:
    """Calls a Switchboard server.

    ```python
    async with Client("127.0.0.1:7420", token="...") as client:
        await client.agents.create_agent(id="alice", display_name="Alice")
        session = await client.sessions.create_session(user_id="user-42", channel="web")
        async for event in client.watch_session(session.id):
            print(event)
    ```

    `health`, `settings`, `agents`, `sessions` and `tenants` are the typed stubs of the services;
    every call takes `timeout=` (seconds; default the client's `timeout`) and `metadata=`, and
    raises `RPCError` with the status code. `token` is sent as `authorization: Bearer <token>`;
    `tenant` (a tenant id) as `switchboard-tenant: <tenant>`, so that every call acts in that tenant.
    """

    def __init__(self, target: str = DEFAULT_TARGET, *, token: Optional[str] = None,
                 tenant: Optional[str] = None, metadata: Optional[MetadataLike] = None,
                 timeout: Optional[float] = 10.0) -> None:
        pairs = _metadata_pairs(metadata)
        if token:
            pairs.append(("authorization", f"Bearer {token}"))
        if tenant:
            pairs = [(key, value) for key, value in pairs if key.lower() != TENANT_METADATA_KEY]
            pairs.append((TENANT_METADATA_KEY, tenant))
        self.target = target
        self._metadata = pairs
        self.channel = Channel(target, metadata=pairs, timeout=timeout)
        self.health = HealthClient(self.channel)
        self.settings = SettingsServiceClient(self.channel)
        self.agents = AgentServiceClient(self.channel)
        self.sessions = SessionServiceClient(self.channel)
        self.tenants = TenantServiceClient(self.channel)

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    @property
    def tenant(self) -> Optional[str]:
        """The tenant every call names (`switchboard-tenant`), or None when calls name none."""
        return next((value for key, value in self._metadata if key.lower() == TENANT_METADATA_KEY), None)

    def all_agent_sessions(self, agent_id: str, *, page_size: int = 0,
                           timeout: Optional[float] = None) -> AsyncIterator[session_pb2.Session]:
        """Every session OFFERED to or ACTIVE with the agent, by id, page after page
        (`ListAgentSessions`; `page_size` 0 is the server's default)."""
        return _paged(self.agents.list_agent_sessions, "sessions", agent_id=agent_id, page_size=page_size, timeout=timeout)

    def all_agents(self, *, page_size: int = 0, timeout: Optional[float] = None) -> AsyncIterator[agent_pb2.Agent]:
        """Every agent, by id, page after page (`ListAgents`)."""
        return _paged(self.agents.list_agents, "agents", page_size=page_size, timeout=timeout)

    def all_groups(self, *, page_size: int = 0, timeout: Optional[float] = None) -> AsyncIterator[agent_pb2.Group]:
        """Every group, by id, page after page (`AgentService.ListGroups`)."""
        return _paged(self.agents.list_groups, "groups", page_size=page_size, timeout=timeout)

    def all_group_agents(self, group_id: str, *, page_size: int = 0,
                         timeout: Optional[float] = None) -> AsyncIterator[agent_pb2.Agent]:
        """Every agent of a group, by id, page after page (`ListGroupAgents`)."""
        return _paged(self.agents.list_group_agents, "agents", group_id=group_id, page_size=page_size, timeout=timeout)

    def all_tenants(self, *, page_size: int = 0, timeout: Optional[float] = None) -> AsyncIterator[tenant_pb2.Tenant]:
        """Every tenant, by id, page after page (`TenantService.ListTenants`; without usage)."""
        return _paged(self.tenants.list_tenants, "tenants", page_size=page_size, timeout=timeout)

    def all_session_groups(self, *, page_size: int = 0,
                           timeout: Optional[float] = None) -> AsyncIterator[session_pb2.SessionGroup]:
        """Every group a user may choose from, by id, page after page (`SessionService.ListGroups`)."""
        return _paged(self.sessions.list_groups, "groups", page_size=page_size, timeout=timeout)

    async def all_messages(self, session_id: str, after_sequence: int = 0, *, limit: int = 0,
                           timeout: Optional[float] = None) -> AsyncIterator[session_pb2.Message]:
        """Every message of a session's transcript after `after_sequence`, in order (`ListMessages`
        while `more`: an answer holds at most `limit` messages and at most 1 MiB)."""
        while True:
            page = await self.sessions.list_messages(session_id=session_id, after_sequence=after_sequence,
                                                     limit=limit, timeout=timeout)
            for message in page.messages:
                yield message
            if not page.more or not page.messages:
                return
            after_sequence = page.messages[-1].sequence

    def watch_session(self, session_id: str, after_sequence: int = 0, *,
                      retry_delay: float = 0.1, max_retry_delay: float = 2.0) -> AsyncIterator[session_pb2.SessionEvent]:
        """A session's events after `after_sequence`, live, until the caller stops iterating.

        The stream has a connection of its own. When it drops or the server restarts, it
        reconnects (waiting `retry_delay`, doubling up to `max_retry_delay`) and resumes after the
        last event it delivered: no gap, no duplicate. Other errors (`NOT_FOUND`, ...) end it.
        """
        return self._watch(lambda stub, after: stub.sessions.watch_session(session_id=session_id, after_sequence=after, timeout=None),
                           after_sequence, retry_delay, max_retry_delay)

    def watch_agent(self, agent_id: str, after_sequence: int = 0, *,
                    retry_delay: float = 0.1, max_retry_delay: float = 2.0) -> AsyncIterator[agent_pb2.AgentEvent]:
        """An agent's events (offers, assignments, user messages, ...), resuming like `watch_session`."""
        return self._watch(lambda stub, after: stub.agents.watch_agent(agent_id=agent_id, after_sequence=after, timeout=None),
                           after_sequence, retry_delay, max_retry_delay)

    async def _watch(self, start: Callable[["Client", int], ServerStream[E]], after: int,
                     retry_delay: float, max_retry_delay: float) -> AsyncIterator[E]:
        delay = retry_delay
        while True:
            watcher = Client(self.target, metadata=self._metadata, timeout=None)
            try:
                async for event in start(watcher, after):
                    delay = retry_delay
                    if event.sequence <= after:
                        continue  # already delivered before a reconnect
                    after = event.sequence
                    yield event
                return  # the server ended the stream
            except RPCError as e:
                if e.code not in _RESUMABLE:
                    raise
                log.info("watch interrupted (%s); resuming after sequence %d in %.2g s", e, after, delay)
            finally:
                await watcher.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_retry_delay)


async def _paged(call: Callable[..., Awaitable[Any]], items: str, **fields: Any) -> AsyncIterator[Any]:
    """The items of every page of a list method: calls `call(page_token=..., **fields)` with each
    answer's `next_page_token` until it is empty, yielding the answer's `items` field."""
    token = ""
    while True:
        page = await call(page_token=token, **fields)
        for item in getattr(page, items):
            yield item
        token = page.next_page_token
        if not token:
            return
