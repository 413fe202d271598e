"""The ``change_requests`` rows: open one (with its operation row), record what the workflow
decided, and rebuild where a request stands from its stored votes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.changes.models import CLOSED, ApprovalTicket, ChangeSpec, RequestUpdate, Vote
from core.changes.voting import Tally, cast
from core.db.models import ChangeRequestRow, Operation
from core.operations import workflow_id_for
from core.policy.models import Decision


def requester_uuid(requester_id: str) -> uuid.UUID | None:
    """The requesting user's id; None when a repository asks (a GitOps sync: ``""``)."""
    return uuid.UUID(requester_id) if requester_id else None


async def open_request(
    db: AsyncSession,
    *,
    org_id: uuid.UUID,
    ticket: ApprovalTicket,
    environment: str | None,
    team_id: uuid.UUID | None,
    diff: dict[str, Any],
    risk_notes: list[str],
    justification: str = "",
    operation_type: str = "approval",
) -> tuple[ChangeRequestRow, Operation]:
    """Add the request and its operation row (the caller commits, then starts the workflow)."""
    request_id, op_id = uuid.UUID(ticket.request_id), uuid.uuid4()
    status = "auto_approved" if ticket.decision.outcome == "auto_approved" else "waiting_approval"
    op = Operation(
        id=op_id,
        org_id=org_id,
        type=operation_type,
        workflow_id=workflow_id_for(operation_type, op_id),
        status="pending",
        progress={},
        input={"request_id": ticket.request_id, "title": ticket.title},
        cluster_id=ticket.spec.cluster_id,
        started_by=requester_uuid(ticket.requester_id),
    )
    row = ChangeRequestRow(
        id=request_id,
        org_id=org_id,
        kind=ticket.spec.kind,
        operation=ticket.spec.operation,
        title=ticket.title,
        status=status,
        cluster_id=ticket.spec.cluster_id,
        team_id=team_id,
        environment=environment,
        requester_id=requester_uuid(ticket.requester_id),
        requester_email=ticket.requester_email,
        spec=ticket.spec.model_dump(mode="json"),
        diff=diff,
        justification=justification,
        decision=ticket.decision.model_dump(mode="json"),
        risk_notes=risk_notes,
        votes=[],
        operation_id=op_id,
    )
    db.add(op)
    await db.flush()  # the request refers to the operation
    db.add(row)
    await db.flush()
    return row, op


async def record(db: AsyncSession, change: RequestUpdate) -> None:
    """Idempotent: the same update twice leaves the same row."""
    values: dict[str, Any] = {
        "status": change.status,
        "votes": [v.model_dump(mode="json") for v in change.votes],
    }
    if change.result is not None:
        values["result"] = change.result
    if change.error is not None:
        values["error"] = change.error
    if change.status in CLOSED:
        values["closed_at"] = datetime.now(UTC)
    await db.execute(
        update(ChangeRequestRow)
        .where(ChangeRequestRow.id == uuid.UUID(change.request_id))
        .values(**values)
    )
    await db.commit()


def ticket_of(row: ChangeRequestRow) -> ApprovalTicket:
    return ApprovalTicket(
        request_id=str(row.id),
        requester_id=str(row.requester_id) if row.requester_id else "",
        requester_email=row.requester_email,
        title=row.title,
        spec=ChangeSpec.model_validate(row.spec),
        decision=Decision.model_validate(row.decision),
    )


def tally_of(row: ChangeRequestRow, ticket: ApprovalTicket | None = None) -> Tally:
    """Where the request stands, replayed from its stored votes (the workflow does the same)."""
    ticket = ticket or ticket_of(row)
    tally = Tally()
    for vote in row.votes or []:
        tally = cast(ticket, tally, Vote.model_validate(vote))
    tally.status = row.status
    return tally
