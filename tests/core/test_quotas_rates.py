"""Traffic rates of a team from the servers' counters compared between two reads (pure)."""

from __future__ import annotations

import pytest

from core.quotas import rates


@pytest.mark.parametrize(
    "previous, current, now, expected",
    [
        (None, {"a": [10, 5]}, 100, None),
        ({"t": 99, "counters": {"a": [0, 0]}}, {"a": [10, 5]}, 100, None),  # under 2 s
        ({"t": 0, "counters": {"a": [0, 0]}}, {"a": [10, 5]}, 1000, None),  # over 15 min
        (
            {"t": 90, "counters": {"a": [0, 0]}},
            {"a": [100, 50]},
            100,
            {"inbound_rate": 10.0, "outbound_rate": 5.0},
        ),
        (
            {"t": 90, "counters": {"a": [0, 0], "gone": [5, 5]}},
            {"a": [20, 0], "new": [900, 900]},
            100,
            {"inbound_rate": 2.0, "outbound_rate": 0.0},
        ),  # created or deleted streams count nothing
        (
            {"t": 90, "counters": {"a": [500, 500]}},
            {"a": [3, 1]},
            100,
            {"inbound_rate": 0.0, "outbound_rate": 0.0},
        ),  # recreated: the counter went back
    ],
)
def test_rates(previous, current, now, expected):
    assert rates(previous, current, now) == expected
