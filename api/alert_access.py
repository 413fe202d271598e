"""What the alert routes share: a rule of the caller's organization (else 404), its view with its
state, the checks of what a rule names (its cluster, team and webhooks must be the
organization's), and the reads of ``alert_events`` (ClickHouse, FINAL, scoped to the
organization)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.alert_schemas import RuleFields, RuleStateView, RuleView
from api.errors import ProblemError
from core.alerts.events import AlertEvent
from core.alerts.rules import format_duration, parse_duration
from core.alerts.stored import rule_of
from core.analytics.store import AnalyticsStore
from core.db.alert_models import AlertRuleState
from core.db.models import AlertRule, NatsCluster, Team, Webhook


async def load_rule(db: AsyncSession, org_id: uuid.UUID, rule_id: uuid.UUID) -> AlertRule:
    row = await db.scalar(
        select(AlertRule).where(AlertRule.id == rule_id, AlertRule.org_id == org_id)
    )
    if row is None:
        raise ProblemError(404, f"No alert rule with id {rule_id} in your organization.")
    return row


async def load_state(db: AsyncSession, rule_id: uuid.UUID) -> AlertRuleState | None:
    return await db.get(AlertRuleState, rule_id)


async def check_owned(db: AsyncSession, org_id: uuid.UUID, body: RuleFields) -> None:
    """The cluster first (404 before anything else is said), then what does not go with the
    kind (422), then the team (404) and the webhooks the channels name (422)."""
    if (
        body.cluster_id is not None
        and await db.scalar(
            select(NatsCluster.id).where(
                NatsCluster.id == body.cluster_id, NatsCluster.org_id == org_id
            )
        )
        is None
    ):
        raise ProblemError(404, f"No cluster with id {body.cluster_id} in your organization.")
    problems = body.problems()
    if problems:
        detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise ProblemError(422, f"Invalid input: {detail}", errors=problems)
    if (
        body.team_id is not None
        and await db.scalar(select(Team.id).where(Team.id == body.team_id, Team.org_id == org_id))
        is None
    ):
        raise ProblemError(404, f"No team with id {body.team_id} in your organization.")
    wanted = [uuid.UUID(c.split(":", 1)[1]) for c in body.channels if c.startswith("webhook:")]
    if wanted:
        found = set(
            await db.scalars(
                select(Webhook.id).where(Webhook.org_id == org_id, Webhook.id.in_(wanted))
            )
        )
        missing = [str(w) for w in wanted if w not in found]
        if missing:
            message = f"no webhook with id {', '.join(missing)} in your organization"
            raise ProblemError(
                422,
                f"Invalid input: channels: {message}",
                errors=[{"field": "channels", "message": message}],
            )


def stored_values(body: RuleFields) -> dict[str, Any]:
    cooldown_s = parse_duration(body.cooldown)
    return {
        "name": body.name,
        "cluster_id": body.cluster_id,
        "severity": body.severity,
        "channels": body.channels,
        "is_enabled": body.enabled,
        "cooldown_mins": int(cooldown_s // 60),
        "condition": {
            "kind": body.kind,
            "stream": body.stream,
            "consumer": body.consumer,
            "team_id": str(body.team_id) if body.team_id else None,
            "for_s": parse_duration(body.for_),
            "cooldown_s": cooldown_s,
        },
        "threshold": {"value": body.threshold},
    }


def fields_of(row: AlertRule) -> dict[str, Any]:
    """The rule as a request body would give it (for PATCH merges and audit records)."""
    rule = rule_of(row)
    return {
        "name": row.name,
        "kind": rule.kind,
        "cluster_id": row.cluster_id,
        "stream": rule.stream,
        "consumer": rule.consumer,
        "team_id": rule.team_id,
        "threshold": rule.threshold,
        "for": format_duration(rule.for_s),
        "channels": list(row.channels or []),
        "severity": row.severity,
        "cooldown": format_duration(rule.cooldown_s),
        "enabled": row.is_enabled,
    }


def view(row: AlertRule, state: AlertRuleState | None) -> RuleView:
    s = RuleStateView()
    if state is not None:
        s = RuleStateView(
            status=state.status,
            since=state.since,
            value=state.last_value,
            detail=state.detail,
            evaluated_at=state.evaluated_at,
            snoozed_until=state.snoozed_until,
            acknowledged_by=state.acknowledged_by,
            acknowledged_at=state.acknowledged_at,
            last_notified_at=state.last_notified_at,
            last_event_id=state.last_event_id,
        )
    return RuleView(
        id=row.id, created_at=row.created_at, updated_at=row.updated_at, state=s, **fields_of(row)
    )


def _events_sql(filters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    where, params = ["org_id = {org:UUID}"], {"org": str(filters["org_id"])}
    for key, clause in (
        ("rule_id", "alert_rule_id = {rule_id:UUID}"),
        ("status", "status = {status:String}"),
        ("since", "timestamp >= {since:DateTime64(3)}"),
        ("until", "timestamp <= {until:DateTime64(3)}"),
        ("cluster_id", "cluster_id = {cluster_id:UUID}"),
        ("id", "id = {id:UUID}"),
    ):
        value = filters.get(key)
        if value is not None:
            where.append(clause)
            params[key] = _param(value)
    return " AND ".join(where), params


def _param(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


async def read_events(
    store: AnalyticsStore, limit: int = 50, offset: int = 0, **filters: Any
) -> list[AlertEvent]:
    where, params = _events_sql(filters)
    sql = (
        f"SELECT body FROM alert_events FINAL WHERE {where} "
        "ORDER BY timestamp DESC, id LIMIT {limit:UInt32} OFFSET {offset:UInt32}"
    )
    rows = await asyncio.to_thread(store.query, sql, {**params, "limit": limit, "offset": offset})
    return [AlertEvent.model_validate_json(body) for (body,) in rows if body]
