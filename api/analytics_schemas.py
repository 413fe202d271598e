"""Request bodies of the analytics routes: a structured metric query (also what a dashboard
stores, one per widget) and its time range."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from core.analytics.metrics_query import CATALOGUE, GROUPS

_RANGE = re.compile(r"^(\d{1,4})(m|h|d)$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days"}
MAX_RANGE = timedelta(days=730)


def parse_range(text: str) -> timedelta:
    """'15m', '24h', '7d' -> a timedelta; ValueError with a sentence otherwise."""
    match = _RANGE.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a range: use a number and m, h or d, e.g. '24h' or '7d'")
    span = timedelta(**{_UNIT[match[2]]: int(match[1])})
    if not timedelta(0) < span <= MAX_RANGE:
        raise ValueError("a range is between 1 minute and 730 days")
    return span


def window(
    range_: str | None, since: datetime | None, until: datetime | None
) -> tuple[datetime, datetime]:
    """The [since, until] a request means: explicit times, else the last ``range_`` (default 1h)."""
    end = until or datetime.now(UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    if since is not None:
        start = since if since.tzinfo else since.replace(tzinfo=UTC)
    else:
        start = end - parse_range(range_ or "1h")
    return start, end


class QueryFilters(BaseModel):
    cluster_id: uuid.UUID | None = Field(
        None, description="one cluster (default: every readable one)"
    )
    stream: str | None = Field(None, max_length=255, pattern=r"^[^.*>\s]+$")
    consumer: str | None = Field(None, max_length=255, pattern=r"^[^.*>\s]+$")


class AnalyticsQuery(BaseModel):
    """A metric over a time range: never SQL."""

    metric: str = Field(description="one of the catalogue, e.g. messages_rate, lag, ack_rate")
    filters: QueryFilters = Field(default_factory=QueryFilters)
    group_by: list[Literal["stream", "consumer", "cluster", "server"]] = Field(
        default_factory=list, max_length=3
    )
    aggregate: Literal["avg", "max", "min", "sum", "last"] = "avg"
    range: str | None = Field("1h", description="the last N minutes/hours/days: '15m', '24h', '7d'")
    since: datetime | None = None
    until: datetime | None = None
    resolution: Literal["raw", "hour", "day"] | None = Field(
        None, description="default: chosen from the range (raw up to 6 h, hourly up to 14 d)"
    )

    @field_validator("metric")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CATALOGUE:
            raise ValueError(f"'{value}' is not a metric; one of: {', '.join(sorted(CATALOGUE))}")
        return value

    @field_validator("range")
    @classmethod
    def _range(cls, value: str | None) -> str | None:
        if value is not None:
            parse_range(value)
        return value

    @model_validator(mode="after")
    def _times(self) -> AnalyticsQuery:
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


GROUP_NAMES = tuple(GROUPS)
