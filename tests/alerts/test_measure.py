"""The pure measurements, as tables: "over N for D" is every sample of the last D over N, and the
samples cover D."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.alerts import measure as m
from core.alerts.measure import Point

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
GRACE = 30.0


def series(*pairs: tuple[float, float]) -> list[Point]:
    """(seconds ago, value) pairs."""
    return [Point(NOW - timedelta(seconds=ago), value) for ago, value in pairs]


@pytest.mark.parametrize(
    "points, for_s, expected",
    [
        (series((0, 10)), 0, [10]),  # D = 0: the newest sample alone
        (series((40, 10)), 0, None),  # stale: older than the grace
        ([], 0, None),
        (
            series((70, 1), (60, 2), (30, 3), (0, 4)),
            60,
            [2, 3, 4],
        ),  # the sample at the start counts
        (series((50, 2), (0, 4)), 60, None),  # nothing at or before the start: not covered
        (series((100, 2), (0, 4)), 60, None),  # the sample before the start is too old
        (series((75, 1), (0, 4)), 60, [1, 4]),  # 15 s before the start: within the grace
    ],
)
def test_window(points, for_s, expected):
    w = m.window(points, NOW, for_s, GRACE)
    assert (None if w is None else [p.value for p in w]) == expected


@pytest.mark.parametrize(
    "points, threshold, for_s, breached, value",
    [
        (series((0, 11)), 10, 0, True, 11),
        (series((0, 10)), 10, 0, False, 10),  # over, not equal
        (series((60, 20), (30, 20), (0, 20)), 10, 60, True, 20),
        (series((60, 20), (30, 5), (0, 20)), 10, 60, False, 20),  # one sample under
        (series((30, 20), (0, 20)), 10, 60, None, 20),  # does not cover 60 s yet
    ],
)
def test_over(points, threshold, for_s, breached, value):
    got = m.over(points, NOW, threshold, for_s, GRACE)
    assert (got.breached, got.value) == (breached, value)


@pytest.mark.parametrize(
    "points, threshold, breached, value",
    [
        (series((60, 10), (30, 20), (0, 30)), 5, True, 20),
        (series((60, 10), (30, 5), (0, 30)), 5, False, 20),  # went down in between
        (series((60, 10), (30, 12), (0, 13)), 5, False, 3),  # grew less than the threshold
        (series((60, 10), (0, 10)), 0, False, 0),  # flat is not growing, even with threshold 0
    ],
)
def test_growing(points, threshold, breached, value):
    got = m.growing(points, NOW, threshold, 60, GRACE)
    assert (got.breached, got.value) == (breached, value)


@pytest.mark.parametrize(
    "points, threshold, breached, value",
    [
        (series((60, 100), (30, 100), (0, 100)), 0, True, 0),
        (series((60, 100), (0, 101)), 0, False, 1),
        (series((60, 100), (0, 103)), 5, True, 3),
        (series((10, 100), (0, 100)), 0, None, 100),  # not covered: cannot say it was idle for 60 s
    ],
)
def test_idle(points, threshold, breached, value):
    got = m.idle(points, NOW, threshold, 60, GRACE)
    assert (got.breached, got.value) == (breached, value)


@pytest.mark.parametrize(
    "rates, baseline, breached, value",
    [
        (series((0, 0)), 100.0, True, 1.0),  # silence against 100/s
        (series((0, 180)), 100.0, True, 0.8),
        (series((0, 120)), 100.0, False, 0.2),
        (series((0, 0)), None, None, None),  # no history: cannot say
        (series((0, 0)), 0.0, None, None),
    ],
)
def test_anomalous(rates, baseline, breached, value):
    got = m.anomalous(rates, baseline, NOW, 0.5, 0, GRACE)
    assert (got.breached, got.value) == (breached, value)


@pytest.mark.parametrize(
    "lags, active_ms, for_s, breached",
    [
        (series((0, 50)), 100.0, 0, True),  # lag over 10
        (series((0, 5)), 100.0, 0, False),
        (series((0, 0)), 120_000.0, 60, None),  # the samples do not cover the window: cannot say
        (series((60, 0), (0, 0)), 120_000.0, 60, True),  # silent longer than the window: lagging
        (series((60, 0), (0, 0)), 10_000.0, 60, False),
    ],
)
def test_mirror(lags, active_ms, for_s, breached):
    assert m.mirror(lags, active_ms, NOW, 10, for_s, GRACE).breached is breached


def test_a_mirror_whose_source_cannot_be_reached_is_lagging():
    """No activity to measure (the server says -1), no lag known beyond 0: its error says."""
    got = m.mirror(series((0, 0)), None, NOW, 10, 0, GRACE, "stream not found")
    assert got.breached is True and "stream not found" in got.detail
    assert m.mirror(series((0, 0)), None, NOW, 10, 0, GRACE, "").breached is False


@pytest.mark.parametrize(
    "reachable, for_s, breached, value",
    [
        (series((0, 0)), 0, True, 1),
        (series((0, 1)), 0, False, 0),
        (series((60, 0), (30, 0), (0, 0)), 60, True, 1),
        (series((60, 0), (30, 1), (0, 0)), 60, False, 1),
        ([], 0, None, None),
    ],
)
def test_unreachable(reachable, for_s, breached, value):
    got = m.unreachable(reachable, NOW, for_s, GRACE)
    assert (got.breached, got.value) == (breached, value)


@pytest.mark.parametrize(
    "value, threshold, breached", [(100.0, 80, True), (80.0, 80, False), (None, 80, None)]
)
def test_percent_over(value, threshold, breached):
    assert m.percent_over(value, threshold).breached is breached
