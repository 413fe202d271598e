"""Change requests waiting for (or past) approval: list with filters, read one with its diff, the
policy that matched and the risk notes, and decide: approve, reject (a reason is required),
request changes, withdraw (the requester). Deciding needs ``approvals:vote`` (an API key votes
only when its scopes grant it); whose vote counts is the policy's call. A decision is a Temporal
update of the request's ``ApprovalWorkflow``, whose validator enforces the rules (four-eyes,
required role, one vote per person, closed requests), so the answer is immediate and a refused
decision changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.approval_views import ApprovalOut, Voter, view, voter_for, voter_of
from api.deps import Db, Principal, Svc, audit, deny, require
from api.errors import ProblemError
from core.approval_policies import directory as labels
from core.changes.models import Vote, VoteAction
from core.changes.requests import tally_of, ticket_of
from core.changes.voting import VoteRefused, check
from core.db.models import CHANGE_STATUSES, ChangeRequestRow, Operation
from workflows.approval import ApprovalWorkflow

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])
VOTE_WAIT_S = 15.0  # a vote waits this long for a worker to take it, then answers 503
REFUSALS = {
    "self_approval": 403,
    "not_approver": 403,
    "not_requester": 403,
    "closed": 409,
    "already_voted": 409,
    "reason_required": 422,
}


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(default="", max_length=4000, pattern=r"^[^\x00]*$")


@router.get("", response_model=dict[str, list[ApprovalOut]])
async def list_approvals(
    db: Db,
    status: Literal[CHANGE_STATUSES] | None = None,  # type: ignore[valid-type]
    mine: bool = False,
    waiting_for_me: bool = False,
    team_id: uuid.UUID | None = None,
    cluster_id: uuid.UUID | None = None,
    kind: str | None = Query(None, max_length=32),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    principal: Principal = Depends(require("operations:read")),
):
    """``mine``: requests you made; ``waiting_for_me``: open requests whose current step you can
    approve now (not yours, not voted yet)."""
    query = select(ChangeRequestRow).where(ChangeRequestRow.org_id == principal.org_id)
    if waiting_for_me:
        status = "waiting_approval"
    for column, value in (
        (ChangeRequestRow.status, status),
        (ChangeRequestRow.team_id, team_id),
        (ChangeRequestRow.cluster_id, cluster_id),
        (ChangeRequestRow.kind, kind),
    ):
        if value is not None:
            query = query.where(column == value)
    if mine:
        query = query.where(ChangeRequestRow.requester_id == principal.user_id)
    query = query.order_by(ChangeRequestRow.created_at.desc())
    voter = await voter_of(db, principal.user_id, principal.org_id, principal.email, principal.role)
    names = await labels(db, principal.org_id)
    if not waiting_for_me:
        rows = await db.scalars(query.limit(limit).offset(offset))
        return {"items": [_view(r, voter, names, principal) for r in rows]}
    items = [
        v
        for v in (_view(r, voter, names, principal) for r in await db.scalars(query))
        if v.can_vote
    ]
    return {"items": items[offset : offset + limit]}


def _view(
    row: ChangeRequestRow,
    voter: Voter,
    names: tuple[dict[str, str], dict[str, str]],
    principal: Principal,
) -> ApprovalOut:
    out = view(row, voter, names)
    if not principal.can("approvals:vote"):  # a read-only caller or key votes on nothing
        out.can_vote = out.can_withdraw = False
    return out


async def _load(db: Db, principal: Principal, request_id: uuid.UUID) -> ChangeRequestRow:
    row = await db.scalar(
        select(ChangeRequestRow).where(
            ChangeRequestRow.id == request_id, ChangeRequestRow.org_id == principal.org_id
        )
    )
    if row is None:
        raise ProblemError(404, f"No change request with id {request_id} in your organization.")
    return row


@router.get("/{request_id}", response_model=ApprovalOut)
async def read_approval(
    request_id: uuid.UUID, db: Db, principal: Principal = Depends(require("operations:read"))
):
    row = await _load(db, principal, request_id)
    return _view(
        row,
        await voter_of(db, principal.user_id, principal.org_id, principal.email, principal.role),
        await labels(db, principal.org_id),
        principal,
    )


async def _decide(
    action: VoteAction,
    request_id: uuid.UUID,
    body: DecisionBody | None,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
) -> ApprovalOut:
    body = body or DecisionBody()
    row = await _load(db, principal, request_id)
    voter = await voter_of(db, principal.user_id, principal.org_id, principal.email, principal.role)
    if row.status != "waiting_approval":
        raise ProblemError(
            409,
            f"This request is already {row.status.replace('_', ' ')}; it takes no more decisions.",
            request_status=row.status,
        )
    # The stored decision refers to roles and teams by id (requests decided before ids were
    # migrated): judge the vote by it here, then give the workflow the names it matches.
    vote = Vote(voter=voter, action=action, comment=body.comment)
    try:
        check(ticket_of(row), tally_of(row), vote)
    except VoteRefused as refused:
        status = REFUSALS.get(refused.code, 409)
        if status == 403:
            await deny(request, principal, "approvals:vote", str(refused))
        raise ProblemError(status, str(refused), reason=refused.code) from refused
    vote = vote.model_copy(update={"voter": voter_for(row, voter)})
    operation = await db.get(Operation, row.operation_id)
    handle = svc.temporal.get_workflow_handle(operation.workflow_id)
    try:
        await asyncio.wait_for(
            handle.execute_update(ApprovalWorkflow.vote, vote), timeout=VOTE_WAIT_S
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise ProblemError(
            503,
            f"No worker answered within {VOTE_WAIT_S:g} s: the approval workflows' worker "
            f"(Temporal task queue '{svc.settings.task_queue}') is not running. The vote is "
            "not confirmed; it may still be counted when a worker starts, so read the "
            "request again before voting again.",
            service="worker",
        ) from exc
    except WorkflowUpdateFailedError as failed:
        cause = failed.cause
        code = cause.type if isinstance(cause, ApplicationError) else None
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        status = REFUSALS.get(code or "", 409)
        if status == 403:
            await deny(request, principal, "approvals:vote", message)
        raise ProblemError(status, message, reason=code) from failed
    except RPCError as exc:  # the workflow ended between our read and the update
        raise ProblemError(409, f"This request no longer takes decisions ({exc.message}).") from exc
    await db.refresh(row)
    await audit(
        request,
        principal,
        action=f"approval.{action}",
        resource_type="change_request",
        resource_id=str(row.id),
        resource_name=row.title,
        cluster_id=row.cluster_id,
        changes={"comment": body.comment, "request_status": row.status},
    )
    return _view(row, voter, await labels(db, principal.org_id), principal)


@router.post("/{request_id}/approve", response_model=ApprovalOut)
async def approve(
    request_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    body: DecisionBody | None = None,
    principal: Principal = Depends(require("approvals:vote")),
):
    return await _decide("approve", request_id, body, request, db, svc, principal)


@router.post("/{request_id}/reject", response_model=ApprovalOut)
async def reject(
    request_id: uuid.UUID,
    body: DecisionBody,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("approvals:vote")),
):
    """``comment`` is the reason, required."""
    if not body.comment.strip():
        raise ProblemError(
            422,
            "Invalid input: comment: give a reason to reject a request.",
            errors=[{"field": "comment", "message": "required to reject"}],
        )
    return await _decide("reject", request_id, body, request, db, svc, principal)


@router.post("/{request_id}/request-changes", response_model=ApprovalOut)
async def request_changes(
    request_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    body: DecisionBody | None = None,
    principal: Principal = Depends(require("approvals:vote")),
):
    """Close the request without applying it, telling the requester what to change."""
    return await _decide("request_changes", request_id, body, request, db, svc, principal)


@router.post("/{request_id}/withdraw", response_model=ApprovalOut)
async def withdraw(
    request_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    body: DecisionBody | None = None,
    principal: Principal = Depends(require("approvals:vote")),
):
    return await _decide("withdraw", request_id, body, request, db, svc, principal)
