"""An organization's stored webhooks and one signed POST to one of them.

A webhook's signing secret is kept as an AES-256-GCM envelope bound to the webhook
(``Cipher.encrypt(secret, context=f"webhook:{id}")``), so an envelope copied onto another row does
not open. A webhook hears an event when it is enabled and its ``events`` list names the event or is
empty (every event).

``rotate_secret`` gives a webhook a new secret and keeps the one it replaces (still sealed) as
``previous_secret`` until ``previous_valid_until`` (now + the grace,
``JSC_WEBHOOK_SECRET_GRACE_S``); until then ``signing_secrets`` answers both, and a delivery is
signed with each (the new one first). A rotation during a grace replaces the previous secret: at
most two secrets sign.

A POST goes only where the outbound policy (``core.netpolicy``, ``JSC_ALLOWED_WEBHOOK_NETWORKS``)
allows: the receiver's name is resolved and every address checked at each call, and the
connection is made to the checked address (the URL's host stays in ``Host`` and in TLS's SNI and
certificate check), so a DNS answer that changes after the check (rebinding) is never used.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.exceptions import InvalidTag
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Webhook
from core.netpolicy import OutboundPolicy
from core.notify.webhooks import signed_headers
from core.pinned_http import pin
from core.security import Cipher

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0


def _context(webhook_id: uuid.UUID | str) -> str:
    return f"webhook:{webhook_id}"


def seal_secret(cipher: Cipher, webhook_id: uuid.UUID, secret: str) -> dict[str, str]:
    return cipher.encrypt(secret, context=_context(webhook_id))


def open_secret(cipher: Cipher, webhook: Webhook) -> str:
    secret: str = cipher.decrypt(webhook.secret, context=_context(webhook.id))
    return secret


def previous_valid_until(webhook: Webhook, now: datetime | None = None) -> datetime | None:
    """Until when the secret replaced by the last rotation still signs (None: it does not)."""
    until = webhook.previous_valid_until
    if webhook.previous_secret is None or until is None:
        return None
    return until if until > (now or datetime.now(UTC)) else None


def signing_secrets(cipher: Cipher, webhook: Webhook, now: datetime | None = None) -> list[str]:
    """The secrets a delivery is signed with now: the current one (``InvalidTag`` when it does
    not open with this key), then the replaced one while its grace lasts (left out, and logged,
    when it does not open)."""
    secrets = [open_secret(cipher, webhook)]
    previous = webhook.previous_secret
    if previous is not None and previous_valid_until(webhook, now) is not None:
        try:
            secrets.append(cipher.decrypt(previous, context=_context(webhook.id)))
        except InvalidTag:
            log.warning(
                "webhook %s: its previous secret cannot be decrypted with this key; "
                "deliveries carry the current secret's signature only",
                webhook.id,
            )
    return secrets


def rotate_secret(
    cipher: Cipher, webhook: Webhook, secret: str, *, grace_s: float, now: datetime | None = None
) -> datetime | None:
    """Make ``secret`` the webhook's signing secret (the caller commits). The secret it replaces
    keeps signing for ``grace_s`` seconds, replacing any earlier previous secret; none does when
    the grace is 0 or the replaced secret cannot be opened with this key (so a rotation is also
    the way out of a secret sealed with a lost key). Answers until when the replaced one signs."""
    now = now or datetime.now(UTC)
    try:
        open_secret(cipher, webhook)
        replaced: dict[str, Any] | None = webhook.secret
    except InvalidTag:
        replaced = None
    until = now + timedelta(seconds=grace_s) if replaced is not None and grace_s > 0 else None
    webhook.previous_secret = replaced if until is not None else None
    webhook.previous_valid_until = until
    webhook.secret = seal_secret(cipher, webhook.id, secret)
    return until


def hears(webhook: Webhook, event: str) -> bool:
    return webhook.enabled and (not webhook.events or event in webhook.events)


async def subscribed(db: AsyncSession, org_id: uuid.UUID | str, event: str) -> list[str]:
    """The ids of the organization's enabled webhooks that hear ``event``, in a stable order."""
    rows = await db.scalars(
        select(Webhook.id)
        .where(
            Webhook.org_id == uuid.UUID(str(org_id)),
            Webhook.enabled.is_(True),
            or_(func.jsonb_array_length(Webhook.events) == 0, Webhook.events.contains([event])),
        )
        .order_by(Webhook.created_at, Webhook.id)
    )
    return [str(r) for r in rows]


async def post(
    url: str,
    secrets: str | Sequence[str],
    event: str,
    delivery: str,
    body: bytes,
    *,
    policy: OutboundPolicy,
    timeout: float = TIMEOUT_S,
) -> httpx.Response:
    """POST ``body`` signed (with each of ``secrets``, see ``signing_secrets``) to ``url`` at an
    address ``policy`` allows (else OutboundRefused, before any connection); redirects are not
    followed (the signature is for this URL only). A name that does not resolve, connection
    errors and timeouts raise ``httpx.HTTPError``; any status is answered."""
    pinned = await pin(url, policy)
    headers = {**signed_headers(secrets, event, delivery, body), **pinned.headers}
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        failed: httpx.ConnectError | None = None
        for address in pinned.addresses:  # each checked; the next one when one does not answer
            try:
                return await client.post(
                    pinned.at(address), content=body, headers=headers, extensions=pinned.extensions
                )
            except httpx.ConnectError as exc:
                failed = exc
        raise failed or httpx.ConnectError(f"no address of {url} to connect to")
