"""Who hears about a request event, as user ids of active members of the event's organization.

- ``recipients``: those users (the requester, typically);
- ``groups`` (dumped ``core.policy.ApprovalGroup``): every member whose organization role is in
  ``role_ids``, every member of a team in ``team_ids`` (by name, ``roles`` and ``teams``, for a
  group decided before ids), every member listed in ``users`` (by user
  id or e-mail);
- ``target`` (an escalation): ``@team`` → the members of that team; ``role:<role>`` → the members
  with that role; an e-mail → that member; anything else → the organization's admins. A target
  that reaches nobody (no such team, an empty team, a role or an e-mail without members) falls back
  to the admins, so that an escalation always lands somewhere.

Anyone who is not a member of the organization, or whose account is disabled, is left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.changes.models import RequestEvent
from core.db.models import OrganizationMember, Role, Team, TeamMember, User

ADMIN_ROLE = "admin"


def _uuids(values: Iterable[str]) -> list[uuid.UUID]:
    out = []
    for value in values:
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return out


async def _members(
    db: AsyncSession, org_id: uuid.UUID, where: ColumnElement[bool]
) -> set[uuid.UUID]:
    rows = await db.scalars(
        select(OrganizationMember.user_id)
        .join(User, User.id == OrganizationMember.user_id)
        .where(OrganizationMember.org_id == org_id, User.status != "disabled", where)
    )
    return set(rows)


def _in_teams(org_id: uuid.UUID, names: list[str]) -> ColumnElement[bool]:
    team_users = (
        select(TeamMember.user_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.org_id == org_id, Team.name.in_(names))
    )
    return OrganizationMember.user_id.in_(team_users)


def _listed(values: list[str]) -> ColumnElement[bool]:
    """Users named by id or by e-mail (case-insensitive)."""
    emails = [v.strip().lower() for v in values if "@" in v]
    by_email = select(User.id).where(func.lower(User.email).in_(emails))
    return OrganizationMember.user_id.in_(_uuids(values)) | OrganizationMember.user_id.in_(by_email)


async def group_members(
    db: AsyncSession, org_id: uuid.UUID, group: dict[str, Any]
) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    if group.get("role_ids") is not None or group.get("team_ids") is not None:
        refs = [r for r in group.get("role_ids") or [] if r]  # a built-in role's id is its name
        custom = select(Role.name).where(Role.org_id == org_id, Role.id.in_(_uuids(refs)))
        if refs:
            found |= await _members(
                db, org_id, OrganizationMember.role.in_(refs) | OrganizationMember.role.in_(custom)
            )
        teams = _uuids(t for t in group.get("team_ids") or [] if t)
        if teams:
            found |= await _members(
                db,
                org_id,
                OrganizationMember.user_id.in_(
                    select(TeamMember.user_id)
                    .join(Team, Team.id == TeamMember.team_id)
                    .where(Team.org_id == org_id, Team.id.in_(teams))
                ),
            )
    else:  # a group decided before roles and teams had ids: by name
        if group.get("roles"):
            found |= await _members(db, org_id, OrganizationMember.role.in_(list(group["roles"])))
        if group.get("teams"):
            found |= await _members(db, org_id, _in_teams(org_id, list(group["teams"])))
    if group.get("users"):
        found |= await _members(db, org_id, _listed([str(u) for u in group["users"]]))
    return found


async def target_members(db: AsyncSession, org_id: uuid.UUID, target: str) -> set[uuid.UUID]:
    target = target.strip()
    found: set[uuid.UUID] = set()
    if target.startswith("@") and len(target) > 1:
        found = await _members(db, org_id, _in_teams(org_id, [target[1:]]))
    elif target.startswith("role:") and len(target) > 5:
        found = await _members(db, org_id, OrganizationMember.role == target[5:])
    elif "@" in target:
        found = await _members(db, org_id, _listed([target]))
    return found or await _members(db, org_id, OrganizationMember.role == ADMIN_ROLE)


async def resolve(db: AsyncSession, event: RequestEvent) -> list[uuid.UUID]:
    """Every user who should get the event in the app, each once, in a stable order."""
    org_id = uuid.UUID(event.org_id)
    found: set[uuid.UUID] = set()
    if event.recipients:
        listed = OrganizationMember.user_id.in_(_uuids(event.recipients))
        found |= await _members(db, org_id, listed)
    for group in event.groups:
        found |= await group_members(db, org_id, group)
    if event.target:
        found |= await target_members(db, org_id, event.target)
    found -= set(_uuids(event.exclude))
    return sorted(found, key=str)
