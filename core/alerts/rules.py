"""The alert rule model: the kinds, which of stream / consumer / team each needs, what the
threshold means, and durations such as ``"5m"``. Pure."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Literal

KINDS = (
    "consumer_lag",
    "lag_growth",
    "stream_idle",
    "rate_anomaly",
    "storage_pct",
    "mirror_lag",
    "server_health",
    "quota_pct",
)
Kind = Literal[
    "consumer_lag",
    "lag_growth",
    "stream_idle",
    "rate_anomaly",
    "storage_pct",
    "mirror_lag",
    "server_health",
    "quota_pct",
]
SEVERITIES = ("info", "warning", "critical")
Severity = Literal["info", "warning", "critical"]
MAX_FOR_S = 7 * 24 * 3600
MAX_COOLDOWN_S = 7 * 24 * 3600
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d)")


@dataclass(frozen=True)
class KindSpec:
    needs_stream: bool
    needs_consumer: bool
    threshold: str  # what the threshold means, for people (and the 422s)
    minimum: float = 0.0
    maximum: float | None = None
    team: bool = False  # may name a team (quota_pct)


SPECS: dict[str, KindSpec] = {
    "consumer_lag": KindSpec(True, True, "the lag (messages not yet processed) it must stay over"),
    "lag_growth": KindSpec(
        True, True, "the minimum growth of the lag, in messages, over the window"
    ),
    "stream_idle": KindSpec(
        True, False, "the most new messages over the window that still count as idle (usually 0)"
    ),
    "rate_anomaly": KindSpec(
        True,
        False,
        "the relative deviation of the in-rate from the same hour's 7-day average (0.5 = 50%)",
        maximum=1000.0,
    ),
    "storage_pct": KindSpec(True, False, "the percentage of the stream's max_bytes", maximum=100.0),
    "mirror_lag": KindSpec(True, False, "the mirror's lag in messages"),
    "server_health": KindSpec(
        False, False, "unused (0): the cluster unreachable for the window", maximum=0.0
    ),
    "quota_pct": KindSpec(
        False, False, "the percentage of a team's quota used", maximum=1000.0, team=True
    ),
}


def parse_duration(value: str | int | float) -> float:
    """Seconds of ``"30s"``, ``"5m"``, ``"1h30m"``, ``"0s"`` (or a number of seconds)."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 30s, 5m, 1h")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("must not be negative")
        return float(value)
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"'{value}' is not a duration: use e.g. 0s, 30s, 5m, 1h, 1d")
    return float(sum(int(n) * _UNITS[u] for n, u in parts))


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds == 0:
        return "0s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out


@dataclass(frozen=True)
class Rule:
    """What evaluation needs of a stored rule."""

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    kind: str
    cluster_id: uuid.UUID | None
    stream: str | None
    consumer: str | None
    team_id: uuid.UUID | None
    threshold: float
    for_s: float
    cooldown_s: float
    severity: str
    channels: tuple[str, ...]

    @property
    def hold_s(self) -> float:
        """How long a breach must last across evaluations before firing: kinds measured at one
        instant (quota usage) hold it themselves; the others measure over the window already."""
        return self.for_s if self.kind == "quota_pct" else 0.0


def check_targets(
    kind: str, stream: str | None, consumer: str | None, team_id: uuid.UUID | None
) -> list[tuple[str, str]]:
    """(field, message) for each target that does not go with the kind."""
    spec = SPECS[kind]
    problems = []
    if spec.needs_stream and not stream:
        problems.append(("stream", f"is required for a {kind} rule"))
    if not spec.needs_stream and stream:
        problems.append(("stream", f"is not used by a {kind} rule"))
    if spec.needs_consumer and not consumer:
        problems.append(("consumer", f"is required for a {kind} rule"))
    if not spec.needs_consumer and consumer:
        problems.append(("consumer", f"is not used by a {kind} rule"))
    if team_id and not spec.team:
        problems.append(("team_id", f"is not used by a {kind} rule"))
    return problems


def check_threshold(kind: str, threshold: float) -> str | None:
    spec = SPECS[kind]
    if threshold < spec.minimum or (spec.maximum is not None and threshold > spec.maximum):
        bound = (
            f"between {spec.minimum:g} and {spec.maximum:g}"
            if spec.maximum is not None
            else f"at least {spec.minimum:g}"
        )
        return f"must be {bound} for a {kind} rule ({spec.threshold})"
    return None


CHANNEL = re.compile(r"^(in_app|webhook:[0-9a-fA-F-]{36})$")


def check_channel(value: str) -> str:
    if not CHANNEL.match(value):
        raise ValueError(f"'{value}' is not a channel: use in_app or webhook:<webhook id>")
    return value.lower()
