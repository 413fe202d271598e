"""What a member may do in an organization, resolved from PostgreSQL and cached in Redis.

- ``permissions:{user_id}:{org_id}``: a set of ``resource:action:scope`` strings (source design
  2.3);
- ``membership:{user_id}:{org_id}``: a hash with the role, the user's status and email, and the
  organization's own rate limit, if it set one.

Both live ``permissions_cache_ttl_s`` (5 minutes) and are deleted by every change that affects
them: a member's role, a removal, a custom role's permissions, the organization's settings. A miss
reads the membership, the role (built-in from ``core.rbac``, custom from the ``roles`` and
``permissions`` tables of the organization) and fills both keys in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db.models import Organization, OrganizationMember, Permission, Role, User
from core.rbac import BUILTIN_ROLES


@dataclass(frozen=True)
class Access:
    role: str
    permissions: frozenset[str]
    status: str
    email: str
    rate_limit: int | None  # the organization's requests per minute per user, if it set one


def _keys(user_id: uuid.UUID | str, org_id: uuid.UUID | str) -> tuple[str, str]:
    return f"permissions:{user_id}:{org_id}", f"membership:{user_id}:{org_id}"


def _changed(user_id: uuid.UUID | str, org_id: uuid.UUID | str) -> str:
    """Set for a few seconds by an invalidation: a load that read PostgreSQL before the change
    must not put its stale answer back into the cache."""
    return f"permissions_changed:{user_id}:{org_id}"


CHANGED_TTL_S = 10


async def role_permissions(db: AsyncSession, org_id: uuid.UUID, role: str) -> frozenset[str]:
    """A built-in role's permissions, or those of the organization's custom role of that name."""
    if role in BUILTIN_ROLES:
        return BUILTIN_ROLES[role]
    rows = await db.execute(
        select(Permission.resource, Permission.action, Permission.conditions)
        .join(Role, Role.id == Permission.role_id)
        .where(Role.org_id == org_id, Role.name == role)
    )
    return frozenset(f"{res}:{act}:{(cond or {}).get('scope', '*')}" for res, act, cond in rows)


def org_rate_limit(settings: dict[str, Any] | None) -> int | None:
    value = (settings or {}).get("rate_limit_per_minute")
    return int(value) if value else None


async def load_access(
    redis: aioredis.Redis,
    sessions: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    org_id: uuid.UUID,
    ttl_s: int,
) -> Access | None:
    """The member's access, or None when the user is not (or no longer) a member."""
    perms_key, member_key = _keys(user_id, org_id)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.smembers(perms_key)
        pipe.hgetall(member_key)
        perms, member = await pipe.execute()
    if member:
        limit = member.get("rate_limit")
        return Access(
            member["role"],
            frozenset(p for p in perms if p != "-"),
            member["status"],
            member.get("email", ""),
            int(limit) if limit else None,
        )
    async with sessions() as db:
        row = (
            await db.execute(
                select(OrganizationMember.role, User.status, User.email, Organization.settings)
                .join(User, User.id == OrganizationMember.user_id)
                .join(Organization, Organization.id == OrganizationMember.org_id)
                .where(OrganizationMember.user_id == user_id, OrganizationMember.org_id == org_id)
            )
        ).first()
        if row is None:
            return None
        role, status, email, org_settings = row
        permissions = await role_permissions(db, org_id, role)
    access = Access(role, permissions, status, email, org_rate_limit(org_settings))
    if await redis.exists(_changed(user_id, org_id)):
        return access
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(perms_key, member_key)
        pipe.sadd(perms_key, *(sorted(permissions) or ["-"]))  # "-": a role with no permission
        pipe.expire(perms_key, ttl_s)
        pipe.hset(
            member_key,
            mapping={
                "role": role,
                "status": status,
                "email": email,
                "rate_limit": access.rate_limit or "",
            },
        )
        pipe.expire(member_key, ttl_s)
        await pipe.execute()
    return access


async def invalidate(redis: aioredis.Redis, *members: tuple[uuid.UUID, uuid.UUID]) -> None:
    """Forget the cached access of (user_id, org_id) pairs."""
    pairs = list(members)
    if not pairs:
        return
    async with redis.pipeline(transaction=True) as pipe:
        for user_id, org_id in pairs:
            pipe.set(_changed(user_id, org_id), "1", ex=CHANGED_TTL_S)
            pipe.delete(*_keys(user_id, org_id))
        await pipe.execute()


async def invalidate_org(
    redis: aioredis.Redis, db: AsyncSession, org_id: uuid.UUID, role: str | None = None
) -> None:
    """Forget the cached access of every member of an organization (or of those with ``role``)."""
    query = select(OrganizationMember.user_id).where(OrganizationMember.org_id == org_id)
    if role is not None:
        query = query.where(OrganizationMember.role == role)
    await invalidate(redis, *((user_id, org_id) for user_id in await db.scalars(query)))
