"""How a change request reads through the API: the stored row, where its approval stands (the
current group, replayed from its votes) and what the caller may do with it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.changes.models import Voter
from core.changes.requests import tally_of, ticket_of
from core.changes.voting import eligible
from core.db.models import ChangeRequestRow, Role, Team, TeamMember
from core.policy.refs import by_id, relabel
from core.rbac import BUILTIN_ROLES


class RiskSummaryOut(BaseModel):
    """The assistant's written risk summary, next to the deterministic risk notes."""

    text: str
    model: str
    at: datetime


def risk_summary_of(row: ChangeRequestRow) -> RiskSummaryOut | None:
    stored = row.risk_summary
    if not isinstance(stored, dict) or not stored.get("text"):
        return None
    return RiskSummaryOut.model_validate(stored)


class ApprovalOut(BaseModel):
    id: uuid.UUID
    kind: str
    operation: str
    title: str
    status: str
    cluster_id: uuid.UUID | None
    team_id: uuid.UUID | None
    environment: str | None
    requester_id: uuid.UUID | None
    requester_email: str
    spec: dict[str, Any]
    diff: dict[str, Any]
    justification: str
    decision: dict[str, Any]
    risk_notes: list[str]
    risk_summary: RiskSummaryOut | None = None  # when a model is configured, once written
    votes: list[dict[str, Any]]
    current_group: dict[str, Any] | None
    can_vote: bool
    can_withdraw: bool
    result: dict[str, Any] | None
    error: str | None
    operation_id: uuid.UUID | None
    created_at: datetime
    closed_at: datetime | None


async def voter_of(
    db: AsyncSession, user_id: uuid.UUID, org_id: uuid.UUID, email: str, role: str
) -> Voter:
    """The caller as the approval workflow sees them: their role and teams, by id (what decides)
    and by name (what people read)."""
    rows = (
        await db.execute(
            select(Team.id, Team.name)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.user_id == user_id, Team.org_id == org_id)
        )
    ).all()
    role_id = (
        role
        if role in BUILTIN_ROLES
        else await db.scalar(select(Role.id).where(Role.org_id == org_id, Role.name == role))
    )
    return Voter(
        user_id=str(user_id),
        email=email,
        role=role,
        teams=sorted(name for _, name in rows),
        role_id=str(role_id) if role_id else None,
        team_ids=sorted(str(team_id) for team_id, _ in rows),
    )


def voter_for(row: ChangeRequestRow, voter: Voter) -> Voter:
    """The voter as a request decided before roles and teams had ids expects them: its workflow
    matches names, so the voter carries the names (as the request froze them) of the roles and
    teams it holds by id in the request's stored, migrated decision."""
    ticket = ticket_of(row)
    group = (
        ticket.decision.groups[tally_of(row, ticket).group_index]
        if ticket.decision.groups
        else None
    )
    if group is None or not by_id(group):
        return voter
    role = next(
        (
            name
            for name, ref in zip(group.roles, group.role_ids or [], strict=False)
            if ref and ref == voter.role_id
        ),
        voter.role,
    )
    teams = {
        name
        for name, ref in zip(group.teams, group.team_ids or [], strict=False)
        if ref and ref in voter.team_ids
    }
    return voter.model_copy(update={"role": role, "teams": sorted(set(voter.teams) | teams)})


def view(
    row: ChangeRequestRow, voter: Voter, names: tuple[dict[str, str], dict[str, str]] | None = None
) -> ApprovalOut:
    waiting = row.status == "waiting_approval"
    group = None
    can_vote = False
    if waiting and row.decision.get("groups"):
        ticket = ticket_of(row)
        tally = tally_of(row, ticket)
        current = ticket.decision.groups[tally.group_index]
        shown = relabel(current, *names) if names else current
        group = shown.model_dump(mode="json")
        voted = any(v.voter.user_id == voter.user_id for v in tally.votes)
        can_vote = voter.user_id != str(row.requester_id) and not voted and eligible(current, voter)
    return ApprovalOut(
        id=row.id,
        kind=row.kind,
        operation=row.operation,
        title=row.title,
        status=row.status,
        cluster_id=row.cluster_id,
        team_id=row.team_id,
        environment=row.environment,
        requester_id=row.requester_id,
        requester_email=row.requester_email,
        spec=row.spec,
        diff=row.diff or {},
        justification=row.justification,
        decision=row.decision,
        risk_notes=row.risk_notes or [],
        risk_summary=risk_summary_of(row),
        votes=row.votes or [],
        current_group=group,
        can_vote=can_vote,
        can_withdraw=waiting and voter.user_id == str(row.requester_id),
        result=row.result,
        error=row.error,
        operation_id=row.operation_id,
        created_at=row.created_at,
        closed_at=row.closed_at,
    )
