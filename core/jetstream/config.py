"""Stream and consumer configurations, validated, with JetStream's own JSON field names.

A config read from ``$JS.API.STREAM.INFO`` validates unchanged, so it can be posted back. Durations
are nanoseconds; on input Go-style strings ("72h") are accepted too. Unknown fields are refused,
naming the field, so a typo is not silently ignored by the server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from core.jetstream.durations import parse_duration_ns
from core.labels import NoControlCharacters
from core.schema_rules import not_both, rules

Duration = Annotated[int, BeforeValidator(parse_duration_ns)]
# Whitespace spelled out, not ``\s``: the engines that read the pattern (pydantic's, Python's,
# a client's ECMA one, the fuzzer's) do not agree on which characters ``\s`` covers.
WHITESPACE = r"\x09-\x0d\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NAME_PATTERN = rf"^[^.*>/\\{WHITESPACE}]+$"
NAME_SCHEMA_PATTERN = rf"^[^.*>/\\{WHITESPACE}\x00-\x1f\x7f-\x9f]+$"  # and no control characters
# A stream or consumer name in a body: control characters are refused with their own message.
Name = Annotated[
    str,
    Field(min_length=1, max_length=255, pattern=NAME_PATTERN),
    NoControlCharacters(NAME_SCHEMA_PATTERN),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_api(self) -> dict[str, Any]:
        """The JSON the JetStream API takes: only what was given (server defaults for the rest)."""
        return self.model_dump(mode="json", exclude_unset=True)


class SubjectTransform(_Strict):
    src: str = ""
    dest: str


class Republish(_Strict):
    src: str = ""
    dest: str
    headers_only: bool = False


class Placement(_Strict):
    cluster: str = ""
    tags: list[str] | None = None
    preferred: str | None = None


class ExternalStream(_Strict):
    api: str
    deliver: str = ""


class StreamSource(_Strict):
    name: Name
    opt_start_seq: int | None = Field(default=None, ge=0)
    opt_start_time: datetime | None = None
    filter_subject: str | None = None
    subject_transforms: list[SubjectTransform] | None = None
    external: ExternalStream | None = None
    domain: str | None = None


class ConsumerLimits(_Strict):
    inactive_threshold: Duration | None = None
    max_ack_pending: int | None = None


class StreamConfig(_Strict):
    name: Name
    description: str | None = Field(default=None, max_length=4096)
    subjects: list[str] | None = None
    retention: Literal["limits", "interest", "workqueue"] | None = None
    max_consumers: int | None = Field(default=None, ge=-1)
    max_msgs: int | None = Field(default=None, ge=-1)
    max_bytes: int | None = Field(default=None, ge=-1)
    max_age: Duration | None = None
    max_msgs_per_subject: int | None = Field(default=None, ge=-1)
    max_msg_size: int | None = Field(default=None, ge=-1)
    discard: Literal["old", "new"] | None = None
    discard_new_per_subject: bool | None = None
    storage: Literal["file", "memory"] | None = None
    num_replicas: int | None = Field(default=None, ge=1, le=5)
    no_ack: bool | None = None
    template_owner: str | None = None
    duplicate_window: Duration | None = None
    placement: Placement | None = None
    mirror: StreamSource | None = None
    sources: list[StreamSource] | None = None
    sealed: bool | None = None
    deny_delete: bool | None = None
    deny_purge: bool | None = None
    allow_rollup_hdrs: bool | None = None
    allow_direct: bool | None = None
    mirror_direct: bool | None = None
    republish: Republish | None = None
    subject_transform: SubjectTransform | None = None
    compression: Literal["none", "s2"] | None = None
    first_seq: int | None = Field(default=None, ge=0)
    consumer_limits: ConsumerLimits | None = None
    metadata: dict[str, str] | None = None
    allow_msg_ttl: bool | None = None
    subject_delete_marker_ttl: Duration | None = None
    allow_msg_counter: bool | None = None
    allow_atomic: bool | None = None
    allow_msg_schedules: bool | None = None
    allow_batched: bool | None = None
    persist_mode: Literal["default", "async"] | None = None

    @field_validator("subjects")
    @classmethod
    def _subjects_not_blank(cls, subjects: list[str] | None) -> list[str] | None:
        for subject in subjects or []:
            if not subject or subject != subject.strip() or " " in subject:
                raise ValueError(f"'{subject}' is not a valid subject (no blanks, not empty)")
        return subjects


class ConsumerConfig(_Strict):
    name: Name | None = None
    durable_name: Name | None = None
    description: str | None = Field(default=None, max_length=4096)
    deliver_policy: (
        Literal["all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"]
        | None
    ) = None
    opt_start_seq: int | None = Field(default=None, ge=0)
    opt_start_time: datetime | None = None
    ack_policy: Literal["none", "all", "explicit"] | None = None
    ack_wait: Duration | None = None
    max_deliver: int | None = Field(default=None, ge=-1)
    backoff: list[Duration] | None = None
    filter_subject: str | None = None
    filter_subjects: list[str] | None = None
    replay_policy: Literal["instant", "original"] | None = None
    rate_limit_bps: int | None = Field(default=None, ge=0)
    sample_freq: str | None = None
    max_waiting: int | None = Field(default=None, ge=0)
    max_ack_pending: int | None = Field(default=None, ge=-1)
    flow_control: bool | None = None
    idle_heartbeat: Duration | None = None
    headers_only: bool | None = None
    max_batch: int | None = Field(default=None, ge=0)
    max_expires: Duration | None = None
    max_bytes: int | None = Field(default=None, ge=0)
    inactive_threshold: Duration | None = None
    num_replicas: int | None = Field(default=None, ge=0, le=5)
    mem_storage: bool | None = None
    deliver_subject: str | None = None
    deliver_group: str | None = None
    metadata: dict[str, str] | None = None
    pause_until: datetime | None = None
    priority_groups: list[str] | None = None
    priority_policy: Literal["none", "overflow", "pinned_client", "prioritized"] | None = None
    priority_timeout: Duration | None = None

    @property
    def consumer_name(self) -> str | None:
        return self.durable_name or self.name


class PurgeRequest(_Strict):
    """What to purge: a subject (``filter``), everything below a sequence (``seq``), or all but
    the last ``keep`` messages. JetStream's own names, with the issue's aliases accepted."""

    model_config = ConfigDict(json_schema_extra=rules(not_both("sequence", "keep")))

    filter: str | None = Field(default=None, alias="subject")
    seq: int | None = Field(default=None, ge=1, alias="sequence")
    keep: int | None = Field(default=None, ge=0)
    dry_run: bool = Field(
        default=False, description="only say how many messages and bytes would go"
    )

    @field_validator("keep")
    @classmethod
    def _exclusive(cls, keep: int | None, info: ValidationInfo) -> int | None:
        if keep is not None and info.data.get("seq") is not None:
            raise ValueError("give either 'sequence' or 'keep', not both")
        return keep

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, by_alias=False, exclude={"dry_run"})
