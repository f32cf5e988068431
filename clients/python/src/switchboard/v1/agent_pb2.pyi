from switchboard.v1 import session_pb2 as _session_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

AGENT_STATUS_BREAK: AgentStatus
AGENT_STATUS_OFFLINE: AgentStatus
AGENT_STATUS_ONLINE: AgentStatus
AGENT_STATUS_UNSPECIFIED: AgentStatus
DESCRIPTOR: _descriptor.FileDescriptor

class Agent(_message.Message):
    __slots__ = ["created_at_ms", "display_name", "group_ids", "id", "max_sessions", "status", "status_changed_at_ms"]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_IDS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    STATUS_CHANGED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    created_at_ms: int
    display_name: str
    group_ids: _containers.RepeatedScalarFieldContainer[str]
    id: str
    max_sessions: int
    status: AgentStatus
    status_changed_at_ms: int
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., max_sessions: _Optional[int] = ..., status: _Optional[_Union[AgentStatus, str]] = ..., group_ids: _Optional[_Iterable[str]] = ..., status_changed_at_ms: _Optional[int] = ..., created_at_ms: _Optional[int] = ...) -> None: ...

class AgentEvent(_message.Message):
    __slots__ = ["agent_id", "assigned_session_id", "closed", "created_at_ms", "offer_expired_session_id", "offered", "sequence", "status_changed", "transferred_away_session_id", "user_message"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    OFFERED_FIELD_NUMBER: _ClassVar[int]
    OFFER_EXPIRED_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    TRANSFERRED_AWAY_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    assigned_session_id: str
    closed: SessionClosure
    created_at_ms: int
    offer_expired_session_id: str
    offered: SessionOffer
    sequence: int
    status_changed: AgentStatus
    transferred_away_session_id: str
    user_message: _session_pb2.Message
    def __init__(self, agent_id: _Optional[str] = ..., sequence: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., offered: _Optional[_Union[SessionOffer, _Mapping]] = ..., assigned_session_id: _Optional[str] = ..., offer_expired_session_id: _Optional[str] = ..., user_message: _Optional[_Union[_session_pb2.Message, _Mapping]] = ..., closed: _Optional[_Union[SessionClosure, _Mapping]] = ..., transferred_away_session_id: _Optional[str] = ..., status_changed: _Optional[_Union[AgentStatus, str]] = ...) -> None: ...

class AgentSessionRequest(_message.Message):
    __slots__ = ["agent_id", "session_id"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    session_id: str
    def __init__(self, agent_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class CreateAgentRequest(_message.Message):
    __slots__ = ["display_name", "id", "max_sessions"]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    id: str
    max_sessions: int
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., max_sessions: _Optional[int] = ...) -> None: ...

class CreateGroupRequest(_message.Message):
    __slots__ = ["id", "name"]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class DeleteAgentRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteAgentResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class DeleteGroupRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteGroupResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetAgentRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetGroupRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class Group(_message.Message):
    __slots__ = ["created_at_ms", "id", "member_count", "name"]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    created_at_ms: int
    id: str
    member_count: int
    name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., member_count: _Optional[int] = ..., created_at_ms: _Optional[int] = ...) -> None: ...

class GroupMemberRequest(_message.Message):
    __slots__ = ["agent_id", "group_id"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    group_id: str
    def __init__(self, group_id: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class ListAgentSessionsRequest(_message.Message):
    __slots__ = ["agent_id", "page_size", "page_token"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    page_size: int
    page_token: str
    def __init__(self, agent_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAgentSessionsResponse(_message.Message):
    __slots__ = ["next_page_token", "sessions"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    sessions: _containers.RepeatedCompositeFieldContainer[_session_pb2.Session]
    def __init__(self, sessions: _Optional[_Iterable[_Union[_session_pb2.Session, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ["agents", "next_page_token"]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[Agent]
    next_page_token: str
    def __init__(self, agents: _Optional[_Iterable[_Union[Agent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListGroupAgentsRequest(_message.Message):
    __slots__ = ["group_id", "page_size", "page_token"]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    page_size: int
    page_token: str
    def __init__(self, group_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListGroupsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListGroupsResponse(_message.Message):
    __slots__ = ["groups", "next_page_token"]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[Group]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[Group, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RenameGroupRequest(_message.Message):
    __slots__ = ["id", "name"]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class SendAgentMessageRequest(_message.Message):
    __slots__ = ["agent_id", "session_id", "text"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    session_id: str
    text: str
    def __init__(self, agent_id: _Optional[str] = ..., session_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class SessionClosure(_message.Message):
    __slots__ = ["reason", "session_id"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    reason: _session_pb2.CloseReason
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., reason: _Optional[_Union[_session_pb2.CloseReason, str]] = ...) -> None: ...

class SessionOffer(_message.Message):
    __slots__ = ["deadline_ms", "session_id"]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    deadline_ms: int
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., deadline_ms: _Optional[int] = ...) -> None: ...

class SetAgentStatusRequest(_message.Message):
    __slots__ = ["id", "status"]
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: AgentStatus
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[AgentStatus, str]] = ...) -> None: ...

class TransferSessionRequest(_message.Message):
    __slots__ = ["agent_id", "session_id", "to_agent_id", "to_group_id"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TO_AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    session_id: str
    to_agent_id: str
    to_group_id: str
    def __init__(self, agent_id: _Optional[str] = ..., session_id: _Optional[str] = ..., to_agent_id: _Optional[str] = ..., to_group_id: _Optional[str] = ...) -> None: ...

class UpdateAgentRequest(_message.Message):
    __slots__ = ["display_name", "id", "max_sessions"]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    id: str
    max_sessions: int
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., max_sessions: _Optional[int] = ...) -> None: ...

class WatchAgentRequest(_message.Message):
    __slots__ = ["after_sequence", "agent_id"]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class AgentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
