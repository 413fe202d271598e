"""The pure evaluation of a rule over the samples of its metric.

"Over N for D" means: every sample of the last D is over N, and the samples cover D — there is a
sample at or before the start of the window (at most ``grace_s`` before it, so a gap in collection
is not taken for a steady value) and the newest sample is at most ``grace_s`` old. The sample at or
before the start counts: the value has been what it is since then. With D = 0 the newest sample
alone decides. Samples that do not cover the window answer "cannot say" (``breached`` None): the
rule's state stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise


@dataclass(frozen=True)
class Point:
    ts: datetime
    value: float


@dataclass(frozen=True)
class Measurement:
    value: float | None  # what the rule measures now (the newest sample's, or over the window)
    breached: bool | None  # None: the data does not say (none, stale, or not covering D)
    detail: str = ""  # for people: why it could not say, or what the value is


def window(points: list[Point], now: datetime, for_s: float, grace_s: float) -> list[Point] | None:
    """The samples that cover the last ``for_s`` seconds (oldest first), or None when they do
    not."""
    recent = sorted((p for p in points if p.ts <= now), key=lambda p: p.ts)
    if not recent or (now - recent[-1].ts).total_seconds() > grace_s:
        return None
    if for_s <= 0:
        return [recent[-1]]
    start = now - timedelta(seconds=for_s)
    before = [p for p in recent if p.ts <= start]
    if not before or (start - before[-1].ts).total_seconds() > grace_s:
        return None
    return [before[-1], *(p for p in recent if p.ts > start)]


def _uncovered(points: list[Point], for_s: float) -> Measurement:
    latest = max(points, key=lambda p: p.ts).value if points else None
    why = "no recent samples" if not points else f"the samples do not cover the last {for_s:g}s yet"
    return Measurement(latest, None, why)


def over(
    points: list[Point], now: datetime, threshold: float, for_s: float, grace_s: float
) -> Measurement:
    """Every sample of the window over ``threshold`` (consumer_lag, storage_pct, mirror_lag)."""
    w = window(points, now, for_s, grace_s)
    if w is None:
        return _uncovered(points, for_s)
    return Measurement(w[-1].value, all(p.value > threshold for p in w))


def growing(
    points: list[Point], now: datetime, threshold: float, for_s: float, grace_s: float
) -> Measurement:
    """lag_growth: the lag never went down over the window and grew by at least ``threshold``
    (and at least 1). The value is the growth."""
    w = window(points, now, for_s, grace_s)
    if w is None or len(w) < 2:
        return _uncovered(points, for_s) if w is None else Measurement(0.0, False)
    growth = w[-1].value - w[0].value
    steady = all(b.value >= a.value for a, b in pairwise(w))
    return Measurement(growth, steady and growth >= max(threshold, 1))


def idle(
    last_seqs: list[Point], now: datetime, threshold: float, for_s: float, grace_s: float
) -> Measurement:
    """stream_idle: at most ``threshold`` new messages (last sequence) over the window. The
    value is the number of new messages."""
    w = window(last_seqs, now, for_s, grace_s)
    if w is None:
        return _uncovered(last_seqs, for_s)
    added = max(0.0, w[-1].value - w[0].value)
    return Measurement(added, added <= threshold)


def deviation(rate: float, baseline: float) -> float:
    return abs(rate - baseline) / baseline


def anomalous(
    rates: list[Point],
    baseline: float | None,
    now: datetime,
    threshold: float,
    for_s: float,
    grace_s: float,
) -> Measurement:
    """rate_anomaly: every in-rate of the window deviates from ``baseline`` (the same hour of
    day's average over the previous 7 days) by more than ``threshold`` (relative). The value is
    the newest rate's deviation."""
    if not baseline or baseline <= 0:
        return Measurement(None, None, "no history of this hour of day in the previous 7 days")
    w = window(rates, now, for_s, grace_s)
    if w is None:
        return _uncovered(rates, for_s)
    return Measurement(
        round(deviation(w[-1].value, baseline), 4),
        all(deviation(p.value, baseline) > threshold for p in w),
        f"in-rate {w[-1].value:g}/s against {baseline:g}/s usually",
    )


def mirror(
    lags: list[Point],
    active_ms: float | None,
    now: datetime,
    threshold: float,
    for_s: float,
    grace_s: float,
    error: str = "",
) -> Measurement:
    """mirror_lag: the lag over ``threshold`` for the window, or the mirror has not heard its
    source for longer than the window (``active_ms`` of the newest sample; with no window, for
    longer than ``grace_s``), or the server says it cannot reach its source (``error``: a
    mirror whose source was never reached has no activity to measure)."""
    measured = over(lags, now, threshold, for_s, grace_s)
    if error and measured.breached is not None:
        return Measurement(measured.value, True, f"its source cannot be reached: {error}")
    silent_s = (active_ms or 0) / 1000
    if active_ms is not None and measured.breached is not None and silent_s > (for_s or grace_s):
        return Measurement(measured.value, True, f"no word from its source for {silent_s:.0f}s")
    return measured


def unreachable(reachable: list[Point], now: datetime, for_s: float, grace_s: float) -> Measurement:
    """server_health: the cluster unreachable in every sample of the window (value 1: unhealthy
    now, 0: healthy)."""
    w = window(reachable, now, for_s, grace_s)
    if w is None:
        return _uncovered([Point(p.ts, 1 - p.value) for p in reachable], for_s)
    return Measurement(1 - w[-1].value, all(p.value == 0 for p in w))


def percent_over(value: float | None, threshold: float, detail: str = "") -> Measurement:
    """quota_pct: usage (percent) measured now over ``threshold``."""
    if value is None:
        return Measurement(None, None, detail or "no quota of the team is limited")
    return Measurement(value, value > threshold, detail)
