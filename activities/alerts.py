"""Alert activities.

- ``alerts_evaluate`` runs in the API process (task queue ``<task_queue>-analytics``, served by
  ``api.analytics_worker``): only it may open chdb. It measures, steps each rule's state and
  answers the pending events (``core.alerts.evaluation``).
- ``alert_publish`` (worker) records an event (``JSC_EVENTS`` kind ``alert``, msg id = event id,
  stored once in ``alert_events``), pushes it on the live stream (best effort), puts it in the
  organization members' in-app inboxes (idempotent by event id) and answers the webhooks it goes
  to: those the rule's ``channels`` name, or by default every enabled webhook of the organization
  that hears ``alert``.
- ``deliver_alert_webhook`` POSTs it, signed, with an ``X-JSC-Delivery`` id stable per (webhook,
  event): a retry is recognisable by its receiver.
- ``alert_delivered`` takes it out of the rule's pending events (idempotent).
"""

from __future__ import annotations

import logging
import uuid

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.notifications import NotificationActivities
from core.alerts.evaluation import Evaluator, delivered
from core.alerts.events import (
    WEBHOOK_EVENT,
    AlertEvent,
    EvaluationInput,
    WebhookDelivery,
    delivery_id,
    notification,
    webhook_body,
)
from core.db.models import OrganizationMember, Webhook
from core.events import EventPublisher
from core.live.publisher import LivePublisher
from core.live.subjects import alerts as live_alerts
from core.notify import delivery, inbox

log = logging.getLogger(__name__)


class AlertAnalyticsActivities:
    """Served by the API process only."""

    def __init__(self, evaluator: Evaluator):
        self.evaluator = evaluator

    @activity.defn(name="alerts_evaluate")
    async def alerts_evaluate(self, data: EvaluationInput) -> list[AlertEvent]:
        return await self.evaluator.evaluate(data.rule_ids)


class AlertActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        events: EventPublisher,
        notifications: NotificationActivities,
    ):
        self.sessions, self.redis, self.events = sessions, redis, events
        self.notifications = notifications

    @activity.defn(name="alert_publish")
    async def alert_publish(self, event: AlertEvent) -> list[str]:
        await self.events.publish("alert", str(event.id), event.body())
        try:
            await LivePublisher(self.events.nc).publish(
                live_alerts(event.org_id), event.body(), str(event.id)
            )
        except Exception as exc:  # best effort: clients also read the events API
            log.warning("alert event %s not pushed live: %s", event.id, exc)
        if not event.notify:
            return []
        chosen = [c.split(":", 1)[1] for c in event.channels if c.startswith("webhook:")]
        in_app = not event.channels or "in_app" in event.channels
        async with self.sessions() as db:
            hooks = (
                chosen
                if event.channels
                else await delivery.subscribed(db, event.org_id, WEBHOOK_EVENT)
            )
            users = (
                list(
                    await db.scalars(
                        select(OrganizationMember.user_id).where(
                            OrganizationMember.org_id == event.org_id
                        )
                    )
                )
                if in_app
                else []
            )
        if users:
            await inbox.push(self.redis, users, notification(event))
        return hooks

    @activity.defn(name="deliver_alert_webhook")
    async def deliver_alert_webhook(self, data: WebhookDelivery) -> None:
        event = data.event
        hook = await self._hook(data.webhook_id, event, data.chosen)
        if hook is not None:
            await self.notifications._post(
                hook,
                WEBHOOK_EVENT,
                delivery_id(hook.id, event),
                webhook_body(event, self.notifications.public_url),
            )

    async def _hook(self, webhook_id: str, event: AlertEvent, chosen: bool) -> Webhook | None:
        try:
            hook_id = uuid.UUID(webhook_id)
        except ValueError:
            return None
        async with self.sessions() as db:
            hook = await db.get(Webhook, hook_id)
        if (
            hook is None
            or hook.org_id != event.org_id
            or not hook.enabled
            or (not chosen and not delivery.hears(hook, WEBHOOK_EVENT))
        ):
            log.info("webhook %s is gone, disabled or no longer hears alerts; skipped", hook_id)
            return None
        return hook

    @activity.defn(name="alert_delivered")
    async def alert_delivered(self, event: AlertEvent) -> None:
        await delivered(self.sessions, event)
