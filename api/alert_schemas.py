"""Request and response bodies of the alert routes (``/api/v1/alerts``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from core.alerts.events import AlertEvent
from core.alerts.rules import (
    MAX_COOLDOWN_S,
    MAX_FOR_S,
    Kind,
    Severity,
    check_channel,
    check_targets,
    check_threshold,
    parse_duration,
)
from core.labels import Label

JsName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^.*>\s]+$")]


def _duration(value: str, most: float, what: str) -> str:
    seconds = parse_duration(value)
    if seconds > most:
        raise ValueError(f"must be at most {most / 86400:g}d")
    return value.strip() if isinstance(value, str) else f"{int(seconds)}s"


class RuleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Label = Field(min_length=1, max_length=255)
    kind: Kind
    cluster_id: uuid.UUID | None = Field(None, description="required except for quota_pct")
    stream: JsName | None = None
    consumer: JsName | None = None
    team_id: uuid.UUID | None = Field(None, description="quota_pct: the team (none: any team)")
    threshold: float = Field(description="what it means depends on the kind (see /alerts docs)")
    for_: str = Field("0s", alias="for", description='how long, e.g. "30s", "5m", "0s"')
    channels: list[str] = Field(
        default_factory=list,
        max_length=20,
        description='"in_app", "webhook:<id>"; none: in-app and every webhook that hears alert',
    )
    severity: Severity = "warning"
    cooldown: str = Field("15m", description="a resolved rule does not re-notify within it")
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():  # control characters are refused by ``Label``
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("for_")
    @classmethod
    def _for(cls, value: str) -> str:
        return _duration(value, MAX_FOR_S, "for")

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, value: str) -> str:
        return _duration(value, MAX_COOLDOWN_S, "cooldown")

    @field_validator("threshold")
    @classmethod
    def _finite(cls, value: float) -> float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(check_channel(v) for v in value))

    def problems(self) -> list[dict[str, str]]:
        """What does not go with the kind, each naming its field."""
        out = [
            {"field": f, "message": msg}
            for f, msg in check_targets(self.kind, self.stream, self.consumer, self.team_id)
        ]
        if self.kind != "quota_pct" and self.cluster_id is None:
            out.append({"field": "cluster_id", "message": f"is required for a {self.kind} rule"})
        bad = check_threshold(self.kind, self.threshold)
        if bad:
            out.append({"field": "threshold", "message": bad})
        if self.kind in ("lag_growth", "stream_idle") and parse_duration(self.for_) <= 0:
            out.append(
                {
                    "field": "for",
                    "message": f"must be longer than 0s for a {self.kind} "
                    "rule (it compares the start and the end)",
                }
            )
        return out


class RuleCreate(RuleFields):
    pass


class RuleChange(BaseModel):
    """Any of the fields; the result is checked as a whole."""

    model_config = ConfigDict(extra="forbid")

    name: Label | None = Field(None, min_length=1, max_length=255)
    kind: Kind | None = None
    cluster_id: uuid.UUID | None = None
    stream: JsName | None = None
    consumer: JsName | None = None
    team_id: uuid.UUID | None = None
    threshold: float | None = None
    for_: str | None = Field(None, alias="for")
    channels: list[str] | None = Field(None, max_length=20)
    severity: Severity | None = None
    cooldown: str | None = None
    enabled: bool | None = None


class RuleStateView(BaseModel):
    status: Literal["ok", "firing"] = "ok"
    since: datetime | None = None
    value: float | None = None
    detail: str = ""
    evaluated_at: datetime | None = None
    snoozed_until: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    last_notified_at: datetime | None = None
    last_event_id: uuid.UUID | None = None


class RuleView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    name: str
    kind: str
    cluster_id: uuid.UUID | None
    stream: str | None
    consumer: str | None
    team_id: uuid.UUID | None
    threshold: float
    for_: str = Field(alias="for")
    channels: list[str]
    severity: str
    cooldown: str
    enabled: bool
    created_at: datetime | None = None
    updated_at: datetime | None = None
    state: RuleStateView


class RuleList(BaseModel):
    items: list[RuleView]


class TestRequest(BaseModel):
    """An existing rule (``rule_id``) or a rule's body (``rule``), evaluated now."""

    model_config = ConfigDict(extra="forbid")

    rule_id: uuid.UUID | None = None
    rule: RuleCreate | None = None


class TestResult(BaseModel):
    value: float | None = Field(description="what the rule measures now (None: not known)")
    threshold: float
    would_fire: bool = Field(description="breached now (a firing rule stays firing)")
    known: bool = Field(description="whether the data says (enough recent samples)")
    detail: str = ""
    status: Literal["ok", "firing"] | None = Field(None, description="the rule's state (rule_id)")


class SnoozeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    for_: str = Field(alias="for", description='e.g. "1h"; "0s" ends a snooze')

    @field_validator("for_")
    @classmethod
    def _for(cls, value: str) -> str:
        return _duration(value, MAX_FOR_S, "for")


class EventList(BaseModel):
    items: list[AlertEvent]
    limit: int
    offset: int
    next_offset: int | None = Field(description="the next page's offset (None: no more)")
