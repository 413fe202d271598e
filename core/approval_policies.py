"""Approval policies in PostgreSQL: the versioned rows behind ``/api/v1/approval-policies`` and
the seeding of the three policies of the source design (``core.policy.SEED_POLICIES``) into every
organization that has none (at start, for all organizations; at sign-up, for the new one).

Approval groups are stored with the ids of the roles and teams they name (``bind``: resolved from
the names when a version is saved, so a later rename changes nothing; ``core.policy.refs``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import ApprovalPolicyVersion, Organization, Role, Team
from core.policy import SEED_POLICIES, ApprovalPolicy
from core.policy.refs import relabel, resolve
from core.rbac import BUILTIN_ROLES


async def directory(db: AsyncSession, org_id: uuid.UUID) -> tuple[dict[str, str], dict[str, str]]:
    """(role id -> name, team id -> name) of the organization; a built-in role's id is its name."""
    roles = {name: name for name in BUILTIN_ROLES}
    roles |= {
        str(i): n
        for i, n in (
            await db.execute(select(Role.id, Role.name).where(Role.org_id == org_id))
        ).all()
    }
    teams = {
        str(i): n
        for i, n in (
            await db.execute(select(Team.id, Team.name).where(Team.org_id == org_id))
        ).all()
    }
    return roles, teams


def shown(policy: ApprovalPolicy, names: tuple[dict[str, str], dict[str, str]]) -> ApprovalPolicy:
    """The policy with the current names of the roles and teams its groups refer to."""
    return policy.model_copy(update={"groups": [relabel(g, *names) for g in policy.groups]})


async def bind(db: AsyncSession, org_id: uuid.UUID, policy: ApprovalPolicy) -> ApprovalPolicy:
    """The policy with its groups' ids: groups that have ids keep what they refer to (their names
    are refreshed first), the others are resolved from their names now."""
    names = await directory(db, org_id)
    current = shown(policy, names)
    roles, teams = ({n: i for i, n in found.items()} for found in names)
    return resolve(current, roles, teams)


def new_version(
    org_id: uuid.UUID,
    policy: ApprovalPolicy,
    *,
    policy_id: uuid.UUID | None = None,
    created_by: uuid.UUID | None = None,
) -> ApprovalPolicyVersion:
    row_id = uuid.uuid4()
    return ApprovalPolicyVersion(
        id=row_id,
        org_id=org_id,
        policy_id=policy_id or row_id,
        name=policy.name,
        version=policy.version,
        is_current=True,
        priority=policy.priority,
        enabled=policy.enabled,
        definition=policy.model_dump(mode="json"),
        created_by=created_by,
    )


async def seed_organization(db: AsyncSession, org_id: uuid.UUID) -> bool:
    """Add the seed policies to the organization if it has no policy at all (idempotent)."""
    if (
        await db.scalar(
            select(ApprovalPolicyVersion.id).where(ApprovalPolicyVersion.org_id == org_id).limit(1)
        )
        is not None
    ):
        return False
    db.add_all([new_version(org_id, await bind(db, org_id, policy)) for policy in SEED_POLICIES])
    await db.flush()
    return True


async def seed_all(db: AsyncSession) -> int:
    """Seed every organization without policies; answers how many were seeded."""
    has_any = select(ApprovalPolicyVersion.org_id).distinct()
    orgs = (await db.scalars(select(Organization.id).where(Organization.id.not_in(has_any)))).all()
    for org_id in orgs:
        await seed_organization(db, org_id)
    return len(orgs)
