"""Operations: long-running work as durable workflows. Start one (``202``; an ``Idempotency-Key``
names the operation, so a retried POST returns the same one, even after a crash), list and read
them (live progress from the workflow while it runs, the row after), and pause, resume or cancel
them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel
from sqlalchemy import select
from temporalio.client import WorkflowHandle

from api.change_gate import ApprovalPending, gate_change
from api.cluster_access import cluster_jetstream, load_cluster
from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError
from api.operation_start import keyed_operation_id, start_operation
from core.changes.models import ChangeSpec
from core.db.models import Operation
from core.jetstream.api import JetStreamError
from core.operations import FINISHED, get_operation, with_heartbeat
from core.replay.models import ReplayRequest
from workflows.replay import ReplayWorkflow

router = APIRouter(prefix="/api/v1/operations", tags=["operations"])
REPLAY = ReplayWorkflow.__temporal_workflow_definition.name
DECIDED_BY_VOTES = ("approval", "quota_request")


class OperationStarted(BaseModel):
    id: uuid.UUID
    workflow_id: str
    status: str


class OperationOut(BaseModel):
    id: uuid.UUID
    type: str
    status: str
    progress: dict[str, Any]
    input: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    cluster_id: uuid.UUID | None
    workflow_id: str
    started_by: uuid.UUID | None
    started_at: datetime
    finished_at: datetime | None


def _out(row: Operation, live: dict | None = None) -> OperationOut:
    data = {
        "status": row.status,
        "progress": row.progress or {},
        "result": row.result,
        "error": row.error,
    }
    if live and live.get("status") != "pending":  # the workflow's view, never behind the row
        data.update(live)
    return OperationOut(
        id=row.id,
        type=row.type,
        input=row.input,
        cluster_id=row.cluster_id,
        workflow_id=row.workflow_id,
        started_by=row.started_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
        **data,
    )


async def _check_stream(
    db: Db, svc: Svc, principal: Principal, cluster_id: uuid.UUID, stream: str, role: str
) -> None:
    _, js = await cluster_jetstream(db, svc, principal, cluster_id)
    try:
        await js.stream_info(stream)
    except JetStreamError as exc:
        if exc.not_found:
            raise ProblemError(
                404, f"The {role} stream '{stream}' does not exist on cluster {cluster_id}."
            ) from exc
        raise


@router.post("/replay", status_code=202, response_model=OperationStarted | ApprovalPending)
async def start_replay(
    body: ReplayRequest,
    request: Request,
    db: Db,
    svc: Svc,
    idempotency_key: str | None = Header(None, max_length=200),
    principal: Principal = Depends(require("messages:publish")),
):
    """Start a replay: ``{id, workflow_id, status}``. Where policy says a replay into the
    destination cluster needs approval, ``{request_id, operation_id, status: "waiting_approval"}``
    instead: the replay starts once the request is approved."""
    if not principal.can("messages:read"):
        raise ProblemError(403, f"Your role '{principal.role}' does not allow reading messages.")
    keyed = keyed_operation_id(principal, "replay", idempotency_key)
    if keyed and (row := await get_operation(db, principal.org_id, keyed)) is not None:
        return OperationStarted(id=row.id, workflow_id=row.workflow_id, status=row.status)
    await _check_stream(db, svc, principal, body.cluster_id, body.stream, "source")
    if body.destination.stream:
        await _check_stream(
            db, svc, principal, body.destination_cluster_id, body.destination.stream, "destination"
        )
    destination = await load_cluster(db, principal, body.destination_cluster_id)
    spec = ChangeSpec(
        kind="replay",
        operation="replay",
        cluster_id=destination.id,
        name=body.destination.stream or body.stream,
        config=body.model_dump(mode="json"),
    )
    if pending := await gate_change(
        request, db, svc, principal, destination, spec, permission="messages:publish"
    ):
        return pending
    op_id, workflow_id, status = await start_operation(
        request,
        db,
        svc,
        principal,
        kind="replay",
        workflow=REPLAY,
        operation_id=keyed or uuid.uuid4(),
        input=body,
        cluster_id=body.cluster_id,
        idempotency_key=idempotency_key,
    )
    return OperationStarted(id=op_id, workflow_id=workflow_id, status=status)


@router.get("", response_model=dict[str, list[OperationOut]])
async def list_operations(
    db: Db,
    type: str | None = Query(None, max_length=64),
    status: Literal[
        "pending", "running", "paused", "waiting_approval", "completed", "failed", "cancelled"
    ]
    | None = None,
    cluster_id: uuid.UUID | None = None,
    started_by: uuid.UUID | None = None,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    principal: Principal = Depends(require("operations:read")),
):
    query = select(Operation).where(Operation.org_id == principal.org_id)
    for column, value in (
        (Operation.type, type),
        (Operation.status, status),
        (Operation.cluster_id, cluster_id),
        (Operation.started_by, started_by),
    ):
        if value is not None:
            query = query.where(column == value)
    rows = await db.scalars(query.order_by(Operation.started_at.desc()).limit(limit).offset(offset))
    return {"items": [_out(r) for r in rows]}


async def _load(db: Db, principal: Principal, operation_id: uuid.UUID) -> Operation:
    row = await get_operation(db, principal.org_id, operation_id)
    if row is None:
        raise ProblemError(404, f"No operation with id {operation_id} in your organization.")
    return row


@router.get("/{operation_id}", response_model=OperationOut)
async def read_operation(
    operation_id: uuid.UUID,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("operations:read")),
):
    row = await _load(db, principal, operation_id)
    live = None
    if row.status not in FINISHED:
        try:
            handle: WorkflowHandle = svc.temporal.get_workflow_handle(row.workflow_id)
            live = await asyncio.wait_for(handle.query("view"), timeout=2)
            if live.get("status") == "running":
                heartbeat = await asyncio.wait_for(_last_heartbeat(svc, handle), timeout=2)
                live["progress"] = with_heartbeat(live.get("progress") or {}, heartbeat)
        except Exception:  # no worker to answer right now: the row is the truth
            live = live or None
    return _out(row, live)


async def _last_heartbeat(svc: Svc, handle: WorkflowHandle) -> dict | None:
    """What the operation's running activity last heartbeated (a replay chunk's checkpoint)."""
    description = await handle.describe()
    for pending in description.raw_description.pending_activities:
        if pending.heartbeat_details.payloads:
            details = await svc.temporal.data_converter.decode(pending.heartbeat_details.payloads)
            if details:
                return details[0]
    return None


async def _control(
    action: str, operation_id: uuid.UUID, request: Request, db: Db, svc: Svc, principal: Principal
) -> OperationOut:
    row = await _load(db, principal, operation_id)
    if row.status in FINISHED:
        raise ProblemError(
            409, f"The operation has already ended ({row.status}); nothing to {action}."
        )
    if row.type in DECIDED_BY_VOTES:  # its workflow waits for people, not for a pause or cancel
        request_id = (row.input or {}).get("request_id")
        raise ProblemError(
            409,
            f"An approval request cannot be {action}d as an operation: it waits for a "
            f"decision. Withdraw it (POST /api/v1/approvals/{request_id}/withdraw, the "
            "requester) or reject it (an approver) instead.",
            request_id=request_id,
        )
    await svc.temporal.get_workflow_handle(row.workflow_id).signal(action)
    await audit(
        request,
        principal,
        action=f"operation.{action}",
        resource_type="operation",
        resource_id=str(row.id),
        resource_name=row.type,
        cluster_id=row.cluster_id,
    )
    return _out(row)


@router.post("/{operation_id}/pause", response_model=OperationOut)
async def pause_operation(
    operation_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("messages:publish")),
):
    return await _control("pause", operation_id, request, db, svc, principal)


@router.post("/{operation_id}/resume", response_model=OperationOut)
async def resume_operation(
    operation_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("messages:publish")),
):
    return await _control("resume", operation_id, request, db, svc, principal)


@router.post("/{operation_id}/cancel", response_model=OperationOut)
async def cancel_operation(
    operation_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("messages:publish")),
):
    return await _control("cancel", operation_id, request, db, svc, principal)
