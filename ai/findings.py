"""What the deterministic analyzers report: a ``Finding`` (a problem, its evidence, what to do)
and a ``Diagnosis`` (the findings of one look at some scope, with what was checked and what could
not be read). Shared by the analyzers, the chat, the API, the CLI and the UI."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

FindingCode = Literal[
    "consumer_lag_growing",  # lag rising over the recent history
    "consumer_stalled",  # messages pending, nothing acknowledged for a while
    "redelivery_storm",  # many redeliveries compared with deliveries
    "ack_pending_near_max",  # ack pending close to max_ack_pending (delivery stops there)
    "storage_near_limit",  # bytes / messages close to the stream's (or account's) limit
    "mirror_behind",  # a mirror's lag above the threshold
    "mirror_broken",  # a mirror that cannot reach its source (error, no activity)
    "stream_idle",  # nothing stored for a long time
    "quota_near_limit",  # a team's usage close to its quota
    "filter_matches_nothing",  # a consumer's filter outside the stream's subjects, or no message
]
Severity = Literal["info", "warning", "critical"]
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


class Finding(BaseModel):
    code: FindingCode
    severity: Severity
    title: str  # one line: "Consumer 'billing' on ORDERS is stalled"
    summary: str  # a sentence with the numbers
    evidence: dict[str, Any] = Field(default_factory=dict)  # the figures it rests on
    suggestion: str = ""  # what a person could do
    cluster_id: str | None = None
    stream: str | None = None
    consumer: str | None = None
    team_id: str | None = None  # quota findings


class Checked(BaseModel):
    cluster_id: str
    stream: str | None = None
    consumer: str | None = None


class Diagnosis(BaseModel):
    findings: list[Finding] = Field(default_factory=list)
    checked: list[Checked] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)  # what could not be read, and why

    def sorted(self) -> Diagnosis:
        order = sorted(
            self.findings,
            key=lambda f: (SEVERITY_ORDER[f.severity], f.code, f.stream or "", f.consumer or ""),
        )
        return self.model_copy(update={"findings": order})
