"""An organization's stored webhooks and one signed POST to one of them.

A webhook's signing secret is kept as an AES-256-GCM envelope bound to the webhook
(``Cipher.encrypt(secret, context=f"webhook:{id}")``), so an envelope copied onto another row does
not open. A webhook hears an event when it is enabled and its ``events`` list names the event or is
empty (every event).

A POST goes only where the outbound policy (``core.netpolicy``, ``JSC_ALLOWED_WEBHOOK_NETWORKS``)
allows: the receiver's name is resolved and every address checked at each call, and the
connection is made to the checked address (the URL's host stays in ``Host`` and in TLS's SNI and
certificate check), so a DNS answer that changes after the check (rebinding) is never used.
"""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Webhook
from core.netpolicy import OutboundPolicy
from core.notify.webhooks import signed_headers
from core.pinned_http import pin
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
               policy: OutboundPolicy, timeout: float = TIMEOUT_S) -> httpx.Response:
    """POST ``body`` signed to ``url`` at an address ``policy`` allows (else OutboundRefused,
    before any connection); redirects are not followed (the signature is for this URL only).
    A name that does not resolve, connection errors and timeouts raise ``httpx.HTTPError``; any
    status is answered."""
    pinned = await pin(url, policy)
    headers = {**signed_headers(secret, event, delivery, body), **pinned.headers}
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        failed: httpx.ConnectError | None = None
        for address in pinned.addresses:  # each checked; the next one when one does not answer
            try:
                return await client.post(pinned.at(address), content=body, headers=headers,
                                         extensions=pinned.extensions)
            except httpx.ConnectError as exc:
                failed = exc
        raise failed
