"""Team quotas and quota requests: the limits with the team's live usage and percentages, the
limits set directly by an admin, the history of every change, and the self-service request for
more (``POST /quota-requests``), which policy auto-approves under its thresholds or sends for
approval; either way a ``QuotaRequestWorkflow`` applies it."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.approval_views import ApprovalOut, view, voter_of
from api.change_gate import ApprovalPending, open_and_start
from api.deps import Db, Principal, Svc, audit, deny, require
from api.errors import ProblemError
from api.members import team_of
from core import quotas
from core.changes.judge import current_policies, team_history
from core.changes.models import ChangeSpec
from core.db.models import QUOTA_RESOURCES, ChangeRequestRow, Team, TeamMember
from core.policy import ChangeRequest, decide
from core.policy import risk_notes as make_risk_notes
from core.policy.wording import limit_text

router = APIRouter(tags=["quotas"])
Resource = Literal[QUOTA_RESOURCES]  # type: ignore[valid-type]
MAX_LIMIT = 10**18


class QuotaLine(BaseModel):
    resource: str
    label: str
    limit: int | None
    usage: float | None
    percent: float | None


class QuotasOut(BaseModel):
    team_id: uuid.UUID
    team_name: str
    items: list[QuotaLine]
    resources: list[dict]
    unreachable: list[str]


class QuotaLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limits: dict[Resource, int | None] = Field(  # type: ignore[valid-type]
        description="a limit per quota; null removes it (unlimited)"
    )

    def checked(self) -> dict[str, int | None]:
        for name, value in self.limits.items():
            if value is not None and not 0 <= value <= MAX_LIMIT:
                raise ProblemError(
                    422,
                    f"Invalid input: limits.{name}: must be between 0 and "
                    f"{MAX_LIMIT}, or null for unlimited.",
                    errors=[{"field": f"limits.{name}", "message": "out of range"}],
                )
        return dict(self.limits)


class HistoryOut(BaseModel):
    resource: str
    before: int | None
    after: int | None
    reason: str
    request_id: uuid.UUID | None
    changed_by_email: str
    created_at: datetime


class QuotaRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: uuid.UUID
    resource: Resource  # type: ignore[valid-type]
    requested_limit: int = Field(gt=0, le=MAX_LIMIT)
    justification: str = Field(
        min_length=1,
        max_length=4000,
        pattern=r"^[^\x00]*\S[^\x00]*$",
        description="why the team needs it; approvers read it",
    )


async def _report(db: Db, svc: Svc, team: Team) -> QuotasOut:
    usage = await quotas.live_usage(db, svc.clusters, svc.cipher, team.id, counters=True)
    await _measure_rates(svc, team.id, usage)
    lines = quotas.report(await quotas.limits(db, team.id), usage)
    return QuotasOut(
        team_id=team.id,
        team_name=team.name,
        items=lines,
        resources=usage.streams,
        unreachable=usage.unreachable,
    )


async def _measure_rates(svc: Svc, team_id: uuid.UUID, usage: quotas.Usage) -> None:
    """Rates since the team's previous sample (kept in Redis for any API replica); the sample is
    replaced once it is old enough to measure against."""
    key, now = f"quota:sample:{team_id}", time.time()
    raw = await svc.redis.get(key)
    previous = json.loads(raw) if raw else None
    measured = quotas.rates(previous, usage.counters, now)
    if measured:
        usage.values.update(measured)
    if previous is None or now - previous["t"] >= 2:
        await svc.redis.set(key, json.dumps({"t": now, "counters": usage.counters}), ex=900)


@router.get("/api/v1/teams/{team_id}/quotas", response_model=QuotasOut)
async def read_quotas(
    team_id: uuid.UUID, db: Db, svc: Svc, principal: Principal = Depends(require("teams:read"))
):
    """Limits (null: unlimited), live usage from the clusters and percent. The inbound and outbound
    rates are measured between two reads at least 2 s apart (null on the first)."""
    return await _report(db, svc, await team_of(db, principal, team_id))


@router.put("/api/v1/teams/{team_id}/quotas", response_model=QuotasOut)
async def set_quotas(
    team_id: uuid.UUID,
    body: QuotaLimits,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("teams:update")),
):
    """Set limits directly (an admin's decision, kept in the quota history)."""
    team = await team_of(db, principal, team_id)
    wanted = body.checked()
    changed = {}
    async with db.begin_nested():
        for name, limit in wanted.items():
            if await quotas.set_limit(
                db,
                team.id,
                name,
                limit,
                reason="set_by_admin",
                actor_id=principal.user_id,
                actor_email=principal.email,
            ):
                changed[name] = limit
    await db.commit()
    await audit(
        request,
        principal,
        action="team.quotas.update",
        resource_type="team",
        resource_id=str(team.id),
        resource_name=team.name,
        changes={"limits": changed},
    )
    return await _report(db, svc, team)


@router.get("/api/v1/teams/{team_id}/quota-history", response_model=dict[str, list[HistoryOut]])
async def quota_history(
    team_id: uuid.UUID, db: Db, principal: Principal = Depends(require("teams:read"))
):
    team = await team_of(db, principal, team_id)
    return {
        "items": [
            HistoryOut(
                resource=h.resource,
                before=h.before,
                after=h.after,
                reason=h.reason,
                request_id=h.request_id,
                changed_by_email=h.changed_by_email,
                created_at=h.created_at,
            )
            for h in await quotas.history(db, team.id)
        ]
    }


@router.post("/api/v1/quota-requests", status_code=202, response_model=ApprovalPending)
async def request_quota(
    body: QuotaRequestBody,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("teams:read")),
):
    """Ask for a higher limit for your team: auto-approved under the policy's thresholds (then
    applied within seconds), else waiting for approval at /api/v1/approvals/{request_id}."""
    team = await team_of(db, principal, body.team_id)
    member = await db.scalar(
        select(TeamMember.id).where(
            TeamMember.team_id == team.id, TeamMember.user_id == principal.user_id
        )
    )
    if member is None and not principal.can("teams:update"):
        await deny(
            request,
            principal,
            "teams:read",
            f"Only members of team '{team.name}' (or an admin) can ask for its quotas.",
        )
    limits = await quotas.limits(db, team.id)
    current = limits.get(body.resource)
    if current is None:
        raise ProblemError(
            422,
            f"Invalid input: requested_limit: the {body.resource} limit of "
            f"team '{team.name}' is already unlimited; a quota request asks "
            "to raise a limit, and no limit is above unlimited.",
            errors=[
                {"field": "requested_limit", "message": "the current limit is already unlimited"}
            ],
        )
    if body.requested_limit <= current:
        raise ProblemError(
            422,
            f"Invalid input: requested_limit: the current {body.resource} "
            f"limit is already {limit_text(body.resource, current)}; a quota "
            "request asks for more. "
            "An admin lowers limits with PUT /api/v1/teams/{id}/quotas.",
            errors=[{"field": "requested_limit", "message": "not an increase"}],
        )
    usage = await quotas.live_usage(db, svc.clusters, svc.cipher, team.id)
    change = ChangeRequest(
        kind="quota",
        operation="increase",
        environment="production",
        requester_id=str(principal.user_id),
        requester_roles=[principal.role],
        quota_resource=body.resource,
        current_limit=current,
        requested_limit=body.requested_limit,
        usage={k: v for k, v in usage.values.items() if v is not None},
        quota=limits,
    )
    price = svc.settings.storage_price_per_gb
    decision = decide(change, await current_policies(db, principal.org_id), True, price)
    if decision.outcome == "auto_rejected":
        await deny(request, principal, "teams:read", " ".join(decision.reasons))
    notes = make_risk_notes(change, await team_history(db, team.id), price)
    spec = ChangeSpec(
        kind="quota",
        operation="increase",
        team_id=team.id,
        quota_resource=body.resource,
        requested_limit=body.requested_limit,
    )
    diff = {body.resource: {"before": current, "after": body.requested_limit}}
    return await open_and_start(
        request,
        db,
        svc,
        principal,
        spec,
        decision,
        notes,
        diff,
        environment=None,
        team_id=team.id,
        justification=body.justification.strip(),
    )


@router.get("/api/v1/quota-requests", response_model=dict[str, list[ApprovalOut]])
async def list_quota_requests(
    db: Db,
    team_id: uuid.UUID | None = None,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    principal: Principal = Depends(require("teams:read")),
):
    query = select(ChangeRequestRow).where(
        ChangeRequestRow.org_id == principal.org_id, ChangeRequestRow.kind == "quota"
    )
    if team_id is not None:
        query = query.where(ChangeRequestRow.team_id == team_id)
    rows = await db.scalars(
        query.order_by(ChangeRequestRow.created_at.desc()).limit(limit).offset(offset)
    )
    voter = await voter_of(db, principal.user_id, principal.org_id, principal.email, principal.role)
    return {"items": [view(r, voter) for r in rows]}
