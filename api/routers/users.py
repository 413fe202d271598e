"""The members of the caller's organization: list, read, change role or name, remove, invite
(answering the invitation's token once), unlock after a sign-in lockout, reset MFA, activity.
A user of another organization is a 404; a user whose role grants more than the caller holds is a
403 (nobody acts on someone with more power than themselves)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from api import members
from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError
from api.tenancy_schemas import InvitationCreated, InvitationOut, InviteRequest, UserOut, UserUpdate
from core import tenancy
from core.audit import AUDIT_COLUMNS
from core.db.models import Invitation, OrganizationMember
from core.permissions import invalidate
from core.ratelimit import LoginGuard

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", response_model=dict[str, list[UserOut]])
async def list_users(db: Db, principal: Principal = Depends(require("users:read"))):
    rows = await db.scalars(
        select(OrganizationMember)
        .where(OrganizationMember.org_id == principal.org_id)
        .order_by(OrganizationMember.joined_at)
    )
    return {"items": [await members.user_out(db, m) for m in rows.unique()]}


@router.post("/invite", status_code=201, response_model=InvitationCreated)
async def invite_user(
    body: InviteRequest,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("users:create")),
):
    return await members.invite(request, db, svc, principal, body)


@router.get("/invitations", response_model=dict[str, list[InvitationOut]])
async def list_invitations(db: Db, principal: Principal = Depends(require("users:read"))):
    rows = await db.scalars(
        select(Invitation)
        .where(
            Invitation.org_id == principal.org_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > datetime.now(UTC),
        )
        .order_by(Invitation.created_at.desc())
    )
    return {"items": [InvitationOut.model_validate(i, from_attributes=True) for i in rows]}


@router.delete("/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(
    invitation_id: uuid.UUID,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("users:delete")),
) -> None:
    invitation = await db.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.org_id == principal.org_id
        )
    )
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        raise ProblemError(
            404, f"No pending invitation with id {invitation_id} in your organization."
        )
    invitation.revoked_at = datetime.now(UTC)
    await db.commit()
    await audit(
        request,
        principal,
        action="user.revoke_invitation",
        resource_type="user",
        resource_id=str(invitation.id),
        resource_name=invitation.email,
    )


@router.get("/{user_id}", response_model=UserOut)
async def read_user(
    user_id: uuid.UUID, db: Db, principal: Principal = Depends(require("users:read"))
) -> UserOut:
    return await members.user_out(
        db, await members.load_member(db, principal, user_id), with_teams=True
    )


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("users:update")),
) -> UserOut:
    member = await members.load_member(db, principal, user_id)
    await members.ensure_can_act_on(request, db, principal, member, "users:update")
    before = (await members.user_out(db, member)).model_dump(mode="json")
    try:
        if body.role is not None and body.role != member.role:
            await tenancy.check_role(db, principal.org_id, body.role)
            await members.ensure_role_grantable(db, principal, body.role)
            if member.role == "admin":
                await tenancy.ensure_other_admin(db, principal.org_id, user_id)
            member.role = body.role
    except tenancy.TenancyError as exc:
        raise members.problem(exc) from exc
    for field in ("first_name", "last_name"):
        if getattr(body, field) is not None:
            setattr(member.user, field, getattr(body, field))
    await db.commit()
    await invalidate(svc.redis, (user_id, principal.org_id))
    out = await members.user_out(db, member, with_teams=True)
    after = out.model_dump(mode="json")
    await audit(
        request,
        principal,
        action="user.update",
        resource_type="user",
        resource_id=str(user_id),
        resource_name=out.email,
        changes={
            k: {"before": before[k], "after": after[k]}
            for k in ("role", "first_name", "last_name")
            if before[k] != after[k]
        },
    )
    return out


@router.delete("/{user_id}", status_code=204)
async def remove_user(
    user_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("users:delete")),
) -> None:
    """Remove the user from the organization (and its teams); the account itself stays."""
    await members.remove(request, db, svc, principal, user_id)


@router.post("/{user_id}/unlock")
async def unlock_user(
    user_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("users:update")),
) -> dict:
    """End a sign-in lockout now."""
    member = await members.load_member(db, principal, user_id)
    await members.ensure_can_act_on(request, db, principal, member, "users:update")
    s = svc.settings
    await LoginGuard(
        svc.redis,
        max_failures=s.login_max_failures,
        window_s=s.login_failure_window_s,
        lockout_s=s.login_lockout_s,
    ).unlock(member.user.email)
    await audit(
        request,
        principal,
        action="user.unlock",
        resource_type="user",
        resource_id=str(user_id),
        resource_name=member.user.email,
    )
    return {"locked": False}


@router.delete("/{user_id}/mfa")
async def reset_mfa(
    user_id: uuid.UUID,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("users:update")),
) -> dict:
    """Turn a member's MFA off (a lost authenticator); they can set it up again."""
    member = await members.load_member(db, principal, user_id)
    await members.ensure_can_act_on(request, db, principal, member, "users:update")
    was = member.user.mfa_enabled
    member.user.mfa_enabled, member.user.mfa_secret = False, None
    await db.commit()
    await audit(
        request,
        principal,
        action="user.mfa_reset",
        resource_type="user",
        resource_id=str(user_id),
        resource_name=member.user.email,
        changes={"mfa_enabled": {"before": was, "after": False}},
    )
    return {"mfa_enabled": False}


@router.get("/{user_id}/activity")
async def user_activity(
    user_id: uuid.UUID,
    db: Db,
    svc: Svc,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
    principal: Principal = Depends(require("audit_logs:read")),
) -> dict:
    """The member's audit events in this organization, newest first."""
    await members.load_member(db, principal, user_id)
    sql = (
        f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_logs FINAL WHERE org_id = {{org:UUID}} "
        "AND user_id = {user:UUID} ORDER BY timestamp DESC "
        "LIMIT {limit:UInt32} OFFSET {offset:UInt32}"
    )
    rows = await asyncio.to_thread(
        svc.analytics.query,
        sql,
        {"org": str(principal.org_id), "user": str(user_id), "limit": limit, "offset": offset},
    )
    items = []
    for row in rows:
        item = dict(zip(AUDIT_COLUMNS, row, strict=False))
        item["changes"] = json.loads(item["changes"] or "{}")
        if item["timestamp"].tzinfo is None:  # chdb answers naive datetimes; the column is UTC
            item["timestamp"] = item["timestamp"].replace(tzinfo=UTC)
        ip = item["ip_address"]
        item["ip_address"] = str(ip.ipv4_mapped or ip) if ip is not None else None
        items.append(item)
    return {"items": items, "limit": limit, "offset": offset}
