"""The Switchboard client: the three services and health on one channel, and resuming watches."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator, Callable, Optional, Type, TypeVar

from google.protobuf.message import Message

from switchboard.rpc import Channel, MetadataLike, RPCError, ServerStream, StatusCode, _metadata_pairs
from switchboard.v1 import agent_pb2, session_pb2
from switchboard.v1.agent_ttrpc import AgentServiceClient
from switchboard.v1.health_ttrpc import HealthClient
from switchboard.v1.session_ttrpc import SessionServiceClient
from switchboard.v1.settings_ttrpc import SettingsServiceClient

__all__ = ["Client", "DEFAULT_TARGET"]

#: Where `switchboard-server` listens by default.
DEFAULT_TARGET = "127.0.0.1:7420"

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

    `health`, `settings`, `agents` and `sessions` are the typed stubs of the services; every call
    takes `timeout=` (seconds; default the client's `timeout`) and `metadata=`, and raises
    `RPCError` with the status code. `token` is sent as `authorization: Bearer <token>`.
    """

    def __init__(self, target: str = DEFAULT_TARGET, *, token: Optional[str] = None,
                 metadata: Optional[MetadataLike] = None, timeout: Optional[float] = 10.0) -> None:
        pairs = _metadata_pairs(metadata)
        if token:
            pairs.append(("authorization", f"Bearer {token}"))
        self.target = target
        self._metadata = pairs
        self.channel = Channel(target, metadata=pairs, timeout=timeout)
        self.health = HealthClient(self.channel)
        self.settings = SettingsServiceClient(self.channel)
        self.agents = AgentServiceClient(self.channel)
        self.sessions = SessionServiceClient(self.channel)

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

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
