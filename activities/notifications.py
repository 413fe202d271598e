"""Notification activities of the approval workflow: ``notify_request`` puts an event in each
recipient's in-app inbox and answers which webhooks hear it; ``deliver_webhook`` POSTs it, signed,
to one of them. The failover workflow asks ``dr_webhooks`` which webhooks hear ``dr.failover``, and
``deliver_dr_webhook`` tells one of them where a pair's clients write now. They are idempotent: a
notification's id is stable and delivered once per user; a webhook delivery carries the same
``X-JSC-Delivery`` id on every attempt, so its receiver can drop a repeat. During the grace after a
secret rotation a delivery is signed with the new and the replaced secret
(``core.notify.delivery.signing_secrets``). A delivery that fails
(connection error, timeout, any answer but 2xx) raises, and Temporal retries it with the workflow's
backoff; a webhook deleted or disabled meanwhile is skipped. A webhook whose address the outbound
policy (``JSC_ALLOWED_WEBHOOK_NETWORKS``) does not allow, now, is not called: the delivery fails
for good, saying why, and the worker logs it.
"""

from __future__ import annotations

import logging
import uuid

import httpx
import redis.asyncio as aioredis
from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.changes.models import DrWebhookDelivery, RequestEvent, WebhookDelivery
from core.db.models import Webhook
from core.netpolicy import OutboundPolicy, OutboundRefused
from core.notify import delivery, inbox, recipients
from core.notify.webhooks import DR_EVENT, delivery_id, dr_body, dr_delivery_id, event_body
from core.security import Cipher
from core.settings import get_settings

log = logging.getLogger(__name__)


class NotificationActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        cipher: Cipher,
        *,
        public_url: str | None = None,
        webhook_policy: OutboundPolicy | None = None,
    ):
        """``public_url`` (the UI's address, for links in webhook messages) and
        ``webhook_policy`` (where webhooks may point) default to the settings."""
        self.sessions, self.redis, self.cipher = sessions, redis, cipher
        self.public_url = public_url or get_settings().public_url
        self.webhook_policy = webhook_policy or get_settings().webhook_policy

    @activity.defn(name="notify_request")
    async def notify_request(self, event: RequestEvent) -> list[str]:
        async with self.sessions() as db:
            users = await recipients.resolve(db, event)
            hooks = await delivery.subscribed(db, event.org_id, event.event)
        await inbox.push(self.redis, users, inbox.notification(event))
        return hooks

    @activity.defn(name="deliver_webhook")
    async def deliver_webhook(self, data: WebhookDelivery) -> None:
        event = data.event
        hook = await self._hook(data.webhook_id, event.org_id, event.event)
        if hook is not None:
            await self._post(
                hook, event.event, delivery_id(hook.id, event), event_body(event, self.public_url)
            )

    @activity.defn(name="dr_webhooks")
    async def dr_webhooks(self, org_id: str) -> list[str]:
        """The organization's webhooks that hear ``dr.failover``."""
        async with self.sessions() as db:
            return await delivery.subscribed(db, org_id, DR_EVENT)

    @activity.defn(name="deliver_dr_webhook")
    async def deliver_dr_webhook(self, data: DrWebhookDelivery) -> None:
        hook = await self._hook(data.webhook_id, data.org_id, DR_EVENT)
        if hook is not None:
            await self._post(
                hook,
                DR_EVENT,
                dr_delivery_id(hook.id, data.operation_id),
                dr_body(data.announcement),
            )

    async def _hook(self, webhook_id: str, org_id: str, event: str) -> Webhook | None:
        """The webhook, if it still exists in the organization, is enabled and hears ``event``."""
        try:
            hook_id = uuid.UUID(webhook_id)
        except ValueError:
            log.warning("deliver_webhook: %r is not a webhook id; skipped", webhook_id)
            return None
        async with self.sessions() as db:
            hook = await db.get(Webhook, hook_id)
        if hook is None or str(hook.org_id) != org_id or not delivery.hears(hook, event):
            log.info("webhook %s is gone, disabled or no longer hears %s; skipped", hook_id, event)
            return None
        return hook

    async def _post(self, hook: Webhook, event: str, delivery_key: str, body: bytes) -> None:
        """One signed POST; raises (for Temporal to retry, or for good) unless answered 2xx."""
        try:
            secrets = delivery.signing_secrets(self.cipher, hook)
        except InvalidTag as exc:  # sealed with another key: no retry will open it
            raise ApplicationError(
                f"The secret of webhook '{hook.name}' cannot be decrypted with "
                "this JSC_ENCRYPTION_KEY; rotate its secret.",
                type="WebhookSecretUnreadable",
                non_retryable=True,
            ) from exc
        try:
            reply = await delivery.post(
                hook.url, secrets, event, delivery_key, body, policy=self.webhook_policy
            )
        except OutboundRefused as exc:  # no retry will change the policy's mind
            log.warning(
                "webhook %s (%s) of organization %s not called: %s",
                hook.id,
                hook.name,
                hook.org_id,
                exc,
            )
            raise ApplicationError(
                f"Webhook '{hook.name}' was not called: {exc}",
                type="WebhookAddressRefused",
                non_retryable=True,
            ) from exc
        except httpx.HTTPError as exc:
            raise ApplicationError(
                f"Webhook '{hook.name}' could not be reached: {type(exc).__name__}: {exc}",
                type="WebhookUnreachable",
            ) from exc
        if not reply.is_success:
            raise ApplicationError(
                f"Webhook '{hook.name}' answered {reply.status_code}: {reply.text[:200]}",
                type="WebhookRefused",
            )
