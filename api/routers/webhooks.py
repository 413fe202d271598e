"""Outgoing webhooks of the organization for change-request events (admins:
``organizations:update``). A webhook is a name, an http(s) URL, the events it hears (none listed:
all of them) and a signing secret, generated unless given, answered once at creation and never
again; it is stored sealed with AES-256-GCM. ``POST /webhooks/{id}/test`` sends one signed ``test``
event at once and answers what the receiver said (its status; one that could not be reached is only
that, the detail goes to the server log). A URL must point where the outbound policy allows (public
addresses and ``JSC_ALLOWED_WEBHOOK_NETWORKS``; ``core.netpolicy``): checked when it is stored (422
on ``url``) and again, after DNS resolution, at every delivery. Deliveries themselves are Temporal
activities (``activities/notifications.py``); the body, headers and signature are in
``core.notify.webhooks``.

``POST /webhooks/{id}/rotate-secret`` (the same permission as changing a webhook) makes a new
secret and answers it once, ``{id, secret, previous_valid_until}``. For a grace period
(``JSC_WEBHOOK_SECRET_GRACE_S``, default 24 h; 0: none) every delivery is signed with both the new
secret and the one it replaced, as Stripe does while a secret rolls: ``X-JSC-Signature:
sha256=<new>,sha256=<previous>``; a receiver accepts a delivery when any value matches the secret
it holds (``core.notify.webhooks.verify`` does), so it can switch at its own pace. After
``previous_valid_until`` only the new secret signs. Rotating again during a grace replaces the
previous secret with the one just replaced (never more than two signatures). A webhook shows its
``previous_valid_until`` while the grace lasts (null otherwise); the audit record keeps no secret.
A secret sealed with a lost encryption key is rotated without a grace.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from datetime import UTC, datetime

import httpx
from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select

from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError
from core.db.models import Webhook
from core.labels import Label
from core.netpolicy import OutboundPolicy, OutboundRefused
from core.notify.delivery import (
    post,
    previous_valid_until,
    rotate_secret,
    seal_secret,
    signing_secrets,
)
from core.notify.webhooks import EVENTS, TEST_EVENT, ping_body

log = logging.getLogger(__name__)
# What the caller learns of a receiver that could not be reached: how (refused, reset, timed out)
# would map the ports of the networks webhooks may reach; that goes to the server log.
UNREACHABLE = "could not reach the receiver"

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
ADMIN = "organizations:update"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EXAMPLE = "e.g. https://hooks.slack.com/services/T000/B000/XXXX"


def _name(value: str) -> str:
    value = value.strip()  # control characters are refused by ``Label``
    if not value:
        raise ValueError("must be a non-blank line of text")
    return value


def _url(value: str) -> str:
    value = value.strip()
    try:
        url = httpx.URL(value) if not _CONTROL.search(value) else None
    except (httpx.InvalidURL, ValueError, TypeError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"must be an http:// or https:// URL with a host, {_EXAMPLE}")
    return value


def _events(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in EVENTS]
    if unknown:
        named = ", ".join(repr(v) for v in unknown)
        verb = "is not an event" if len(unknown) == 1 else "are not events"
        raise ValueError(f"{named} {verb}; choose from {', '.join(EVENTS)} (or none for all)")
    return [e for e in EVENTS if e in values]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label = Field(min_length=1, max_length=255)
    url: str = Field(min_length=1, max_length=2048, description=_EXAMPLE)
    events: list[str] = Field(
        default_factory=list,
        max_length=len(EVENTS) * 2,
        description="the events to send; empty: every event",
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=512,
        pattern=r"^[!-~]+$",
        description="the HMAC-SHA256 signing secret (printable ASCII, no "
        "spaces); generated when not given",
    )
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def check_name(cls, value: str) -> str:
        return _name(value)

    @field_validator("url")
    @classmethod
    def check_url(cls, value: str) -> str:
        return _url(value)

    @field_validator("events")
    @classmethod
    def check_events(cls, value: list[str]) -> list[str]:
        return _events(value)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label | None = Field(default=None, min_length=1, max_length=255)
    url: str | None = Field(default=None, min_length=1, max_length=2048, description=_EXAMPLE)
    events: list[str] | None = Field(default=None, max_length=len(EVENTS) * 2)
    enabled: bool | None = None

    @field_validator("name")
    @classmethod
    def check_name(cls, value: str | None) -> str | None:
        return None if value is None else _name(value)

    @field_validator("url")
    @classmethod
    def check_url(cls, value: str | None) -> str | None:
        return None if value is None else _url(value)

    @field_validator("events")
    @classmethod
    def check_events(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _events(value)

    @model_validator(mode="after")
    def _no_nulls(self) -> WebhookUpdate:
        nulls = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; leave a field out to keep it")
        return self


class WebhookOut(BaseModel):
    id: uuid.UUID
    name: str
    url: str
    events: list[str]
    enabled: bool
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    previous_valid_until: datetime | None = Field(
        default=None,
        description="until when deliveries also carry a signature made with the "
        "secret the last rotation replaced (null: they do not)",
    )


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the signing secret: shown this once, never again")


class SecretRotated(BaseModel):
    id: uuid.UUID
    secret: str = Field(description="the new signing secret: shown this once, never again")
    previous_valid_until: datetime | None = Field(
        description="until when deliveries are also signed with the replaced secret (null: "
        "they are not, the grace being 0 or the replaced secret unreadable)"
    )


class WebhookTestResult(BaseModel):
    ok: bool
    status_code: int | None  # None: the receiver could not be reached
    delivery_id: str
    error: str | None = None


def _out(row: Webhook) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        name=row.name,
        url=row.url,
        events=list(row.events or []),
        enabled=row.enabled,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        previous_valid_until=previous_valid_until(row),
    )


def _audited(out: WebhookOut) -> dict:
    """What the audit log keeps of a webhook: no secret, and of the URL (which may carry a token,
    as Slack's do) only its origin."""
    url = httpx.URL(out.url)
    origin = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
    return {"name": out.name, "url": origin + "/…", "events": out.events, "enabled": out.enabled}


async def _webhook(
    db: Db, principal: Principal, webhook_id: uuid.UUID, *, lock: bool = False
) -> Webhook:
    query = select(Webhook).where(Webhook.id == webhook_id, Webhook.org_id == principal.org_id)
    row = await db.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise ProblemError(404, f"No webhook with id {webhook_id} in your organization.")
    return row


async def _allowed(policy: OutboundPolicy, url: str) -> None:
    """The URL's host, resolved, must be where webhooks may point (a name that does not resolve
    yet passes here: it is checked again at every delivery)."""
    target = httpx.URL(url)
    try:
        await policy.check_stored(
            target.raw_host.decode("ascii"),
            target.port or (443 if target.scheme == "https" else 80),
        )
    except OutboundRefused as exc:
        raise ProblemError(
            422, f"Invalid input: url: {exc}", errors=[{"field": "url", "message": str(exc)}]
        ) from exc


async def _name_free(db: Db, principal: Principal, name: str, other_than: uuid.UUID | None = None):
    query = select(Webhook.id).where(Webhook.org_id == principal.org_id, Webhook.name == name)
    if other_than is not None:
        query = query.where(Webhook.id != other_than)
    if await db.scalar(query.limit(1)) is not None:
        raise ProblemError(
            409,
            f"A webhook named '{name}' already exists in your organization; choose another name.",
        )


@router.get("", response_model=dict[str, list[WebhookOut]])
async def list_webhooks(db: Db, principal: Principal = Depends(require(ADMIN))):
    rows = await db.scalars(
        select(Webhook)
        .where(Webhook.org_id == principal.org_id)
        .order_by(Webhook.created_at, Webhook.id)
    )
    return {"items": [_out(r) for r in rows]}


@router.post("", status_code=201, response_model=WebhookCreated)
async def create_webhook(
    body: WebhookCreate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require(ADMIN)),
):
    await _allowed(svc.settings.webhook_policy, body.url)
    await _name_free(db, principal, body.name)
    webhook_id = uuid.uuid4()
    secret = body.secret or secrets.token_urlsafe(32)
    row = Webhook(
        id=webhook_id,
        org_id=principal.org_id,
        name=body.name,
        url=body.url,
        secret=seal_secret(svc.cipher, webhook_id, secret),
        events=body.events,
        enabled=body.enabled,
        created_by=principal.user_id,
    )
    db.add(row)
    await db.commit()
    await db.refresh(row)
    out = _out(row)
    await audit(
        request,
        principal,
        action="webhook.create",
        resource_type="webhook",
        resource_id=str(row.id),
        resource_name=row.name,
        changes={"after": _audited(out), "secret": "given" if body.secret else "generated"},
    )
    return WebhookCreated(**out.model_dump(), secret=secret)


@router.get("/{webhook_id}", response_model=WebhookOut)
async def read_webhook(
    webhook_id: uuid.UUID, db: Db, principal: Principal = Depends(require(ADMIN))
):
    return _out(await _webhook(db, principal, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require(ADMIN)),
):
    row = await _webhook(db, principal, webhook_id)
    if body.url is not None:
        await _allowed(svc.settings.webhook_policy, body.url)
    before = _audited(_out(row))
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v != getattr(row, k)}
    if "name" in changes:
        await _name_free(db, principal, changes["name"], other_than=row.id)
    for field, value in changes.items():
        setattr(row, field, value)
    await db.commit()
    await db.refresh(row)
    out = _out(row)
    after = _audited(out)
    await audit(
        request,
        principal,
        action="webhook.update",
        resource_type="webhook",
        resource_id=str(row.id),
        resource_name=row.name,
        changes={k: {"before": before[k], "after": after[k]} for k in changes},
    )
    return out


@router.post("/{webhook_id}/rotate-secret", response_model=SecretRotated)
async def rotate_webhook_secret(
    webhook_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require(ADMIN)),
):
    """A new signing secret, answered this once; the replaced one keeps signing deliveries
    (beside the new one) until ``previous_valid_until``."""
    row = await _webhook(db, principal, webhook_id, lock=True)  # two rotations: one after the other
    secret = secrets.token_urlsafe(32)
    until = rotate_secret(
        svc.cipher, row, secret, grace_s=svc.settings.webhook_secret_grace_s, now=datetime.now(UTC)
    )
    # the audit record and the new secret are committed together
    await audit(
        request,
        principal,
        action="webhook.rotate_secret",
        resource_type="webhook",
        resource_id=str(row.id),
        resource_name=row.name,
        db=db,
        changes={"previous_valid_until": until.isoformat() if until else None},
    )
    return SecretRotated(id=webhook_id, secret=secret, previous_valid_until=until)


@router.delete("/{webhook_id}", status_code=204)
async def delete_webhook(
    webhook_id: uuid.UUID, request: Request, db: Db, principal: Principal = Depends(require(ADMIN))
) -> None:
    row = await _webhook(db, principal, webhook_id)
    before = _audited(_out(row))
    await db.delete(row)
    await db.commit()
    await audit(
        request,
        principal,
        action="webhook.delete",
        resource_type="webhook",
        resource_id=str(webhook_id),
        resource_name=before["name"],
        changes={"before": before},
    )


@router.post("/{webhook_id}/test", response_model=WebhookTestResult)
async def send_test(
    webhook_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require(ADMIN)),
):
    """Send one signed ``test`` event now (enabled or not) and answer what the receiver said; a
    URL the outbound policy does not allow (any more) is not called, and the answer says why."""
    row = await _webhook(db, principal, webhook_id)
    try:
        signing = signing_secrets(svc.cipher, row)
    except InvalidTag as exc:
        raise ProblemError(
            409,
            f"The secret of webhook '{row.name}' cannot be decrypted with this "
            "JSC_ENCRYPTION_KEY; rotate its secret (POST /api/v1/webhooks/"
            f"{row.id}/rotate-secret).",
        ) from exc
    body = ping_body(row.name, principal.email)
    delivery = str(uuid.uuid4())
    status_code, error = None, None
    try:
        reply = await post(
            row.url, signing, TEST_EVENT, delivery, body, policy=svc.settings.webhook_policy
        )
        status_code = reply.status_code
        if not reply.is_success:
            error = f"the receiver answered {reply.status_code}"
    except OutboundRefused as exc:
        error = f"not sent: {exc}"
    except httpx.HTTPError as exc:
        target = httpx.URL(row.url)
        log.warning(
            "webhook %s (%s) of organization %s: test to %s:%s failed: %s: %s",
            row.id,
            row.name,
            row.org_id,
            target.host,
            target.port or "default",
            type(exc).__name__,
            exc,
        )
        error = UNREACHABLE
    result = WebhookTestResult(
        ok=error is None, status_code=status_code, delivery_id=delivery, error=error
    )
    await audit(
        request,
        principal,
        action="webhook.test",
        resource_type="webhook",
        resource_id=str(row.id),
        resource_name=row.name,
        changes={"status_code": status_code, "ok": result.ok},
        status="success" if result.ok else "failure",
        error_message=error,
    )
    return result
