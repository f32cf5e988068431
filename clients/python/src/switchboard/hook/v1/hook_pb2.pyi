from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentList(_message.Message):
    __slots__ = ["agent_ids"]
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, agent_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AllocateRequest(_message.Message):
    __slots__ = ["attributes", "event_time_ms", "group_id", "idempotency_key", "session_id", "user_id"]
    class AttributesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.ScalarMap[str, str]
    event_time_ms: int
    group_id: str
    idempotency_key: str
    session_id: str
    user_id: str
    def __init__(self, session_id: _Optional[str] = ..., user_id: _Optional[str] = ..., group_id: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., event_time_ms: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AllocateResponse(_message.Message):
    __slots__ = ["agents", "automatic", "group_id", "reject"]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    REJECT_FIELD_NUMBER: _ClassVar[int]
    agents: AgentList
    automatic: bool
    group_id: str
    reject: Rejection
    def __init__(self, group_id: _Optional[str] = ..., agents: _Optional[_Union[AgentList, _Mapping]] = ..., reject: _Optional[_Union[Rejection, _Mapping]] = ..., automatic: bool = ...) -> None: ...

class Rejection(_message.Message):
    __slots__ = ["message"]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...
