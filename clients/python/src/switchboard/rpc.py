"""ttrpc over asyncio: a client channel, server streams, status errors and a small server.

The wire format (docs/PROTOCOL.md): every frame is a 10-byte header (data length u32 BE whose
first byte is 0, stream id u32 BE, type u8, flags u8) and its data. A call is a `request` frame
carrying a `ttrpc.Request` on a new odd stream id; a unary call is answered by one `response` frame
(`ttrpc.Response`: a `google.rpc.Status` and the payload); a server stream by `data` frames, ended
by an empty `data` frame with flags `remote closed | no data`, or by a `response` frame carrying
the error.
"""
from __future__ import annotations

import asyncio
import enum
import hmac
import logging
import struct
from typing import (Any, Awaitable, Callable, Dict, Generic, Iterable, List, Mapping, Optional,
                    Sequence, Tuple, Type, TypeVar, Union)

from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2

from switchboard.ttrpc import request_pb2

__all__ = [
    "Channel", "RPCError", "StatusCode", "ServerStream", "Server", "ServerContext", "MetadataLike",
    "build_request", "DEFAULT_MAX_FRAME_BYTES",
]

_HEADER = struct.Struct(">IIBB")
_TYPE_REQUEST, _TYPE_RESPONSE, _TYPE_DATA = 1, 2, 3
_FLAG_REMOTE_CLOSED, _FLAG_REMOTE_OPEN, _FLAG_NO_DATA = 0x01, 0x02, 0x04
#: The largest frame data a peer accepts by default (the server's `--max-frame-bytes`).
DEFAULT_MAX_FRAME_BYTES = 4 << 20
_WIRE_MAX_FRAME_BYTES = (1 << 24) - 1  # the length's first byte is reserved
_STREAM_BUFFER = 256  # messages a stream holds before the connection stops reading

log = logging.getLogger("switchboard")

T = TypeVar("T", bound=Message)
#: Call metadata: a mapping, or pairs (a key may repeat).
MetadataLike = Union[Mapping[str, str], Iterable[Tuple[str, str]]]


class StatusCode(enum.IntEnum):
    """gRPC's status codes, as `google.rpc.Status.code` carries them."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class RPCError(Exception):
    """A call that did not succeed: its status code and message (and the status' details)."""

    def __init__(self, code: Union[StatusCode, int], message: str, details: Sequence[Any] = ()) -> None:
        try:
            code = StatusCode(code)
        except ValueError:
            pass
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.details = list(details)

    @classmethod
    def from_status(cls, status: status_pb2.Status) -> "RPCError":
        return cls(status.code, status.message, status.details)

    def __str__(self) -> str:
        name = self.code.name if isinstance(self.code, StatusCode) else "code"
        return f"{name} ({int(self.code)}): {self.message}"


def build_request(message_type: Type[T], request: Optional[T], fields: Dict[str, Any]) -> T:
    """The request of a typed method: the message given, or one built from keyword fields."""
    if request is None:
        return message_type(**fields)
    if fields:
        raise TypeError(f"pass a {message_type.__name__} or keyword fields, not both")
    if not isinstance(request, message_type):
        raise TypeError(f"expected a {message_type.DESCRIPTOR.full_name}, got {type(request).__name__}")
    return request


def _metadata_pairs(*sources: Optional[MetadataLike]) -> List[Tuple[str, str]]:
    pairs: List[Tuple[str, str]] = []
    for source in sources:
        if source is None:
            continue
        items = source.items() if isinstance(source, Mapping) else source
        pairs.extend((str(k), str(v)) for k, v in items)
    return pairs


def _parse_target(target: str) -> Tuple[str, int]:
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"target {target!r}: expected HOST:PORT, e.g. 127.0.0.1:7420")
    return host.strip("[]"), int(port)


class _Connection:
    """One TCP connection: writes request frames, routes answer frames to their calls by stream id."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str,
                 max_frame_bytes: int) -> None:
        self._reader, self._writer, self._target = reader, writer, target
        self._max_frame_bytes = max_frame_bytes
        self._next_stream_id = 1
        self._calls: Dict[int, Union[asyncio.Future, asyncio.Queue]] = {}
        self.error: Optional[RPCError] = None
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @property
    def usable(self) -> bool:
        return self.error is None and self._next_stream_id < 0xFFFF_FFFF - 2

    def start(self, envelope: bytes, call: Union[asyncio.Future, asyncio.Queue], streaming: bool) -> int:
        if self.error is not None:
            raise self.error
        stream_id = self._next_stream_id
        self._next_stream_id += 2
        self._calls[stream_id] = call
        flags = _FLAG_REMOTE_CLOSED if streaming else 0
        self._writer.write(_HEADER.pack(len(envelope), stream_id, _TYPE_REQUEST, flags) + envelope)
        return stream_id

    async def drain(self) -> None:
        await self._writer.drain()

    def forget(self, stream_id: int) -> None:
        self._calls.pop(stream_id, None)

    def cancel_stream(self, stream_id: int) -> None:
        """Stops a server stream: forgets it and tells the server (Switchboard's extension of
        ttrpc: an empty data frame flagged `no data` alone; other servers ignore it)."""
        if self._calls.pop(stream_id, None) is not None and self.error is None and not self._writer.is_closing():
            self._writer.write(_HEADER.pack(0, stream_id, _TYPE_DATA, _FLAG_NO_DATA))

    async def close(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    async def _read_loop(self) -> None:
        error = RPCError(StatusCode.UNAVAILABLE, f"the connection to {self._target} was closed")
        try:
            while True:
                header = await self._reader.readexactly(_HEADER.size)
                length, stream_id, frame_type, flags = _HEADER.unpack(header)
                if length > max(self._max_frame_bytes, _WIRE_MAX_FRAME_BYTES):
                    error = RPCError(StatusCode.RESOURCE_EXHAUSTED,
                                     f"{self._target} sent a frame of {length} bytes")
                    break
                data = await self._reader.readexactly(length) if length else b""
                call = self._calls.get(stream_id)
                if call is None:
                    continue  # a call given up on (deadline, cancellation)
                if isinstance(call, asyncio.Future):
                    if frame_type == _TYPE_RESPONSE:
                        self._calls.pop(stream_id, None)
                        if not call.done():
                            call.set_result(data)
                    continue
                if frame_type == _TYPE_DATA:
                    if not flags & _FLAG_NO_DATA:
                        await call.put(data)
                    if flags & _FLAG_REMOTE_CLOSED:
                        self._calls.pop(stream_id, None)
                        await call.put(None)
                elif frame_type == _TYPE_RESPONSE:
                    self._calls.pop(stream_id, None)
                    await call.put(_decode_status(data))
        except asyncio.IncompleteReadError:
            pass
        except asyncio.CancelledError:
            error = RPCError(StatusCode.CANCELLED, f"the connection to {self._target} was closed by the client")
        except OSError as e:
            error = RPCError(StatusCode.UNAVAILABLE, f"the connection to {self._target} failed: {e}")
        finally:
            self.error = error
            calls, self._calls = self._calls, {}
            for call in calls.values():
                if isinstance(call, asyncio.Future):
                    if not call.done():
                        call.set_exception(error)
                else:
                    _put_nowait_forcing(call, error)
            self._writer.close()


def _put_nowait_forcing(queue: asyncio.Queue, item: Any) -> None:
    """Ends a stream's queue even when it is full (the consumer sees the end after what it holds)."""
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:
        queue._queue.append(item)  # type: ignore[attr-defined]  # one slot over the bound, once


def _decode_status(data: bytes) -> RPCError:
    """The status of a `response` frame ending a stream: an error, or OK (the end)."""
    try:
        response = request_pb2.Response.FromString(data)
    except DecodeError as e:
        return RPCError(StatusCode.INTERNAL, f"undecodable response envelope: {e}")
    return RPCError.from_status(response.status)


class Channel:
    """A client of one ttrpc server: any number of concurrent calls share one connection.

    The connection opens on the first call. When it breaks, the calls in flight fail with
    `UNAVAILABLE` and the next call opens a new one. `metadata` and `timeout` (seconds) apply to
    every call unless the call names its own timeout; a call's metadata adds to the channel's.
    """

    def __init__(self, target: str = "127.0.0.1:7420", *, metadata: Optional[MetadataLike] = None,
                 timeout: Optional[float] = None, connect_timeout: float = 5.0,
                 max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.target = target
        self._host, self._port = _parse_target(target)
        self._metadata = _metadata_pairs(metadata)
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_frame_bytes = max_frame_bytes
        self._connection: Optional[_Connection] = None
        self._connecting: Optional[asyncio.Lock] = None
        self._closed = False

    async def __aenter__(self) -> "Channel":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the connection; calls in flight fail with `CANCELLED`."""
        self._closed = True
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()

    async def _connect(self, deadline: Optional[float]) -> _Connection:
        if self._closed:
            raise RPCError(StatusCode.CANCELLED, "the channel is closed")
        connection = self._connection
        if connection is not None and connection.usable:
            return connection
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            connection = self._connection
            if connection is not None and connection.usable:
                return connection
            loop = asyncio.get_running_loop()
            wait = self._connect_timeout
            if deadline is not None:
                wait = min(wait, max(deadline - loop.time(), 0))
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self._host, self._port), wait)
            except asyncio.TimeoutError:
                raise RPCError(StatusCode.UNAVAILABLE if deadline is None or loop.time() < deadline
                               else StatusCode.DEADLINE_EXCEEDED,
                               f"connecting to {self.target} took over {wait:.3g} s") from None
            except OSError as e:
                raise RPCError(StatusCode.UNAVAILABLE, f"cannot connect to {self.target}: {e}") from None
            self._connection = _Connection(reader, writer, self.target, self._max_frame_bytes)
            return self._connection

    def _envelope(self, service: str, method: str, request: Message, timeout: Optional[float],
                  metadata: Optional[MetadataLike]) -> bytes:
        if timeout is not None and timeout <= 0:
            raise RPCError(StatusCode.DEADLINE_EXCEEDED, f"the timeout of {service}/{method} is not positive")
        envelope = request_pb2.Request(
            service=service, method=method, payload=request.SerializeToString(),
            timeout_nano=int(timeout * 1e9) if timeout is not None else 0,
            metadata=[request_pb2.KeyValue(key=k, value=v) for k, v in _metadata_pairs(self._metadata, metadata)],
        ).SerializeToString()
        if len(envelope) > self._max_frame_bytes:
            raise RPCError(StatusCode.RESOURCE_EXHAUSTED,
                           f"the request of {service}/{method} is {len(envelope)} bytes, over the limit of "
                           f"{self._max_frame_bytes}")
        return envelope

    async def unary(self, service: str, method: str, request: Message, response_type: Type[T], *,
                    timeout: Optional[float] = None, metadata: Optional[MetadataLike] = None) -> T:
        """Calls a unary method; raises `RPCError` unless the status is OK."""
        timeout = self._timeout if timeout is None else timeout
        envelope = self._envelope(service, method, request, timeout, metadata)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout is not None else None
        connection = await self._connect(deadline)
        answer = loop.create_future()
        stream_id = connection.start(envelope, answer, streaming=False)
        try:
            await connection.drain()
            if deadline is None:
                data = await answer
            else:
                data = await asyncio.wait_for(answer, max(deadline - loop.time(), 0))
        except asyncio.TimeoutError:
            raise RPCError(StatusCode.DEADLINE_EXCEEDED,
                           f"{service}/{method}: deadline of {timeout:.3g} s exceeded") from None
        except OSError as e:
            raise RPCError(StatusCode.UNAVAILABLE, f"{service}/{method}: {e}") from None
        finally:
            connection.forget(stream_id)
        try:
            response = request_pb2.Response.FromString(data)
        except DecodeError as e:
            raise RPCError(StatusCode.INTERNAL, f"{service}/{method}: undecodable response envelope: {e}") from None
        if response.status.code != 0:
            raise RPCError.from_status(response.status)
        try:
            return response_type.FromString(response.payload)
        except DecodeError as e:
            raise RPCError(StatusCode.INTERNAL,
                           f"{service}/{method}: undecodable {response_type.DESCRIPTOR.full_name}: {e}") from None

    def server_stream(self, service: str, method: str, request: Message, response_type: Type[T], *,
                      timeout: Optional[float] = None, metadata: Optional[MetadataLike] = None) -> "ServerStream[T]":
        """Starts a server-streaming call when first iterated; see `ServerStream`."""
        timeout = self._timeout if timeout is None else timeout
        envelope = self._envelope(service, method, request, timeout, metadata)
        return ServerStream(self, f"{service}/{method}", envelope, response_type, timeout)


class ServerStream(Generic[T]):
    """The messages of a server-streaming call, as an async iterator.

    The call starts on the first iteration. Iteration ends when the server ends the stream and
    raises `RPCError` when it fails (`UNAVAILABLE` when the connection drops). `cancel()` (or
    leaving an `async with` block) ends it, on the server too.
    """

    def __init__(self, channel: Channel, name: str, envelope: bytes, response_type: Type[T],
                 timeout: Optional[float]) -> None:
        self._channel, self._name, self._envelope = channel, name, envelope
        self._response_type, self._timeout = response_type, timeout
        self._queue: Optional[asyncio.Queue] = None
        self._connection: Optional[_Connection] = None
        self._stream_id = 0
        self._deadline: Optional[float] = None
        self._done = False

    def __aiter__(self) -> "ServerStream[T]":
        return self

    async def __aenter__(self) -> "ServerStream[T]":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.cancel()

    def cancel(self) -> None:
        """Stops the stream: no more messages are delivered and the server ends the call."""
        self._done = True
        if self._connection is not None:
            self._connection.cancel_stream(self._stream_id)

    async def __anext__(self) -> T:
        if self._done:
            raise StopAsyncIteration
        loop = asyncio.get_running_loop()
        if self._queue is None:
            self._deadline = loop.time() + self._timeout if self._timeout is not None else None
            self._connection = await self._channel._connect(self._deadline)
            self._queue = asyncio.Queue(_STREAM_BUFFER)
            self._stream_id = self._connection.start(self._envelope, self._queue, streaming=True)
            await self._connection.drain()
        try:
            if self._deadline is None:
                item = await self._queue.get()
            else:
                item = await asyncio.wait_for(self._queue.get(), max(self._deadline - loop.time(), 0))
        except asyncio.TimeoutError:
            self.cancel()
            raise RPCError(StatusCode.DEADLINE_EXCEEDED,
                           f"{self._name}: deadline of {self._timeout:.3g} s exceeded") from None
        if item is None:
            self._done = True
            raise StopAsyncIteration
        if isinstance(item, RPCError):
            self._done = True
            if item.code == StatusCode.OK:
                raise StopAsyncIteration
            raise item
        try:
            return self._response_type.FromString(item)
        except DecodeError as e:
            self.cancel()
            raise RPCError(StatusCode.INTERNAL,
                           f"{self._name}: undecodable {self._response_type.DESCRIPTOR.full_name}: {e}") from None


# --- server -------------------------------------------------------------------------------------

class ServerContext:
    """What a server handler knows of its call: metadata, deadline, peer."""

    def __init__(self, metadata: List[Tuple[str, str]], deadline: Optional[float], peer: str) -> None:
        self.metadata = metadata
        self.deadline = deadline  # the event loop's clock, or None
        self.peer = peer

    def time_remaining(self) -> Optional[float]:
        """Seconds left before the caller's deadline, or None without one."""
        if self.deadline is None:
            return None
        return max(self.deadline - asyncio.get_running_loop().time(), 0.0)

    def get(self, key: str) -> Optional[str]:
        """The first value of a metadata key."""
        return next((v for k, v in self.metadata if k == key), None)


Handler = Callable[[Any, ServerContext], Awaitable[Message]]


class Server:
    """A ttrpc server of unary methods, for servicers generated in `*_ttrpc.py`.

    Each call runs as its own task; answers are written as calls finish. A handler's `RPCError`
    becomes the call's status; `NotImplementedError` is `UNIMPLEMENTED`; any other exception is
    `INTERNAL` (and logged). The caller's deadline cancels the handler (`DEADLINE_EXCEEDED`).
    With `token`, every call must carry `authorization: Bearer <token>` (compared in constant
    time); others are `UNAUTHENTICATED` before any handler runs.
    """

    def __init__(self, *servicers: Any, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
                 token: Optional[str] = None) -> None:
        self._expected_authorization = f"Bearer {token}".encode() if token else None
        self._methods: Dict[Tuple[str, str], Tuple[Type[Message], Handler]] = {}
        for servicer in servicers:
            for name, entry in servicer.ttrpc_methods().items():
                self._methods[(servicer.SERVICE, name)] = entry
        self._max_frame_bytes = max_frame_bytes
        self._server: Optional[asyncio.AbstractServer] = None
        self._connections: set = set()
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listens (port 0 picks a free port); returns the port."""
        self._server = await asyncio.start_server(self._serve_connection, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def serve_forever(self) -> None:
        assert self._server is not None, "start() first"
        await self._server.serve_forever()

    async def stop(self) -> None:
        """Stops listening and closes every connection (cancelling their calls)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> "Server":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        peer = "%s:%s" % writer.get_extra_info("peername")[:2]
        calls: Dict[int, asyncio.Task] = {}
        last_stream_id = 0

        def answer(stream_id: int, status: status_pb2.Status, payload: bytes = b"") -> None:
            data = request_pb2.Response(status=status, payload=payload).SerializeToString()
            if not writer.is_closing():
                writer.write(_HEADER.pack(len(data), stream_id, _TYPE_RESPONSE, 0) + data)

        def fail(stream_id: int, code: StatusCode, message: str) -> None:
            answer(stream_id, status_pb2.Status(code=int(code), message=message))

        try:
            while True:
                length, stream_id, frame_type, flags = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                if length >> 24:
                    log.warning("closing %s: a frame length with a nonzero reserved byte", peer)
                    break
                if length > self._max_frame_bytes:
                    while length:  # skip it without buffering
                        chunk = await reader.read(min(length, 65536))
                        if not chunk:
                            raise asyncio.IncompleteReadError(b"", length)
                        length -= len(chunk)
                    fail(stream_id, StatusCode.RESOURCE_EXHAUSTED,
                         f"the frame is over the limit of {self._max_frame_bytes} bytes")
                    continue
                data = await reader.readexactly(length) if length else b""
                if frame_type != _TYPE_REQUEST:
                    continue
                if stream_id % 2 == 0 or stream_id <= last_stream_id:
                    fail(stream_id, StatusCode.INVALID_ARGUMENT,
                         f"stream id {stream_id} is not odd and increasing")
                    continue
                last_stream_id = stream_id
                if flags & _FLAG_REMOTE_OPEN:
                    fail(stream_id, StatusCode.UNIMPLEMENTED, "client streaming is not supported")
                    continue
                call = asyncio.get_running_loop().create_task(self._run(data, peer))
                calls[stream_id] = call

                def finished(done: asyncio.Task, stream_id: int = stream_id) -> None:
                    calls.pop(stream_id, None)
                    if not done.cancelled():
                        answer(stream_id, *done.result())

                call.add_done_callback(finished)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for call in list(calls.values()):
                call.cancel()
            writer.close()
            self._connections.discard(task)

    async def _run(self, data: bytes, peer: str) -> Tuple[status_pb2.Status, bytes]:
        try:
            request = request_pb2.Request.FromString(data)
        except DecodeError as e:
            return status_pb2.Status(code=StatusCode.INVALID_ARGUMENT, message=f"undecodable envelope: {e}"), b""
        entry = self._methods.get((request.service, request.method))
        if entry is None:
            known = any(service == request.service for service, _ in self._methods)
            message = (f"unknown method {request.method!r} of service {request.service!r}" if known
                       else f"field 'service': unknown service {request.service!r}")
            return status_pb2.Status(code=StatusCode.UNIMPLEMENTED, message=message), b""
        message_type, handler = entry
        if self._expected_authorization is not None:
            presented = next((kv.value for kv in request.metadata if kv.key == "authorization"), "").encode()
            if not hmac.compare_digest(presented, self._expected_authorization):
                return status_pb2.Status(code=StatusCode.UNAUTHENTICATED,
                                         message="missing or invalid 'authorization: Bearer <token>'"), b""
        if request.timeout_nano < 0:
            return status_pb2.Status(code=StatusCode.INVALID_ARGUMENT,
                                     message="field 'timeout_nano': must not be negative"), b""
        try:
            argument = message_type.FromString(request.payload)
        except DecodeError as e:
            return status_pb2.Status(code=StatusCode.INVALID_ARGUMENT,
                                     message=f"undecodable {message_type.DESCRIPTOR.full_name}: {e}"), b""
        loop = asyncio.get_running_loop()
        timeout = request.timeout_nano / 1e9 if request.timeout_nano else None
        context = ServerContext([(kv.key, kv.value) for kv in request.metadata],
                                loop.time() + timeout if timeout else None, peer)
        try:
            result = handler(argument, context)
            response = await (asyncio.wait_for(result, timeout) if timeout else result)
            return status_pb2.Status(), response.SerializeToString()
        except asyncio.TimeoutError:
            return status_pb2.Status(code=StatusCode.DEADLINE_EXCEEDED,
                                     message=f"deadline of {timeout:.3g} s exceeded"), b""
        except RPCError as e:
            return status_pb2.Status(code=int(e.code), message=e.message), b""
        except NotImplementedError:
            return status_pb2.Status(code=StatusCode.UNIMPLEMENTED,
                                     message=f"{request.service}/{request.method} is not implemented"), b""
        except Exception as e:  # a handler bug must not take the server down
            log.exception("%s/%s failed", request.service, request.method)
            return status_pb2.Status(code=StatusCode.INTERNAL, message=f"the handler failed: {e!r}"), b""
