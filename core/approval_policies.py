"""Approval policies in PostgreSQL: the versioned rows behind ``/api/v1/approval-policies`` and
the seeding of the three policies of the source design (``core.policy.SEED_POLICIES``) into every
organization that has none (at start, for all organizations; at sign-up, for the new one)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import ApprovalPolicyVersion, Organization
from core.policy import SEED_POLICIES, ApprovalPolicy


def new_version(org_id: uuid.UUID, policy: ApprovalPolicy, *, policy_id: uuid.UUID | None = None,
                created_by: uuid.UUID | None = None) -> ApprovalPolicyVersion:
    row_id = uuid.uuid4()
    return ApprovalPolicyVersion(
        id=row_id, org_id=org_id, policy_id=policy_id or row_id, name=policy.name,
        version=policy.version, is_current=True, priority=policy.priority, enabled=policy.enabled,
        definition=policy.model_dump(mode="json"), created_by=created_by)


async def seed_organization(db: AsyncSession, org_id: uuid.UUID) -> bool:
    """Add the seed policies to the organization if it has no policy at all (idempotent)."""
    if await db.scalar(select(ApprovalPolicyVersion.id)
                       .where(ApprovalPolicyVersion.org_id == org_id).limit(1)) is not None:
        return False
    db.add_all(new_version(org_id, policy) for policy in SEED_POLICIES)
    await db.flush()
    return True


async def seed_all(db: AsyncSession) -> int:
    """Seed every organization without policies; answers how many were seeded."""
    has_any = select(ApprovalPolicyVersion.org_id).distinct()
    orgs = (await db.scalars(select(Organization.id).where(Organization.id.not_in(has_any)))).all()
    for org_id in orgs:
        await seed_organization(db, org_id)
    return len(orgs)
