from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetSettingsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class Settings(_message.Message):
    __slots__ = ["allocation", "closure", "prompts", "queue", "rating", "service_mode", "working_hours"]
    class Allocation(_message.Message):
        __slots__ = ["fallback", "hook_address", "hook_deadline_ms", "policy"]
        class Fallback(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = []
        class Policy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = []
        FALLBACK_AUTOMATIC: Settings.Allocation.Fallback
        FALLBACK_FIELD_NUMBER: _ClassVar[int]
        FALLBACK_TRANSFER_FAILED: Settings.Allocation.Fallback
        FALLBACK_UNSPECIFIED: Settings.Allocation.Fallback
        HOOK_ADDRESS_FIELD_NUMBER: _ClassVar[int]
        HOOK_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
        POLICY_AUTOMATIC: Settings.Allocation.Policy
        POLICY_BUSINESS_SERVER: Settings.Allocation.Policy
        POLICY_FIELD_NUMBER: _ClassVar[int]
        POLICY_UNSPECIFIED: Settings.Allocation.Policy
        POLICY_USER_SELECTS_GROUP: Settings.Allocation.Policy
        fallback: Settings.Allocation.Fallback
        hook_address: str
        hook_deadline_ms: int
        policy: Settings.Allocation.Policy
        def __init__(self, policy: _Optional[_Union[Settings.Allocation.Policy, str]] = ..., hook_address: _Optional[str] = ..., hook_deadline_ms: _Optional[int] = ..., fallback: _Optional[_Union[Settings.Allocation.Fallback, str]] = ...) -> None: ...
    class Closure(_message.Message):
        __slots__ = ["bot_idle_timeout_seconds", "proactive_message_enabled", "timeout_message_enabled", "user_timeout_seconds"]
        BOT_IDLE_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
        PROACTIVE_MESSAGE_ENABLED_FIELD_NUMBER: _ClassVar[int]
        TIMEOUT_MESSAGE_ENABLED_FIELD_NUMBER: _ClassVar[int]
        USER_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
        bot_idle_timeout_seconds: int
        proactive_message_enabled: bool
        timeout_message_enabled: bool
        user_timeout_seconds: int
        def __init__(self, user_timeout_seconds: _Optional[int] = ..., timeout_message_enabled: bool = ..., proactive_message_enabled: bool = ..., bot_idle_timeout_seconds: _Optional[int] = ...) -> None: ...
    class Prompts(_message.Message):
        __slots__ = ["after_hours", "manual_access_in_progress", "proactive_closure", "queue_message", "timeout_closure", "transfer_failed", "transfer_succeeded", "welcome"]
        AFTER_HOURS_FIELD_NUMBER: _ClassVar[int]
        MANUAL_ACCESS_IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
        PROACTIVE_CLOSURE_FIELD_NUMBER: _ClassVar[int]
        QUEUE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
        TIMEOUT_CLOSURE_FIELD_NUMBER: _ClassVar[int]
        TRANSFER_FAILED_FIELD_NUMBER: _ClassVar[int]
        TRANSFER_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
        WELCOME_FIELD_NUMBER: _ClassVar[int]
        after_hours: str
        manual_access_in_progress: str
        proactive_closure: str
        queue_message: str
        timeout_closure: str
        transfer_failed: str
        transfer_succeeded: str
        welcome: str
        def __init__(self, welcome: _Optional[str] = ..., manual_access_in_progress: _Optional[str] = ..., transfer_succeeded: _Optional[str] = ..., transfer_failed: _Optional[str] = ..., after_hours: _Optional[str] = ..., queue_message: _Optional[str] = ..., timeout_closure: _Optional[str] = ..., proactive_closure: _Optional[str] = ...) -> None: ...
    class Queue(_message.Message):
        __slots__ = ["max_queue_length", "max_sessions_per_agent", "queue_message_interval_seconds"]
        MAX_QUEUE_LENGTH_FIELD_NUMBER: _ClassVar[int]
        MAX_SESSIONS_PER_AGENT_FIELD_NUMBER: _ClassVar[int]
        QUEUE_MESSAGE_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
        max_queue_length: int
        max_sessions_per_agent: int
        queue_message_interval_seconds: int
        def __init__(self, max_sessions_per_agent: _Optional[int] = ..., queue_message_interval_seconds: _Optional[int] = ..., max_queue_length: _Optional[int] = ...) -> None: ...
    class Rating(_message.Message):
        __slots__ = ["agent_may_invite", "enabled", "invitation_message", "labels", "send_after_close", "submission_message", "validity_seconds"]
        AGENT_MAY_INVITE_FIELD_NUMBER: _ClassVar[int]
        ENABLED_FIELD_NUMBER: _ClassVar[int]
        INVITATION_MESSAGE_FIELD_NUMBER: _ClassVar[int]
        LABELS_FIELD_NUMBER: _ClassVar[int]
        SEND_AFTER_CLOSE_FIELD_NUMBER: _ClassVar[int]
        SUBMISSION_MESSAGE_FIELD_NUMBER: _ClassVar[int]
        VALIDITY_SECONDS_FIELD_NUMBER: _ClassVar[int]
        agent_may_invite: bool
        enabled: bool
        invitation_message: str
        labels: _containers.RepeatedScalarFieldContainer[str]
        send_after_close: bool
        submission_message: str
        validity_seconds: int
        def __init__(self, enabled: bool = ..., agent_may_invite: bool = ..., send_after_close: bool = ..., invitation_message: _Optional[str] = ..., submission_message: _Optional[str] = ..., validity_seconds: _Optional[int] = ..., labels: _Optional[_Iterable[str]] = ...) -> None: ...
    class ServiceMode(_message.Message):
        __slots__ = ["break_after_connect_timeout", "connect_timeout_seconds", "mode"]
        class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = []
        BREAK_AFTER_CONNECT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
        CONNECT_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
        MODE_AUTOMATIC: Settings.ServiceMode.Mode
        MODE_FIELD_NUMBER: _ClassVar[int]
        MODE_MANUAL: Settings.ServiceMode.Mode
        MODE_UNSPECIFIED: Settings.ServiceMode.Mode
        break_after_connect_timeout: bool
        connect_timeout_seconds: int
        mode: Settings.ServiceMode.Mode
        def __init__(self, mode: _Optional[_Union[Settings.ServiceMode.Mode, str]] = ..., connect_timeout_seconds: _Optional[int] = ..., break_after_connect_timeout: bool = ...) -> None: ...
    class TimeRange(_message.Message):
        __slots__ = ["end", "start"]
        END_FIELD_NUMBER: _ClassVar[int]
        START_FIELD_NUMBER: _ClassVar[int]
        end: str
        start: str
        def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...
    class WorkingHours(_message.Message):
        __slots__ = ["days", "enabled", "exceptions", "time_zone"]
        class Weekday(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = []
        class Day(_message.Message):
            __slots__ = ["ranges", "weekday"]
            RANGES_FIELD_NUMBER: _ClassVar[int]
            WEEKDAY_FIELD_NUMBER: _ClassVar[int]
            ranges: _containers.RepeatedCompositeFieldContainer[Settings.TimeRange]
            weekday: Settings.WorkingHours.Weekday
            def __init__(self, weekday: _Optional[_Union[Settings.WorkingHours.Weekday, str]] = ..., ranges: _Optional[_Iterable[_Union[Settings.TimeRange, _Mapping]]] = ...) -> None: ...
        class Exception(_message.Message):
            __slots__ = ["date", "ranges"]
            DATE_FIELD_NUMBER: _ClassVar[int]
            RANGES_FIELD_NUMBER: _ClassVar[int]
            date: str
            ranges: _containers.RepeatedCompositeFieldContainer[Settings.TimeRange]
            def __init__(self, date: _Optional[str] = ..., ranges: _Optional[_Iterable[_Union[Settings.TimeRange, _Mapping]]] = ...) -> None: ...
        DAYS_FIELD_NUMBER: _ClassVar[int]
        ENABLED_FIELD_NUMBER: _ClassVar[int]
        EXCEPTIONS_FIELD_NUMBER: _ClassVar[int]
        TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
        WEEKDAY_FRIDAY: Settings.WorkingHours.Weekday
        WEEKDAY_MONDAY: Settings.WorkingHours.Weekday
        WEEKDAY_SATURDAY: Settings.WorkingHours.Weekday
        WEEKDAY_SUNDAY: Settings.WorkingHours.Weekday
        WEEKDAY_THURSDAY: Settings.WorkingHours.Weekday
        WEEKDAY_TUESDAY: Settings.WorkingHours.Weekday
        WEEKDAY_UNSPECIFIED: Settings.WorkingHours.Weekday
        WEEKDAY_WEDNESDAY: Settings.WorkingHours.Weekday
        days: _containers.RepeatedCompositeFieldContainer[Settings.WorkingHours.Day]
        enabled: bool
        exceptions: _containers.RepeatedCompositeFieldContainer[Settings.WorkingHours.Exception]
        time_zone: str
        def __init__(self, enabled: bool = ..., time_zone: _Optional[str] = ..., days: _Optional[_Iterable[_Union[Settings.WorkingHours.Day, _Mapping]]] = ..., exceptions: _Optional[_Iterable[_Union[Settings.WorkingHours.Exception, _Mapping]]] = ...) -> None: ...
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    CLOSURE_FIELD_NUMBER: _ClassVar[int]
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    SERVICE_MODE_FIELD_NUMBER: _ClassVar[int]
    WORKING_HOURS_FIELD_NUMBER: _ClassVar[int]
    allocation: Settings.Allocation
    closure: Settings.Closure
    prompts: Settings.Prompts
    queue: Settings.Queue
    rating: Settings.Rating
    service_mode: Settings.ServiceMode
    working_hours: Settings.WorkingHours
    def __init__(self, prompts: _Optional[_Union[Settings.Prompts, _Mapping]] = ..., allocation: _Optional[_Union[Settings.Allocation, _Mapping]] = ..., service_mode: _Optional[_Union[Settings.ServiceMode, _Mapping]] = ..., queue: _Optional[_Union[Settings.Queue, _Mapping]] = ..., closure: _Optional[_Union[Settings.Closure, _Mapping]] = ..., working_hours: _Optional[_Union[Settings.WorkingHours, _Mapping]] = ..., rating: _Optional[_Union[Settings.Rating, _Mapping]] = ...) -> None: ...

class SettingsDocument(_message.Message):
    __slots__ = ["settings", "updated_at_ms", "version"]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    settings: Settings
    updated_at_ms: int
    version: int
    def __init__(self, settings: _Optional[_Union[Settings, _Mapping]] = ..., version: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class UpdateSettingsRequest(_message.Message):
    __slots__ = ["expected_version", "settings"]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    expected_version: int
    settings: Settings
    def __init__(self, expected_version: _Optional[int] = ..., settings: _Optional[_Union[Settings, _Mapping]] = ...) -> None: ...
