"""One evaluation pass, in the API process (the only one that may open chdb): each enabled rule
is measured against the raw samples in ClickHouse (quota usage: against the clusters, as the
quota routes read it), its state stepped in PostgreSQL under a row lock, and a transition's event
appended to the rule's ``pending`` events in the same transaction. The pass answers every pending
event of the rules it looked at; they leave ``pending`` only once delivered (``delivered``), so a
pass retried after a crash, or the next pass, answers them again and nothing is lost or doubled.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import quotas
from core.alerts import measure as m
from core.alerts import queries as q
from core.alerts.events import AlertEvent, make_event
from core.alerts.rules import Rule
from core.alerts.state import step
from core.alerts.stored import rule_of, state_of, write_state
from core.analytics.store import AnalyticsStore
from core.db.alert_models import AlertRuleState
from core.db.models import AlertRule, Team
from core.jetstream.pool import ClusterPool
from core.security import Cipher

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Evaluator:
    sessions: async_sessionmaker[AsyncSession]
    store: AnalyticsStore
    pool: ClusterPool
    cipher: Cipher
    grace_s: float = 30.0

    async def measure(self, rule: Rule, now: datetime) -> m.Measurement:
        """The rule's value now and whether it is breached (None: the data does not say)."""
        try:
            return await self._measure(rule, now)
        except Exception as exc:  # one rule's failure must not stop the others
            log.warning("alert rule %s could not be measured: %s", rule.id, exc)
            return m.Measurement(None, None, f"could not be measured: {exc}")

    async def _measure(self, rule: Rule, now: datetime) -> m.Measurement:
        g, t, d = self.grace_s, rule.threshold, rule.for_s

        def series(fn: Callable[..., T], *args: Any) -> Coroutine[Any, Any, T]:
            return asyncio.to_thread(fn, self.store, rule, now, g, *args)

        kind = rule.kind
        if kind == "consumer_lag":
            return m.over(await series(q.consumer_series), now, t, d, g)
        if kind == "lag_growth":
            return m.growing(await series(q.consumer_series), now, t, d, g)
        if kind == "stream_idle":
            return m.idle(await series(q.stream_series, "last_seq"), now, t, d, g)
        if kind == "storage_pct":
            points = await series(q.storage_series)
            if not points:
                return m.Measurement(
                    None,
                    None,
                    "no recent sample of the stream with a max_bytes "
                    "limit (a stream without one has no percentage)",
                )
            return m.over(points, now, t, d, g)
        if kind == "mirror_lag":
            lags = await series(q.stream_series, "mirror_lag", "AND mirror_lag IS NOT NULL")
            active_ms, error = await series(q.mirror_active_ms)
            return m.mirror(lags, active_ms, now, t, d, g, error)
        if kind == "server_health":
            return m.unreachable(await series(q.reachable_series), now, d, g)
        if kind == "rate_anomaly":
            baseline = await asyncio.to_thread(q.same_hour_baseline, self.store, rule, now)
            return m.anomalous(
                await series(q.stream_series, "messages_rate"), baseline, now, t, d, g
            )
        if kind == "quota_pct":
            return await self._quota(rule)
        raise ValueError(f"unknown kind {kind}")

    async def _quota(self, rule: Rule) -> m.Measurement:
        """The highest percentage of any limited quota of the team (of any team of the
        organization when the rule names none)."""
        async with self.sessions() as db:
            teams = (
                [rule.team_id]
                if rule.team_id
                else list(await db.scalars(select(Team.id).where(Team.org_id == rule.org_id)))
            )
            worst: tuple[float, str] | None = None
            for team_id in teams:
                limit_by_name = await quotas.limits(db, team_id)
                if not limit_by_name:
                    continue
                usage = await quotas.live_usage(db, self.pool, self.cipher, team_id)
                for line in quotas.report(limit_by_name, usage):
                    if line["percent"] is not None and (
                        worst is None or line["percent"] > worst[0]
                    ):
                        worst = (
                            line["percent"],
                            f"{line['label']}: {line['usage']:g} of {line['limit']:g}",
                        )
        if worst is None:
            return m.percent_over(None, rule.threshold)
        return m.percent_over(worst[0], rule.threshold, worst[1])

    async def evaluate(
        self, rule_ids: list[str] | None = None, now: datetime | None = None
    ) -> list[AlertEvent]:
        """Evaluate the enabled rules (those of ``rule_ids`` only, when given) and answer the
        pending events of every rule looked at, oldest first. A rule turned off while firing is
        resolved ("turned off"), so nobody is left with an alert that never ends."""
        now = now or datetime.now(UTC)
        firing = select(AlertRuleState.rule_id).where(AlertRuleState.status == "firing")
        query = select(AlertRule).where(
            or_(AlertRule.is_enabled.is_(True), AlertRule.id.in_(firing))
        )
        if rule_ids is not None:
            query = query.where(AlertRule.id.in_([uuid.UUID(r) for r in rule_ids]))
        async with self.sessions() as db:
            rows = list(await db.scalars(query.order_by(AlertRule.id)))
        pending: list[AlertEvent] = []
        for row in rows:
            rule = rule_of(row)
            measured = (
                await self.measure(rule, now)
                if row.is_enabled
                else m.Measurement(None, False, "the rule was turned off")
            )
            async with self.sessions() as db, db.begin():
                pending += await _step(db, rule, measured, now)
        return sorted(pending, key=lambda e: (e.timestamp, e.transition))


async def locked_state(db: AsyncSession, rule_id: uuid.UUID, org_id: uuid.UUID) -> AlertRuleState:
    """The rule's state row, created when missing, locked for this transaction."""
    await db.execute(
        insert(AlertRuleState)
        .values(
            rule_id=rule_id,
            org_id=org_id,
            status="ok",
            transitions=0,
            detail="",
            firing_notified=False,
            pending=[],
        )
        .on_conflict_do_nothing()
    )
    return (
        await db.scalars(
            select(AlertRuleState)
            .where(AlertRuleState.rule_id == rule_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()


async def _step(
    db: AsyncSession, rule: Rule, measured: m.Measurement, now: datetime
) -> list[AlertEvent]:
    row = await locked_state(db, rule.id, rule.org_id)
    state, transition = step(
        state_of(row), measured, now, hold_s=rule.hold_s, cooldown_s=rule.cooldown_s
    )
    write_state(row, state)
    row.evaluated_at, row.detail = now, measured.detail[:2000]
    if transition is not None:
        event = make_event(rule, transition)
        row.last_event_id = event.id
        row.pending = [*row.pending, event.body()]
    return [AlertEvent.model_validate(p) for p in row.pending]


async def delivered(sessions: async_sessionmaker[AsyncSession], event: AlertEvent) -> None:
    """The event left ``pending`` (idempotent); when it notified, the rule records when."""
    async with sessions() as db, db.begin():
        row = await db.scalar(
            select(AlertRuleState).where(AlertRuleState.rule_id == event.rule_id).with_for_update()
        )
        if row is None:
            return
        kept = [p for p in row.pending if p.get("id") != str(event.id)]
        if len(kept) != len(row.pending):
            row.pending = kept
            if event.notify:
                row.last_notified_at = datetime.now(UTC)
