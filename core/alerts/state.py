"""A rule's state machine: ``ok`` <-> ``firing``, one transition at a time, numbered.

A transition is notified unless the rule is snoozed, or — for a firing — the rule resolved less
than its cooldown ago (it flaps); a resolution is notified only when its firing was. Either way
the event is recorded. A breach that must hold (``hold_s``: kinds measured at one instant) fires
only once it has lasted that long across evaluations. Acknowledging a firing is kept until it
resolves. Pure: ``now`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from core.alerts.measure import Measurement


@dataclass(frozen=True)
class RuleState:
    status: str = "ok"  # ok | firing
    since: datetime | None = None
    transitions: int = 0
    last_value: float | None = None
    breach_since: datetime | None = None
    resolved_at: datetime | None = None
    firing_notified: bool = False
    snoozed_until: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class Transition:
    number: int  # the rule's transitions so far, this one included
    status: str  # firing | resolved
    notify: bool
    value: float | None
    at: datetime
    why_silent: str = ""  # snoozed / cooldown


def snoozed(state: RuleState, now: datetime) -> bool:
    return state.snoozed_until is not None and now < state.snoozed_until


def step(
    state: RuleState, m: Measurement, now: datetime, *, hold_s: float = 0.0, cooldown_s: float = 0.0
) -> tuple[RuleState, Transition | None]:
    value = m.value if m.value is not None else state.last_value
    if m.breached is None:
        return replace(state, last_value=value), None
    if m.breached:
        since = state.breach_since or now
        held = (now - since).total_seconds() >= hold_s
        state = replace(state, last_value=value, breach_since=since)
        if state.status == "firing" or not held:
            return state, None
        flapping = state.resolved_at is not None and now < state.resolved_at + timedelta(
            seconds=cooldown_s
        )
        silent = "snoozed" if snoozed(state, now) else "cooldown" if flapping else ""
        number = state.transitions + 1
        state = replace(
            state,
            status="firing",
            since=now,
            transitions=number,
            firing_notified=not silent,
            acknowledged_by=None,
            acknowledged_at=None,
        )
        return state, Transition(number, "firing", not silent, value, now, silent)
    state = replace(state, last_value=value, breach_since=None)
    if state.status != "firing":
        return state, None
    number = state.transitions + 1
    silent = (
        "snoozed"
        if snoozed(state, now)
        else ""
        if state.firing_notified
        else "its firing was not notified"
    )
    state = replace(
        state,
        status="ok",
        since=now,
        transitions=number,
        resolved_at=now,
        firing_notified=False,
        acknowledged_by=None,
        acknowledged_at=None,
    )
    return state, Transition(number, "resolved", not silent, value, now, silent)
