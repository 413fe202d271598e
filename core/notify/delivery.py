"""An organization's stored webhooks and one signed POST to one of them.

A webhook's signing secret is kept as an AES-256-GCM envelope bound to the webhook
(``Cipher.encrypt(secret, context=f"webhook:{id}")``), so an envelope copied onto another row does
not open. A webhook hears an event when it is enabled and its ``events`` list names the event or is
empty (every event).
"""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Webhook
from core.notify.webhooks import signed_headers
from core.security import Cipher

TIMEOUT_S = 10.0


def _context(webhook_id: uuid.UUID | str) -> str:
    return f"webhook:{webhook_id}"


def seal_secret(cipher: Cipher, webhook_id: uuid.UUID, secret: str) -> dict[str, str]:
    return cipher.encrypt(secret, context=_context(webhook_id))


def open_secret(cipher: Cipher, webhook: Webhook) -> str:
    return cipher.decrypt(webhook.secret, context=_context(webhook.id))


def hears(webhook: Webhook, event: str) -> bool:
    return webhook.enabled and (not webhook.events or event in webhook.events)


async def subscribed(db: AsyncSession, org_id: uuid.UUID | str, event: str) -> list[str]:
    """The ids of the organization's enabled webhooks that hear ``event``, in a stable order."""
    rows = await db.scalars(
        select(Webhook.id).where(
            Webhook.org_id == uuid.UUID(str(org_id)), Webhook.enabled.is_(True),
            or_(func.jsonb_array_length(Webhook.events) == 0, Webhook.events.contains([event])))
        .order_by(Webhook.created_at, Webhook.id))
    return [str(r) for r in rows]


async def post(url: str, secret: str, event: str, delivery: str, body: bytes, *,
               timeout: float = TIMEOUT_S) -> httpx.Response:
    """POST ``body`` signed; redirects are not followed (the signature is for this URL only).
    Connection errors and timeouts raise ``httpx.HTTPError``; any status is answered."""
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        return await client.post(url, content=body,
                                 headers=signed_headers(secret, event, delivery, body))
