"""Member operations shared by ``/users`` and ``/organizations/{id}/members``: the user as the
organization sees it, invitations, and removal (which also revokes the member's API keys there);
and the caller's team by id, for the team and quota routes. Nobody acts on a member (change, remove,
unlock, reset MFA) who holds a permission they do not hold themselves, nor changes such a role, nor
gives a role with more than their own (``ensure_can_act_on``, ``ensure_can_change_role``,
``ensure_role_grantable``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import select, update

from api.deps import Db, Principal, Svc, audit, deny
from api.errors import ProblemError
from api.tenancy_schemas import InvitationCreated, InviteRequest, UserOut
from core import api_keys, mail, tenancy
from core.db.models import ApiKey, Organization, OrganizationMember, Team, TeamMember
from core.permissions import invalidate, role_permissions
from core.rbac import uncovered


def problem(exc: tenancy.TenancyError) -> ProblemError:
    return ProblemError(exc.status, str(exc))


async def team_of(db: Db, principal: Principal, team_id: uuid.UUID) -> Team:
    """The team of the caller's organization (another organization's is a 404)."""
    try:
        return await tenancy.team_of(db, principal.org_id, team_id)
    except tenancy.TenancyError as exc:
        raise problem(exc) from exc


async def user_out(db: Db, member: OrganizationMember, *, with_teams: bool = False) -> UserOut:
    user = member.user
    teams = []
    if with_teams:
        rows = await db.execute(
            select(Team.id, Team.name, TeamMember.role)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.user_id == user.id, Team.org_id == member.org_id)
            .order_by(Team.name)
        )
        teams = [{"id": str(t), "name": n, "role": r} for t, n, r in rows]
    return UserOut(
        id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        status=user.status,
        role=member.role,
        mfa_enabled=user.mfa_enabled,
        last_login_at=user.last_login_at,
        joined_at=member.joined_at,
        teams=teams,
    )


async def load_member(db: Db, principal: Principal, user_id: uuid.UUID) -> OrganizationMember:
    try:
        return await tenancy.member(db, principal.org_id, user_id)
    except tenancy.TenancyError as exc:
        raise problem(exc) from exc


def ensure_grantable(
    principal: Principal, permissions: frozenset[str] | set[str], what: str
) -> None:
    """Nobody gives (a role, a custom role's permissions) more than they hold themselves."""
    missing = uncovered(set(permissions), principal.permissions)
    if missing:
        raise ProblemError(
            403,
            f"You cannot give {what}: it grants {', '.join(missing[:5])}"
            f"{' and more' if len(missing) > 5 else ''}, which your role "
            f"'{principal.role}' does not.",
            permissions=missing,
        )


async def ensure_can_act_on(
    request: Request, db: Db, principal: Principal, member: OrganizationMember, permission: str
) -> None:
    """403 (audited) when the member's role grants something the caller's permissions do not
    cover: an editor-level user manager cannot reset an admin's MFA or remove an admin."""
    if member.user_id == principal.user_id:
        return
    missing = uncovered(
        set(await role_permissions(db, principal.org_id, member.role)), principal.permissions
    )
    if missing:
        await deny(
            request,
            principal,
            permission,
            f"You cannot act on {member.user.email}: their role '{member.role}' grants "
            f"{', '.join(missing[:5])}{' and more' if len(missing) > 5 else ''}, which "
            f"your {'API key' if principal.api_key_id else 'role'} "
            f"'{principal.role}' does not.",
        )


async def ensure_can_change_role(
    request: Request, principal: Principal, permissions: set[str], role: str
) -> None:
    """403 (audited) when a role about to change grants something the caller does not hold:
    changing it acts on everyone who holds it (a role manager cannot weaken an admin-like role)."""
    missing = uncovered(permissions, principal.permissions)
    if missing:
        await deny(
            request,
            principal,
            "roles:update",
            f"You cannot change the role '{role}': it grants "
            f"{', '.join(missing[:5])}{' and more' if len(missing) > 5 else ''}, which "
            f"your {'API key' if principal.api_key_id else 'role'} "
            f"'{principal.role}' does not.",
        )


async def ensure_role_grantable(db: Db, principal: Principal, role: str) -> None:
    ensure_grantable(
        principal, await role_permissions(db, principal.org_id, role), f"the role '{role}'"
    )


async def invite(
    request: Request, db: Db, svc: Svc, principal: Principal, body: InviteRequest
) -> InvitationCreated:
    await ensure_role_grantable(db, principal, body.role)
    try:
        invitation, token = await tenancy.invite(
            db,
            org_id=principal.org_id,
            email=body.email,
            role=body.role,
            team_id=body.team_id,
            invited_by=principal.user_id,
            ttl_s=svc.settings.invitation_ttl_s,
        )
    except tenancy.TenancyError as exc:
        raise problem(exc) from exc
    await db.commit()
    org = await db.get(Organization, principal.org_id)
    mailed = await mail.send_invitation(
        svc.settings, to=invitation.email, organization=org.name, role=invitation.role, token=token
    )
    await audit(
        request,
        principal,
        action="user.invite",
        resource_type="user",
        resource_id=str(invitation.id),
        resource_name=invitation.email,
        changes={
            "role": invitation.role,
            "mailed": mailed,
            "team_id": str(invitation.team_id) if invitation.team_id else None,
        },
    )
    return InvitationCreated(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        team_id=invitation.team_id,
        expires_at=invitation.expires_at,
        created_at=invitation.created_at,
        token=token,
        mailed=mailed,
    )


async def remove(
    request: Request, db: Db, svc: Svc, principal: Principal, user_id: uuid.UUID
) -> None:
    member = await load_member(db, principal, user_id)
    await ensure_can_act_on(request, db, principal, member, "users:delete")
    before = (await user_out(db, member)).model_dump(mode="json")
    try:
        await tenancy.remove_member(db, principal.org_id, user_id)
    except tenancy.TenancyError as exc:
        raise problem(exc) from exc
    keys = (
        await db.scalars(
            select(ApiKey.prefix).where(
                ApiKey.org_id == principal.org_id,
                ApiKey.user_id == user_id,
                ApiKey.revoked_at.is_(None),
            )
        )
    ).all()
    await db.execute(
        update(ApiKey)
        .where(
            ApiKey.org_id == principal.org_id,
            ApiKey.user_id == user_id,
            ApiKey.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC))
    )
    await db.commit()
    await invalidate(svc.redis, (user_id, principal.org_id))
    await api_keys.forget(svc.redis, *keys)
    await audit(
        request,
        principal,
        action="user.remove",
        resource_type="user",
        resource_id=str(user_id),
        resource_name=before["email"],
        changes={"before": before, "api_keys_revoked": len(keys)},
    )
