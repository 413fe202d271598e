"""API keys: create (the key is answered once; stored as an argon2 hash with a visible prefix),
list, read, change (name, scopes, rate limit), rotate (a new secret; the old one stops at once) and
revoke. A key acts as its owner, within its scopes. With ``api_keys:*:own`` (the ``member`` role)
a user manages their own keys; with scope ``*`` (admin) every key of the organization, except that
only a key's owner rotates it (the new secret is theirs alone to see): an admin revokes it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from api.deps import Db, Principal, Svc, audit, deny, require
from api.errors import ProblemError
from api.tenancy_schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, ApiKeyUpdate
from core import api_keys
from core.db.models import ApiKey, Organization
from core.permissions import org_rate_limit
from core.rbac import uncovered

router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"])
EVERYTHING = "*:*:*"


def _out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        user_id=row.user_id,
        scopes=list(row.permissions or []),
        rate_limit_per_minute=row.rate_limit_per_minute,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        created_at=row.created_at,
    )


def _scopes(principal: Principal, requested: list[str]) -> list[str]:
    """The scopes a key may get: within what its creator holds now. ``*:*:*`` (follow the owner's
    role) is only for keys made from a session; a key making a key passes on its own scopes."""
    if EVERYTHING in requested and principal.api_key_id is None:
        return [EVERYTHING]
    if EVERYTHING in requested:
        requested = sorted(principal.permissions)
    missing = uncovered(set(requested), principal.permissions)
    if missing:
        raise ProblemError(
            403,
            f"A key cannot have more than you: your role '{principal.role}' "
            f"does not grant {', '.join(missing)}.",
            permissions=missing,
        )
    return sorted(set(requested))


async def _within_org_limit(db: Db, svc: Svc, principal: Principal, limit: int | None) -> None:
    """422 naming the field when a key's rate limit exceeds its organization's (a key never gets
    more requests a minute than its organization allows a user; enforced again per request)."""
    if limit is None:
        return
    org = await db.get(Organization, principal.org_id)
    ceiling = org_rate_limit(org.settings if org else None) or svc.settings.rate_limit_per_minute
    if limit > ceiling:
        message = (
            f"at most {ceiling}, your organization's limit of requests a minute; ask an "
            "administrator to raise the organization's limit first"
        )
        raise ProblemError(
            422,
            f"Invalid input: rate_limit_per_minute: {message}",
            errors=[{"field": "rate_limit_per_minute", "message": message}],
        )


async def _key(db: Db, principal: Principal, key_id: uuid.UUID, action: str) -> ApiKey:
    row = await db.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.org_id == principal.org_id)
    )
    if row is None or (
        row.user_id != principal.user_id and "*" not in principal.scopes(f"api_keys:{action}")
    ):
        raise ProblemError(404, f"No API key with id {key_id} in your organization.")
    return row


@router.get("", response_model=dict[str, list[ApiKeyOut]])
async def list_keys(db: Db, principal: Principal = Depends(require("api_keys:read", scope="own"))):
    query = select(ApiKey).where(ApiKey.org_id == principal.org_id)
    if "*" not in principal.scopes("api_keys:read"):
        query = query.where(ApiKey.user_id == principal.user_id)
    rows = await db.scalars(query.order_by(ApiKey.created_at.desc()))
    return {"items": [_out(r) for r in rows]}


@router.post("", status_code=201, response_model=ApiKeyCreated)
async def create_key(
    body: ApiKeyCreate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("api_keys:create", scope="own")),
):
    await _within_org_limit(db, svc, principal, body.rate_limit_per_minute)
    key, prefix, hashed = api_keys.new_key()
    expires = (
        datetime.now(UTC) + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    )
    row = ApiKey(
        org_id=principal.org_id,
        user_id=principal.user_id,
        name=body.name,
        key_hash=hashed,
        prefix=prefix,
        permissions=_scopes(principal, body.scopes),
        expires_at=expires,
        rate_limit_per_minute=body.rate_limit_per_minute,
    )
    db.add(row)
    await db.commit()
    await db.refresh(row)
    out = _out(row)
    await audit(
        request,
        principal,
        action="api_key.create",
        resource_type="api_key",
        resource_id=str(row.id),
        resource_name=f"{row.name} ({prefix})",
        changes={"after": out.model_dump(mode="json")},
    )
    return ApiKeyCreated(**out.model_dump(), key=key)


@router.get("/{key_id}", response_model=ApiKeyOut)
async def read_key(
    key_id: uuid.UUID, db: Db, principal: Principal = Depends(require("api_keys:read", scope="own"))
):
    return _out(await _key(db, principal, key_id, "read"))


@router.patch("/{key_id}", response_model=ApiKeyOut)
async def update_key(
    key_id: uuid.UUID,
    body: ApiKeyUpdate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("api_keys:update", scope="own")),
):
    row = await _key(db, principal, key_id, "update")
    before = _out(row).model_dump(mode="json")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name"):
        row.name = changes["name"]
    if changes.get("scopes"):
        row.permissions = _scopes(principal, changes["scopes"])
    if "rate_limit_per_minute" in changes:
        await _within_org_limit(db, svc, principal, changes["rate_limit_per_minute"])
        row.rate_limit_per_minute = changes["rate_limit_per_minute"]
    await db.commit()
    await api_keys.forget(svc.redis, row.prefix)
    after = _out(row).model_dump(mode="json")
    await audit(
        request,
        principal,
        action="api_key.update",
        resource_type="api_key",
        resource_id=str(row.id),
        resource_name=f"{row.name} ({row.prefix})",
        changes={
            k: {"before": before[k], "after": after[k]}
            for k in ("name", "scopes", "rate_limit_per_minute")
            if before[k] != after[k]
        },
    )
    return after


@router.post("/{key_id}/rotate", response_model=ApiKeyCreated)
async def rotate_key(
    key_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("api_keys:update", scope="own")),
):
    """A new secret (and prefix) for the key; the previous one is refused from now on. Only the
    key's owner rotates it: the secret is theirs alone to see."""
    row = await _key(db, principal, key_id, "update")
    if row.user_id != principal.user_id:
        await deny(
            request,
            principal,
            "api_keys:update",
            "Only the key's owner can rotate it (the new secret is theirs alone to see); "
            f"you can revoke it with DELETE /api/v1/api-keys/{key_id}.",
        )
    if row.revoked_at is not None:
        raise ProblemError(409, "This key is revoked; create a new one.")
    old_prefix = row.prefix
    key, row.prefix, row.key_hash = api_keys.new_key()
    await db.commit()
    await api_keys.forget(svc.redis, old_prefix)
    out = _out(row)
    await audit(
        request,
        principal,
        action="api_key.rotate",
        resource_type="api_key",
        resource_id=str(row.id),
        resource_name=f"{row.name} ({row.prefix})",
        changes={"prefix": {"before": old_prefix, "after": row.prefix}},
    )
    return ApiKeyCreated(**out.model_dump(), key=key)


@router.delete("/{key_id}", status_code=204)
async def revoke_key(
    key_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("api_keys:delete", scope="own")),
):
    row = await _key(db, principal, key_id, "delete")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await db.commit()
    await api_keys.forget(svc.redis, row.prefix)
    await audit(
        request,
        principal,
        action="api_key.revoke",
        resource_type="api_key",
        resource_id=str(row.id),
        resource_name=f"{row.name} ({row.prefix})",
    )
