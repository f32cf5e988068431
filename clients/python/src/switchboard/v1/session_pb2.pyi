from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

CLOSE_REASON_ADMIN: CloseReason
CLOSE_REASON_AGENT_ENDED: CloseReason
CLOSE_REASON_BOT_IDLE: CloseReason
CLOSE_REASON_UNSPECIFIED: CloseReason
CLOSE_REASON_USER_ENDED: CloseReason
CLOSE_REASON_USER_TIMEOUT: CloseReason
DESCRIPTOR: _descriptor.FileDescriptor
PROMPT_AFTER_HOURS: Prompt
PROMPT_MANUAL_ACCESS_IN_PROGRESS: Prompt
PROMPT_PROACTIVE_CLOSURE: Prompt
PROMPT_QUEUE: Prompt
PROMPT_RATING_INVITATION: Prompt
PROMPT_RATING_SUBMITTED: Prompt
PROMPT_TIMEOUT_CLOSURE: Prompt
PROMPT_TRANSFER_FAILED: Prompt
PROMPT_TRANSFER_SUCCEEDED: Prompt
PROMPT_UNSPECIFIED: Prompt
PROMPT_WELCOME: Prompt
SENDER_AGENT: Sender
SENDER_SYSTEM: Sender
SENDER_UNSPECIFIED: Sender
SENDER_USER: Sender
SESSION_STATE_ACTIVE: SessionState
SESSION_STATE_BOT: SessionState
SESSION_STATE_CLOSED: SessionState
SESSION_STATE_OFFERED: SessionState
SESSION_STATE_QUEUED: SessionState
SESSION_STATE_UNSPECIFIED: SessionState

class CloseSessionRequest(_message.Message):
    __slots__ = ["session_id"]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class CreateSessionRequest(_message.Message):
    __slots__ = ["attributes", "channel", "user_id"]
    class AttributesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.ScalarMap[str, str]
    channel: str
    user_id: str
    def __init__(self, user_id: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., channel: _Optional[str] = ...) -> None: ...

class GetQueuePositionRequest(_message.Message):
    __slots__ = ["session_id"]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ["session_id"]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class ListMessagesRequest(_message.Message):
    __slots__ = ["after_sequence", "limit", "session_id"]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    limit: int
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., after_sequence: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ListMessagesResponse(_message.Message):
    __slots__ = ["messages", "more"]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    more: bool
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., more: bool = ...) -> None: ...

class ListSessionGroupsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSessionGroupsResponse(_message.Message):
    __slots__ = ["groups", "next_page_token"]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[SessionGroup]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[SessionGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ["agent_id", "created_at_ms", "prompt", "sender", "sequence", "session_id", "text"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    created_at_ms: int
    prompt: Prompt
    sender: Sender
    sequence: int
    session_id: str
    text: str
    def __init__(self, session_id: _Optional[str] = ..., sequence: _Optional[int] = ..., sender: _Optional[_Union[Sender, str]] = ..., agent_id: _Optional[str] = ..., prompt: _Optional[_Union[Prompt, str]] = ..., text: _Optional[str] = ..., created_at_ms: _Optional[int] = ...) -> None: ...

class QueuePosition(_message.Message):
    __slots__ = ["position", "queued", "session_id", "waiting_ahead"]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    WAITING_AHEAD_FIELD_NUMBER: _ClassVar[int]
    position: int
    queued: bool
    session_id: str
    waiting_ahead: int
    def __init__(self, session_id: _Optional[str] = ..., queued: bool = ..., position: _Optional[int] = ..., waiting_ahead: _Optional[int] = ...) -> None: ...

class RequestAgentRequest(_message.Message):
    __slots__ = ["group_id", "session_id"]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., group_id: _Optional[str] = ...) -> None: ...

class SendUserMessageRequest(_message.Message):
    __slots__ = ["session_id", "text"]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    text: str
    def __init__(self, session_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ["agent_id", "attributes", "channel", "close_reason", "closed_at_ms", "created_at_ms", "group_id", "id", "last_sequence", "offer_deadline_ms", "rating", "rating_deadline_ms", "state", "user_id", "user_timeout_at_ms"]
    class AttributesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CLOSE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    OFFER_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    RATING_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_TIMEOUT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    attributes: _containers.ScalarMap[str, str]
    channel: str
    close_reason: CloseReason
    closed_at_ms: int
    created_at_ms: int
    group_id: str
    id: str
    last_sequence: int
    offer_deadline_ms: int
    rating: SessionRating
    rating_deadline_ms: int
    state: SessionState
    user_id: str
    user_timeout_at_ms: int
    def __init__(self, id: _Optional[str] = ..., user_id: _Optional[str] = ..., channel: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., state: _Optional[_Union[SessionState, str]] = ..., agent_id: _Optional[str] = ..., group_id: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., offer_deadline_ms: _Optional[int] = ..., user_timeout_at_ms: _Optional[int] = ..., close_reason: _Optional[_Union[CloseReason, str]] = ..., closed_at_ms: _Optional[int] = ..., rating: _Optional[_Union[SessionRating, _Mapping]] = ..., rating_deadline_ms: _Optional[int] = ..., last_sequence: _Optional[int] = ...) -> None: ...

class SessionEvent(_message.Message):
    __slots__ = ["created_at_ms", "message", "queue_position", "rated", "rating_invited_until_ms", "sequence", "session_id", "state_changed"]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    RATED_FIELD_NUMBER: _ClassVar[int]
    RATING_INVITED_UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    created_at_ms: int
    message: Message
    queue_position: QueuePosition
    rated: SessionRating
    rating_invited_until_ms: int
    sequence: int
    session_id: str
    state_changed: SessionStateChange
    def __init__(self, session_id: _Optional[str] = ..., sequence: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., message: _Optional[_Union[Message, _Mapping]] = ..., state_changed: _Optional[_Union[SessionStateChange, _Mapping]] = ..., queue_position: _Optional[_Union[QueuePosition, _Mapping]] = ..., rating_invited_until_ms: _Optional[int] = ..., rated: _Optional[_Union[SessionRating, _Mapping]] = ...) -> None: ...

class SessionGroup(_message.Message):
    __slots__ = ["available", "id", "name"]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    available: bool
    id: str
    name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., available: bool = ...) -> None: ...

class SessionRating(_message.Message):
    __slots__ = ["comment", "label", "score", "submitted_at_ms"]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    comment: str
    label: str
    score: int
    submitted_at_ms: int
    def __init__(self, score: _Optional[int] = ..., label: _Optional[str] = ..., comment: _Optional[str] = ..., submitted_at_ms: _Optional[int] = ...) -> None: ...

class SessionStateChange(_message.Message):
    __slots__ = ["agent_id", "close_reason", "group_id", "state"]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLOSE_REASON_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    close_reason: CloseReason
    group_id: str
    state: SessionState
    def __init__(self, state: _Optional[_Union[SessionState, str]] = ..., agent_id: _Optional[str] = ..., group_id: _Optional[str] = ..., close_reason: _Optional[_Union[CloseReason, str]] = ...) -> None: ...

class SubmitRatingRequest(_message.Message):
    __slots__ = ["comment", "score", "session_id"]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    comment: str
    score: int
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., score: _Optional[int] = ..., comment: _Optional[str] = ...) -> None: ...

class WatchSessionRequest(_message.Message):
    __slots__ = ["after_sequence", "session_id"]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class SessionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class CloseReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Sender(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Prompt(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
