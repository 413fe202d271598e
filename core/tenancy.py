"""Organizations and their members: sign-up (a new organization whose first user is its admin),
invitations (a role and optionally a team; only a digest of the token is stored), membership
changes that keep at least one admin, and the roles a member may be given.

Functions take an ``AsyncSession`` and leave committing to the caller; a refusal is a
``TenancyError`` whose ``status`` the API answers with and whose message is a sentence.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.approval_policies import seed_organization as seed_approval_policies
from core.db.models import (
    Invitation,
    Organization,
    OrganizationMember,
    Role,
    Team,
    TeamMember,
    User,
)
from core.rbac import BUILTIN_ROLES
from core.security import hash_password, new_opaque_token, token_digest, verify_password

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class TenancyError(Exception):
    status = 400


class NotFound(TenancyError):
    status = 404


class Conflict(TenancyError):
    status = 409


class Invalid(TenancyError):
    status = 422


class Unauthorized(TenancyError):
    status = 401


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise Invalid(f"'{email}' is not an email address")
    return email


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "org"


async def unique_slug(db: AsyncSession, name: str) -> str:
    base = slugify(name)
    slug = base
    while await db.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


async def create_organization(db: AsyncSession, name: str, admin: User) -> Organization:
    org = Organization(
        name=name.strip(), slug=await unique_slug(db, name), plan="free", settings={}
    )
    db.add(org)
    await db.flush()
    db.add(OrganizationMember(org_id=org.id, user_id=admin.id, role="admin"))
    await db.flush()
    await seed_approval_policies(db, org.id)
    return org


async def signup(
    db: AsyncSession,
    *,
    email: str,
    password: str,
    organization_name: str,
    first_name: str = "",
    last_name: str = "",
) -> tuple[User, Organization]:
    email = normalise_email(email)
    if await db.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(
            "An account with this email already exists: sign in, or ask its "
            "organization's admin for an invitation."
        )
    user = User(
        email=email,
        password_hash=hash_password(password),
        first_name=first_name,
        last_name=last_name,
        status="active",
        email_verified=False,
    )
    db.add(user)
    await db.flush()
    return user, await create_organization(db, organization_name, user)


async def role_exists(db: AsyncSession, org_id: uuid.UUID, role: str) -> bool:
    if role in BUILTIN_ROLES:
        return True
    return (
        await db.scalar(select(Role.id).where(Role.org_id == org_id, Role.name == role)) is not None
    )


async def check_role(db: AsyncSession, org_id: uuid.UUID, role: str) -> str:
    if not await role_exists(db, org_id, role):
        raise Invalid(
            f"'{role}' is not a role of your organization: use one of "
            f"{', '.join(BUILTIN_ROLES)} or a custom role's name"
        )
    return role


async def member(db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> OrganizationMember:
    row = await db.scalar(
        select(OrganizationMember).where(
            OrganizationMember.org_id == org_id, OrganizationMember.user_id == user_id
        )
    )
    if row is None:
        raise NotFound(f"No user with id {user_id} in your organization.")
    return row


async def team_of(db: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID) -> Team:
    team = await db.scalar(select(Team).where(Team.id == team_id, Team.org_id == org_id))
    if team is None:
        raise NotFound(f"No team with id {team_id} in your organization.")
    return team


async def ensure_other_admin(db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Refuse a change that would leave the organization without an admin."""
    others = await db.scalar(
        select(func.count())
        .select_from(OrganizationMember)
        .where(
            OrganizationMember.org_id == org_id,
            OrganizationMember.role == "admin",
            OrganizationMember.user_id != user_id,
        )
    )
    if not others:
        raise Conflict("This is the organization's last admin: make another member admin first.")


async def invite(
    db: AsyncSession,
    *,
    org_id: uuid.UUID,
    email: str,
    role: str,
    team_id: uuid.UUID | None,
    invited_by: uuid.UUID,
    ttl_s: int,
) -> tuple[Invitation, str]:
    email = normalise_email(email)
    await check_role(db, org_id, role)
    if team_id is not None:
        await team_of(db, org_id, team_id)
    already = await db.scalar(
        select(OrganizationMember.id)
        .join(User, User.id == OrganizationMember.user_id)
        .where(OrganizationMember.org_id == org_id, User.email == email)
    )
    if already is not None:
        raise Conflict(f"{email} is already a member of your organization.")
    token = new_opaque_token()
    invitation = Invitation(
        org_id=org_id,
        email=email,
        role=role,
        team_id=team_id,
        token_hash=token_digest(token),
        invited_by=invited_by,
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl_s),
    )
    db.add(invitation)
    await db.flush()
    return invitation, token


async def accept(
    db: AsyncSession, *, token: str, password: str, first_name: str = "", last_name: str = ""
) -> tuple[User, OrganizationMember, Invitation]:
    """Join the inviting organization: a new account, or an existing one whose password is given."""
    invitation = await db.scalar(
        select(Invitation).where(Invitation.token_hash == token_digest(token)).with_for_update()
    )
    now = datetime.now(UTC)
    if (
        invitation is None
        or invitation.accepted_at
        or invitation.revoked_at
        or invitation.expires_at <= now
    ):
        raise TenancyError(
            "This invitation is unknown, already used, revoked or expired; ask for a new one."
        )
    if not await role_exists(db, invitation.org_id, invitation.role):
        raise Conflict(
            f"The role '{invitation.role}' of this invitation no longer exists; ask "
            "for a new invitation."
        )
    user = await db.scalar(select(User).where(User.email == invitation.email))
    if user is None:
        user = User(
            email=invitation.email,
            password_hash=hash_password(password),
            first_name=first_name,
            last_name=last_name,
            status="active",
            email_verified=True,
        )  # the token reached this address
        db.add(user)
        await db.flush()
    elif not verify_password(user.password_hash, password):
        raise Unauthorized(
            "An account with this email already exists: give its password to join the organization."
        )
    elif user.status != "active":
        raise TenancyError("This account is disabled; ask an administrator.")
    if (
        await db.scalar(
            select(OrganizationMember.id).where(
                OrganizationMember.org_id == invitation.org_id,
                OrganizationMember.user_id == user.id,
            )
        )
        is not None
    ):
        raise Conflict("You are already a member of this organization.")
    membership = OrganizationMember(
        org_id=invitation.org_id,
        user_id=user.id,
        role=invitation.role,
        invited_by=invitation.invited_by,
    )
    db.add(membership)
    if invitation.team_id is not None:
        db.add(TeamMember(team_id=invitation.team_id, user_id=user.id, role="member"))
    invitation.accepted_at = now
    await db.flush()
    return user, membership, invitation


async def remove_member(db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """Take a user out of the organization and its teams (the account itself stays)."""
    row = await member(db, org_id, user_id)
    if row.role == "admin":
        await ensure_other_admin(db, org_id, user_id)
    teams = select(Team.id).where(Team.org_id == org_id)
    for team_member in await db.scalars(
        select(TeamMember).where(TeamMember.user_id == user_id, TeamMember.team_id.in_(teams))
    ):
        await db.delete(team_member)
    user = row.user
    await db.delete(row)
    await db.flush()
    return user
