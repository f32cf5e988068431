from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateTenantRequest(_message.Message):
    __slots__ = ["display_name", "id", "quotas"]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    QUOTAS_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    id: str
    quotas: TenantQuotas
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., quotas: _Optional[_Union[TenantQuotas, _Mapping]] = ...) -> None: ...

class DeleteTenantRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteTenantResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetTenantRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListTenantsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTenantsResponse(_message.Message):
    __slots__ = ["next_page_token", "tenants"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TENANTS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    tenants: _containers.RepeatedCompositeFieldContainer[Tenant]
    def __init__(self, tenants: _Optional[_Iterable[_Union[Tenant, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Tenant(_message.Message):
    __slots__ = ["created_at_ms", "display_name", "id", "quotas", "usage"]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    QUOTAS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    created_at_ms: int
    display_name: str
    id: str
    quotas: TenantQuotas
    usage: TenantUsage
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., quotas: _Optional[_Union[TenantQuotas, _Mapping]] = ..., created_at_ms: _Optional[int] = ..., usage: _Optional[_Union[TenantUsage, _Mapping]] = ...) -> None: ...

class TenantQuotas(_message.Message):
    __slots__ = ["max_agents", "max_calls_per_second", "max_open_sessions", "max_watchers"]
    MAX_AGENTS_FIELD_NUMBER: _ClassVar[int]
    MAX_CALLS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    MAX_OPEN_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_WATCHERS_FIELD_NUMBER: _ClassVar[int]
    max_agents: int
    max_calls_per_second: int
    max_open_sessions: int
    max_watchers: int
    def __init__(self, max_agents: _Optional[int] = ..., max_open_sessions: _Optional[int] = ..., max_calls_per_second: _Optional[int] = ..., max_watchers: _Optional[int] = ...) -> None: ...

class TenantUsage(_message.Message):
    __slots__ = ["agents", "awake", "calls_per_second", "open_sessions", "queued_sessions", "watchers"]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    AWAKE_FIELD_NUMBER: _ClassVar[int]
    CALLS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    OPEN_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    QUEUED_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    WATCHERS_FIELD_NUMBER: _ClassVar[int]
    agents: int
    awake: bool
    calls_per_second: int
    open_sessions: int
    queued_sessions: int
    watchers: int
    def __init__(self, agents: _Optional[int] = ..., open_sessions: _Optional[int] = ..., queued_sessions: _Optional[int] = ..., calls_per_second: _Optional[int] = ..., watchers: _Optional[int] = ..., awake: bool = ...) -> None: ...

class UpdateTenantRequest(_message.Message):
    __slots__ = ["display_name", "id", "quotas"]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    QUOTAS_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    id: str
    quotas: TenantQuotas
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., quotas: _Optional[_Union[TenantQuotas, _Mapping]] = ...) -> None: ...
