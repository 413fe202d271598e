"""Teams of the caller's organization, their members and their namespaces (stream-name prefixes
per cluster, which a role with scope ``team`` is limited to). Another organization's team, user
or cluster is a 404."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.deps import Db, Principal, audit, require
from api.errors import ProblemError
from api.members import problem, team_of
from api.tenancy_schemas import (
    NamespaceIn,
    TeamCreate,
    TeamMemberIn,
    TeamMemberOut,
    TeamOut,
    TeamUpdate,
)
from core import namespaces, tenancy
from core.db.models import Team, TeamMember, User

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])


async def _out(db: Db, team: Team, *, with_members: bool = True) -> TeamOut:
    owned = (await namespaces.team_namespaces(db, [team.id]))[team.id]
    team_members = None
    if with_members:
        rows = await db.execute(
            select(TeamMember.user_id, User.email, TeamMember.role, TeamMember.added_at)
            .join(User, User.id == TeamMember.user_id)
            .where(TeamMember.team_id == team.id)
            .order_by(User.email)
        )
        team_members = [
            TeamMemberOut(user_id=u, email=e, role=r, added_at=a) for u, e, r, a in rows
        ]
    return TeamOut(
        id=team.id,
        name=team.name,
        description=team.description,
        namespaces=[NamespaceIn(cluster_id=n.cluster_id, prefix=n.prefix) for n in owned],
        members=team_members,
        created_at=team.created_at,
        updated_at=team.updated_at,
    )


async def _namespaces(
    db: Db, principal: Principal, team_id: uuid.UUID | None, wanted: list[NamespaceIn]
) -> list[namespaces.Namespace]:
    try:
        return await namespaces.check_namespaces(
            db,
            principal.org_id,
            team_id,
            [namespaces.Namespace(n.cluster_id, n.prefix) for n in wanted],
        )
    except tenancy.TenancyError as exc:
        raise problem(exc) from exc


async def _commit(db: Db, name: str) -> None:
    try:
        await db.commit()
    except IntegrityError as exc:
        await db.rollback()
        raise ProblemError(
            409, f"A team named '{name}' already exists in your organization."
        ) from exc


@router.get("", response_model=dict[str, list[TeamOut]])
async def list_teams(db: Db, principal: Principal = Depends(require("teams:read"))):
    rows = await db.scalars(select(Team).where(Team.org_id == principal.org_id).order_by(Team.name))
    return {"items": [await _out(db, t, with_members=False) for t in rows]}


@router.post("", status_code=201, response_model=TeamOut)
async def create_team(
    body: TeamCreate,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("teams:create")),
) -> TeamOut:
    owned = await _namespaces(db, principal, None, body.namespaces)
    team = Team(org_id=principal.org_id, name=body.name.strip(), description=body.description)
    db.add(team)
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise ProblemError(
            409, f"A team named '{body.name}' already exists in your organization."
        ) from exc
    await namespaces.set_namespaces(db, team, owned)
    await _commit(db, team.name)
    await db.refresh(team)
    out = await _out(db, team)
    await audit(
        request,
        principal,
        action="team.create",
        resource_type="team",
        resource_id=str(team.id),
        resource_name=team.name,
        changes={"after": out.model_dump(mode="json", exclude={"members"})},
    )
    return out


@router.get("/{team_id}", response_model=TeamOut)
async def read_team(
    team_id: uuid.UUID, db: Db, principal: Principal = Depends(require("teams:read"))
) -> TeamOut:
    return await _out(db, await team_of(db, principal, team_id))


@router.patch("/{team_id}", response_model=TeamOut)
async def update_team(
    team_id: uuid.UUID,
    body: TeamUpdate,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("teams:update")),
) -> TeamOut:
    team = await team_of(db, principal, team_id)
    before = (await _out(db, team, with_members=False)).model_dump(mode="json")
    if body.namespaces is not None:
        await namespaces.set_namespaces(
            db, team, await _namespaces(db, principal, team.id, body.namespaces)
        )
    if body.name is not None:
        team.name = body.name.strip()
    if body.description is not None:
        team.description = body.description
    await _commit(db, team.name)
    await db.refresh(team)
    out = await _out(db, team)
    after = out.model_dump(mode="json", exclude={"members"})
    await audit(
        request,
        principal,
        action="team.update",
        resource_type="team",
        resource_id=str(team.id),
        resource_name=team.name,
        changes={
            k: {"before": before[k], "after": after[k]}
            for k in ("name", "description", "namespaces")
            if before[k] != after[k]
        },
    )
    return out


@router.delete("/{team_id}", status_code=204)
async def delete_team(
    team_id: uuid.UUID,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("teams:delete")),
) -> None:
    team = await team_of(db, principal, team_id)
    before = (await _out(db, team)).model_dump(mode="json")
    await db.delete(team)
    await db.commit()
    await audit(
        request,
        principal,
        action="team.delete",
        resource_type="team",
        resource_id=str(team_id),
        resource_name=before["name"],
        changes={"before": before},
    )


@router.get("/{team_id}/members", response_model=dict[str, list[TeamMemberOut]])
async def list_team_members(
    team_id: uuid.UUID, db: Db, principal: Principal = Depends(require("teams:read"))
):
    return {"items": (await _out(db, await team_of(db, principal, team_id))).members}


@router.post("/{team_id}/members", status_code=201, response_model=TeamMemberOut)
async def add_team_member(
    team_id: uuid.UUID,
    body: TeamMemberIn,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("teams:update")),
):
    team = await team_of(db, principal, team_id)
    try:
        member = await tenancy.member(db, principal.org_id, body.user_id)
    except tenancy.TenancyError as exc:
        raise problem(exc) from exc
    email, team_name = member.user.email, team.name
    row = TeamMember(team_id=team.id, user_id=body.user_id, role=body.role)
    db.add(row)
    try:
        await db.commit()
    except IntegrityError as exc:  # after a rollback the loaded rows are expired: use copies
        await db.rollback()
        raise ProblemError(409, f"{email} is already a member of team '{team_name}'.") from exc
    await db.refresh(row)
    await audit(
        request,
        principal,
        action="team.add_member",
        resource_type="team",
        resource_id=str(team.id),
        resource_name=team.name,
        changes={"user_id": str(body.user_id), "email": email, "role": body.role},
    )
    return TeamMemberOut(user_id=row.user_id, email=email, role=row.role, added_at=row.added_at)


@router.delete("/{team_id}/members/{user_id}", status_code=204)
async def remove_team_member(
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("teams:update")),
) -> None:
    team = await team_of(db, principal, team_id)
    row = await db.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id)
    )
    if row is None:
        raise ProblemError(404, f"No user with id {user_id} in team '{team.name}'.")
    await db.delete(row)
    await db.commit()
    await audit(
        request,
        principal,
        action="team.remove_member",
        resource_type="team",
        resource_id=str(team.id),
        resource_name=team.name,
        changes={"user_id": str(user_id)},
    )
