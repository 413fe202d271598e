"""Backup schedules (``/api/v1/backup-schedules``): back up a cluster's streams (or a team's) on
a cadence, fully on ``full`` and incrementally on ``incremental``, each cadence a Temporal
schedule (``core.backups.schedules``) starting ``ScheduledBackupWorkflow``; after each run, the
schedule's expired backups are removed (``core.backups.retention``).

Create, change (partial) and delete need ``backups:manage``; reading ``backups:read``; running
one now (``POST /{id}/run``, an operation of type ``backup``) ``backups:create``. Deleting a
schedule keeps its backups."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from temporalio.service import RPCError

from api.backup_checks import choose_target
from api.cluster_access import load_cluster
from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError, validation_problem
from api.operation_start import keyed_operation_id
from api.outbox_delivery import deliver_now, owe_start
from api.routers.operations import OperationStarted
from core.backups import schedules
from core.backups.jobs import ScheduledRun
from core.backups.models import Cadence, ScheduleRequest, Target
from core.backups.selection import SelectionError, team_prefixes
from core.db.models import BackupSchedule, Operation
from core.labels import Label
from core.operations import get_operation, workflow_id_for

router = APIRouter(prefix="/api/v1/backup-schedules", tags=["backups"])


class ScheduleOut(BaseModel):
    id: uuid.UUID
    name: str
    cluster_id: uuid.UUID
    team_id: uuid.UUID | None
    streams: list[str] | Literal["all"]
    target: dict[str, Any]
    full: dict[str, Any]
    incremental: dict[str, Any] | None
    enabled: bool
    last_run: dict[str, Any] | None
    next_runs: list[datetime]
    created_at: datetime


class ScheduleChange(BaseModel):
    """A partial change: only the fields given change (``incremental: null`` removes it)."""

    model_config = ConfigDict(extra="forbid")
    name: Label | None = Field(default=None, min_length=1, max_length=255)
    team_id: uuid.UUID | None = None
    streams: list[str] | Literal["all"] | None = None
    target: Target | None = None
    full: Cadence | None = None
    incremental: Cadence | None = None
    enabled: bool | None = None


async def _out(
    svc: Svc, row: BackupSchedule, next_runs: list[datetime] | None = None
) -> ScheduleOut:
    if next_runs is None:
        try:
            next_runs = await schedules.next_runs(svc.temporal, row)
        except RPCError:
            next_runs = []
    return ScheduleOut(
        id=row.id,
        name=row.name,
        cluster_id=row.cluster_id,
        team_id=row.team_id,
        streams=row.streams or "all",
        target=row.target,
        full=row.full,
        incremental=row.incremental,
        enabled=row.enabled,
        last_run=row.last_run,
        next_runs=next_runs,
        created_at=row.created_at,
    )


async def _load(db: Db, principal: Principal, schedule_id: uuid.UUID) -> BackupSchedule:
    row = await db.scalar(
        select(BackupSchedule).where(
            BackupSchedule.id == schedule_id, BackupSchedule.org_id == principal.org_id
        )
    )
    if row is None:
        raise ProblemError(404, f"No backup schedule with id {schedule_id} in your organization.")
    return row


async def _checked(db: Db, svc: Svc, principal: Principal, body: ScheduleRequest) -> dict:
    """The row's values from a request: the cluster, team and target are the organization's,
    the cadences are ones Temporal takes."""
    cluster = await load_cluster(db, principal, body.cluster_id)
    if body.team_id is not None:
        try:
            await team_prefixes(db, principal.org_id, body.team_id, cluster.id)
        except SelectionError as exc:
            raise ProblemError(exc.status, exc.message) from exc
    for field, cadence in (("full", body.full), ("incremental", body.incremental)):
        if cadence is None:
            continue
        try:
            schedules.check_cadence(cadence.model_dump())
        except schedules.ScheduleRefused as exc:
            raise ProblemError(
                422,
                f"Invalid input: {field}: {exc}",
                errors=[{"field": field, "message": str(exc)}],
            ) from exc
    target = await choose_target(db, svc, principal, cluster, body.target)
    return {
        "name": body.name,
        "cluster_id": cluster.id,
        "team_id": body.team_id,
        "streams": [] if body.streams == "all" else list(body.streams),
        "target": target,
        "full": body.full.model_dump(exclude_none=True),
        "incremental": body.incremental.model_dump(exclude_none=True) if body.incremental else None,
        "enabled": body.enabled,
    }


async def _sync(svc: Svc, row: BackupSchedule) -> None:
    try:
        await schedules.sync(svc.temporal, row, svc.settings.task_queue)
    except schedules.ScheduleRefused as exc:
        raise ProblemError(422, f"Invalid input: {exc}") from exc
    except RPCError as exc:
        raise ProblemError(
            503, f"temporal is unavailable: {exc.message}", service="temporal"
        ) from exc


def _name_taken(name: str) -> ProblemError:
    return ProblemError(
        409,
        f"A backup schedule named '{name}' exists already; choose another name or change that one.",
    )


async def _saved(db: Db, svc: Svc, row: BackupSchedule) -> ScheduleOut:
    """Write the row (a name taken in the organization is a 409), then its Temporal schedules."""
    name = row.name  # a rollback expires the row's attributes
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise _name_taken(name) from exc
    await _sync(svc, row)
    await db.refresh(row)
    return await _out(svc, row)


@router.post("", status_code=201, response_model=ScheduleOut)
async def create_schedule(
    body: ScheduleRequest,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("backups:manage")),
):
    values = await _checked(db, svc, principal, body)
    row = BackupSchedule(
        id=uuid.uuid4(), org_id=principal.org_id, created_by=principal.user_id, **values
    )
    db.add(row)
    out = await _saved(db, svc, row)
    await audit(
        request,
        principal,
        action="backup_schedule.create",
        resource_type="backup_schedule",
        resource_id=str(row.id),
        resource_name=row.name,
        cluster_id=row.cluster_id,
        changes={"after": out.model_dump(mode="json")},
        db=db,
    )
    return out


@router.get("", response_model=dict[str, list[ScheduleOut]])
async def list_schedules(
    db: Db,
    svc: Svc,
    cluster_id: uuid.UUID | None = None,
    principal: Principal = Depends(require("backups:read")),
):
    query = select(BackupSchedule).where(BackupSchedule.org_id == principal.org_id)
    if cluster_id is not None:
        query = query.where(BackupSchedule.cluster_id == cluster_id)
    found = await db.scalars(query.order_by(BackupSchedule.name))
    return {"items": [await _out(svc, row) for row in found]}


@router.get("/{schedule_id}", response_model=ScheduleOut)
async def read_schedule(
    schedule_id: uuid.UUID,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("backups:read")),
):
    return await _out(svc, await _load(db, principal, schedule_id))


@router.patch("/{schedule_id}", response_model=ScheduleOut)
async def update_schedule(
    schedule_id: uuid.UUID,
    body: ScheduleChange,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("backups:manage")),
):
    row = await _load(db, principal, schedule_id)
    before = (await _out(svc, row, next_runs=[])).model_dump(mode="json")
    merged = {
        "name": row.name,
        "cluster_id": row.cluster_id,
        "team_id": row.team_id,
        "streams": row.streams or "all",
        "target": _request_target(row.target),
        "full": row.full,
        "incremental": row.incremental,
        "enabled": row.enabled,
    }
    merged.update(body.model_dump(mode="json", include=body.model_fields_set))
    try:
        wanted = ScheduleRequest.model_validate(merged)
    except ValidationError as exc:
        return validation_problem(exc.errors())
    values = await _checked(db, svc, principal, wanted)
    for key, value in values.items():
        setattr(row, key, value)
    out = await _saved(db, svc, row)
    await audit(
        request,
        principal,
        action="backup_schedule.update",
        resource_type="backup_schedule",
        resource_id=str(row.id),
        resource_name=row.name,
        cluster_id=row.cluster_id,
        changes={"before": before, "after": out.model_dump(mode="json")},
        db=db,
    )
    return out


def _request_target(stored: dict) -> dict:
    return {k: v for k, v in stored.items() if k != "type"}


@router.delete("/{schedule_id}", status_code=204, response_class=Response)
async def delete_schedule(
    schedule_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("backups:manage")),
):
    """Delete the schedule and its Temporal schedules; its backups stay."""
    row = await _load(db, principal, schedule_id)
    try:
        await schedules.delete(svc.temporal, row.id)
    except RPCError as exc:
        raise ProblemError(
            503, f"temporal is unavailable: {exc.message}", service="temporal"
        ) from exc
    name, cluster_id = row.name, row.cluster_id
    await db.delete(row)
    await audit(
        request,
        principal,
        action="backup_schedule.delete",
        resource_type="backup_schedule",
        resource_id=str(schedule_id),
        resource_name=name,
        cluster_id=cluster_id,
        db=db,
    )
    return Response(status_code=204)


@router.post("/{schedule_id}/run", status_code=202, response_model=OperationStarted)
async def run_schedule(
    schedule_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    kind: Literal["full", "incremental"] = Query("full"),
    idempotency_key: str | None = Header(None, max_length=200),
    principal: Principal = Depends(require("backups:create")),
):
    """Run the schedule now, as its cadence would (then its retention): an operation of type
    ``backup`` whose backup is the schedule's."""
    keyed = keyed_operation_id(principal, f"backup_schedule:{schedule_id}", idempotency_key)
    if keyed and (op := await get_operation(db, principal.org_id, keyed)) is not None:
        return OperationStarted(id=op.id, workflow_id=op.workflow_id, status=op.status)
    row = await _load(db, principal, schedule_id)
    if kind == "incremental" and not row.incremental:
        raise ProblemError(
            409,
            "The schedule has no incremental cadence: run it with kind=full, "
            "or give it one (PATCH incremental).",
        )
    operation_id = keyed or uuid.uuid4()
    run = ScheduledRun(
        schedule_id=str(row.id),
        org_id=str(principal.org_id),
        kind=kind,
        operation_id=str(operation_id),
    )
    workflow_id = workflow_id_for("backup", operation_id)
    db.add(
        Operation(
            id=operation_id,
            org_id=principal.org_id,
            type="backup",
            workflow_id=workflow_id,
            status="pending",
            progress={"unit": "bytes"},
            input=run.model_dump(mode="json"),
            cluster_id=row.cluster_id,
            started_by=principal.user_id,
            idempotency_key=idempotency_key,
        )
    )
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        op = await get_operation(db, principal.org_id, operation_id)
        if op is None:
            raise
        return OperationStarted(id=op.id, workflow_id=op.workflow_id, status=op.status)
    start = owe_start(
        db,
        schedules.WORKFLOW,
        schedules.run_workflow_id(row.id, operation_id),
        [run],
        svc.settings.task_queue,
    )
    await audit(
        request,
        principal,
        action="operation.start",
        resource_type="operation",
        resource_id=str(operation_id),
        resource_name="backup",
        cluster_id=row.cluster_id,
        changes={"input": run.model_dump(mode="json"), "schedule": row.name},
        db=db,
    )
    await deliver_now(svc, start)
    return OperationStarted(id=operation_id, workflow_id=workflow_id, status="pending")
