"""The rule state machine, as tables: transitions numbered, cooldown, snooze, holding a breach."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from core.alerts.measure import Measurement
from core.alerts.state import RuleState, step

T0 = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
BREACH, CLEAR, UNKNOWN = Measurement(20, True), Measurement(1, False), Measurement(None, None)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


START = RuleState()


def run(measurements, state=START, **kw):
    """[(seconds, measurement)] -> (final state, [(number, status, notify)])."""
    out = []
    for seconds, measured in measurements:
        state, t = step(state, measured, at(seconds), **kw)
        if t:
            out.append((t.number, t.status, t.notify))
    return state, out


def test_fires_once_then_resolves():
    state, got = run([(0, BREACH), (30, BREACH), (60, CLEAR), (90, CLEAR)])
    assert got == [(1, "firing", True), (2, "resolved", True)]
    assert state.status == "ok" and state.resolved_at == at(60)


def test_unknown_data_keeps_the_state():
    state, got = run([(0, BREACH), (30, UNKNOWN), (60, UNKNOWN)])
    assert got == [(1, "firing", True)] and state.status == "firing"


def test_refiring_within_the_cooldown_is_recorded_not_notified():
    _, got = run(
        [(0, BREACH), (30, CLEAR), (60, BREACH), (90, CLEAR), (2000, BREACH)], cooldown_s=900
    )
    assert got == [
        (1, "firing", True),
        (2, "resolved", True),
        (3, "firing", False),
        (4, "resolved", False),
        (5, "firing", True),
    ]


def test_a_snoozed_rule_notifies_nothing_until_the_snooze_ends():
    snoozed = RuleState(snoozed_until=at(100))
    _, got = run([(0, BREACH), (50, CLEAR), (200, BREACH)], state=snoozed)
    assert got == [(1, "firing", False), (2, "resolved", False), (3, "firing", True)]


def test_a_held_breach_fires_only_once_it_lasted():
    _, got = run([(0, BREACH), (30, BREACH), (60, BREACH)], hold_s=60)
    assert got == [(1, "firing", True)]
    _, got = run([(0, BREACH), (30, CLEAR), (60, BREACH), (90, BREACH)], hold_s=60)
    assert got == []  # the breach was interrupted: it starts again at 60


def test_resolving_clears_the_acknowledgement():
    state, _ = run([(0, BREACH)])
    state = replace(state, acknowledged_by="ops@example.com", acknowledged_at=at(10))
    state, _ = run([(20, CLEAR)], state=state)
    assert state.acknowledged_by is None and state.acknowledged_at is None
