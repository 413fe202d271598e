"""Rules as stored in ``alert_rules`` (``condition``: kind, stream, consumer, team id, for and
cooldown in seconds; ``threshold``: ``{"value": N}``) and their state rows, to and from the pure
model."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from core.alerts.rules import Rule
from core.alerts.state import RuleState
from core.db.alert_models import AlertRuleState
from core.db.models import AlertRule


def rule_of(row: AlertRule) -> Rule:
    c = row.condition or {}
    team = c.get("team_id")
    return Rule(
        id=row.id,
        org_id=row.org_id,
        name=row.name,
        kind=c["kind"],
        cluster_id=row.cluster_id,
        stream=c.get("stream"),
        consumer=c.get("consumer"),
        team_id=uuid.UUID(team) if team else None,
        threshold=float((row.threshold or {}).get("value", 0)),
        for_s=float(c.get("for_s", 0)),
        cooldown_s=float(c.get("cooldown_s", row.cooldown_mins * 60)),
        severity=row.severity,
        channels=tuple(row.channels or ()),
    )


def state_of(row: AlertRuleState | None) -> RuleState:
    if row is None:
        return RuleState()
    return RuleState(
        status=row.status,
        since=row.since,
        transitions=row.transitions,
        last_value=row.last_value,
        breach_since=row.breach_since,
        resolved_at=row.resolved_at,
        firing_notified=row.firing_notified,
        snoozed_until=row.snoozed_until,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
    )


def write_state(row: AlertRuleState, state: RuleState) -> None:
    for key, value in asdict(state).items():
        setattr(row, key, value)
