"""Backups: take one (``POST /api/v1/operations/backup``, an operation of type ``backup``), restore
one (``POST /api/v1/operations/restore``, type ``restore``; over an existing stream through the
change gate, after its data is backed up), list and read them (``/api/v1/backups``), verify one
again (type ``backup_verify``) and delete one (its data at the target, then its rows).

The operation starters live here, in this module's router, registered before the operations
router's ``/api/v1/operations/{operation_id}`` routes (modules are included in name order), like
``POST /api/v1/operations/mirror``. Permissions: ``backups:create`` (take, verify),
``backups:restore``, ``backups:read``, ``backups:delete``. A caller whose permission has scope
``team`` backs up and restores streams of its teams' namespaces only.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from api.backup_checks import (
    choose_target,
    resolve_restore,
    selected_streams,
    start_backup_operation,
)
from api.change_gate import ApprovalPending, gate_change
from api.cluster_access import load_cluster
from api.deps import Db, Principal, Svc, audit, require, require_stream, stream_prefixes
from api.errors import ProblemError, problem_responses
from api.operation_start import keyed_operation_id, start_operation
from api.routers.operations import OperationStarted
from core import namespaces
from core.backups import rows
from core.backups.cleanup import delete_backups, delete_data
from core.backups.jobs import BackupJob
from core.backups.models import BackupRequest, RestoreRequest
from core.changes.models import ChangeSpec
from core.operations import get_operation

router = APIRouter(tags=["backups"])
BACKUPS = "/api/v1/backups"
RESTORE_WORKFLOW = "RestoreWorkflow"
BACKUP_WORKFLOW = "BackupWorkflow"


class BackupStarted(OperationStarted):
    backup_id: uuid.UUID


@router.post(
    "/api/v1/operations/backup",
    status_code=202,
    response_model=BackupStarted,
    responses=problem_responses(
        **{
            "404": "No such cluster, team or stream in your organization.",
            "409": "Nothing to back up: no stream matched.",
            "422": "No target given and no other cluster to keep the backup on, or a "
            "directory outside the backup root.",
            "503": "The cluster (or the target cluster) cannot be reached.",
        }
    ),
)
async def start_backup(
    body: BackupRequest,
    request: Request,
    db: Db,
    svc: Svc,
    idempotency_key: str | None = Header(None, max_length=200),
    principal: Principal = Depends(require_stream("backups:create")),
):
    """Back up streams of a cluster: ``{id, workflow_id, status, backup_id}``. A ``full`` backup
    is the server's snapshot of each stream; an ``incremental`` one the messages since the
    stream's previous backup at the same target (a stream without one is backed up fully).
    Every backup is verified right after it (a test restore): see ``GET /api/v1/backups/{id}``."""
    keyed = keyed_operation_id(principal, "backup", idempotency_key)
    if keyed and (row := await get_operation(db, principal.org_id, keyed)) is not None:
        return BackupStarted(
            id=row.id,
            workflow_id=row.workflow_id,
            status=row.status,
            backup_id=(row.input or {}).get("backup_id"),
        )
    cluster = await load_cluster(db, principal, body.cluster_id)
    streams = await selected_streams(
        request, db, svc, principal, cluster, body.streams, body.team_id, "backups:create"
    )
    target = await choose_target(db, svc, principal, cluster, body.target)
    backup_id = uuid.uuid5(keyed, "backup") if keyed else uuid.uuid4()
    op_id, workflow_id, status = await start_backup_operation(
        request,
        db,
        svc,
        principal,
        operation_id=keyed or uuid.uuid4(),
        backup_id=backup_id,
        cluster=cluster,
        streams=streams,
        kind=body.kind,
        target=target,
        team_id=body.team_id,
        idempotency_key=idempotency_key,
        audit_changes={"request": body.model_dump(mode="json")},
    )
    return BackupStarted(id=op_id, workflow_id=workflow_id, status=status, backup_id=backup_id)


@router.post(
    "/api/v1/operations/restore", status_code=202, response_model=OperationStarted | ApprovalPending
)
async def start_restore(
    body: RestoreRequest,
    request: Request,
    db: Db,
    svc: Svc,
    idempotency_key: str | None = Header(None, max_length=200),
    principal: Principal = Depends(require_stream("backups:restore")),
):
    """Restore a stream of a backup into ``to.stream_name`` on ``to.cluster_id``: a new stream,
    or, with ``to.replace``, over an existing one (through the change gate: a production restore
    waits for approval; the existing stream's data is backed up first, ``set_aside_backup_id``
    in the result)."""
    keyed = keyed_operation_id(principal, "restore", idempotency_key)
    if keyed and (row := await get_operation(db, principal.org_id, keyed)) is not None:
        return OperationStarted(id=row.id, workflow_id=row.workflow_id, status=row.status)
    job, target_cluster, exists = await resolve_restore(request, db, svc, principal, body)
    if exists:
        spec = ChangeSpec(
            kind="restore",
            operation="restore",
            cluster_id=target_cluster.id,
            name=body.to.stream_name,
            config=job.model_dump(mode="json"),
        )
        if pending := await gate_change(
            request, db, svc, principal, target_cluster, spec, permission="backups:restore"
        ):
            return pending
    op_id, workflow_id, status = await start_operation(
        request,
        db,
        svc,
        principal,
        kind="restore",
        workflow=RESTORE_WORKFLOW,
        operation_id=keyed or uuid.uuid4(),
        input=job,
        cluster_id=target_cluster.id,
        idempotency_key=idempotency_key,
        progress={"unit": "bytes"},
        audit_changes={"request": body.model_dump(mode="json")},
    )
    return OperationStarted(id=op_id, workflow_id=workflow_id, status=status)


@router.get(BACKUPS, response_model=dict[str, list[rows.BackupOut]])
async def list_backups(
    request: Request,
    db: Db,
    cluster_id: uuid.UUID | None = None,
    stream: str | None = Query(None, max_length=255),
    schedule_id: uuid.UUID | None = None,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    principal: Principal = Depends(require_stream("backups:read")),
):
    """The organization's backups, newest first (for a caller whose ``backups:read`` has scope
    ``team``, those of its teams' streams only: the page may then hold fewer than ``limit``)."""
    found = await rows.list_backups(
        db,
        principal.org_id,
        cluster_id=cluster_id,
        stream=stream,
        schedule_id=schedule_id,
        limit=limit,
        offset=offset,
    )
    outs = [await rows.backup_out(db, b) for b in found]
    return {"items": [out for out in outs if await _readable(request, principal, out)]}


async def _readable(request: Request, principal: Principal, out: rows.BackupOut) -> bool:
    """Every stream of the backup is one the caller may read backups of."""
    prefixes = await stream_prefixes(request, principal, "backups:read", out.cluster_id)
    return all(namespaces.covers(prefixes, item.stream) for item in out.streams)


async def _load(db: Db, principal: Principal, backup_id: uuid.UUID, request: Request | None = None):
    """The organization's backup (404 otherwise, and for a ``team``-scoped reader a backup of
    streams outside its teams' namespaces)."""
    backup = await rows.load_backup(db, principal.org_id, backup_id)
    if backup is None or (
        request is not None
        and not await _readable(request, principal, await rows.backup_out(db, backup))
    ):
        raise ProblemError(404, f"No backup with id {backup_id} in your organization.")
    return backup


@router.get(BACKUPS + "/{backup_id}", response_model=rows.BackupOut)
async def read_backup(
    backup_id: uuid.UUID,
    request: Request,
    db: Db,
    principal: Principal = Depends(require_stream("backups:read")),
):
    return await rows.backup_out(db, await _load(db, principal, backup_id, request))


@router.post(BACKUPS + "/{backup_id}/verify", status_code=202, response_model=OperationStarted)
async def verify_backup(
    backup_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    idempotency_key: str | None = Header(None, max_length=200),
    principal: Principal = Depends(require("backups:create")),
):
    """Verify a backup again (a test restore compared with what was backed up): an operation of
    type ``backup_verify``; the backup's ``verification`` is ``pending`` until it ends."""
    keyed = keyed_operation_id(principal, f"backup_verify:{backup_id}", idempotency_key)
    if keyed and (row := await get_operation(db, principal.org_id, keyed)) is not None:
        return OperationStarted(id=row.id, workflow_id=row.workflow_id, status=row.status)
    backup = await _load(db, principal, backup_id, request)
    if backup.status != "completed":
        raise ProblemError(
            409,
            f"The backup is {backup.status}: only a completed backup can be verified.",
            backup_status=backup.status,
        )
    op_id, workflow_id, status = await start_operation(
        request,
        db,
        svc,
        principal,
        kind="backup_verify",
        workflow=BACKUP_WORKFLOW,
        operation_id=keyed or uuid.uuid4(),
        input=BackupJob(backup_id=str(backup.id), verify_only=True),
        cluster_id=backup.cluster_id,
        idempotency_key=idempotency_key,
        progress={"unit": "bytes"},
    )
    return OperationStarted(id=op_id, workflow_id=workflow_id, status=status)


@router.delete(BACKUPS + "/{backup_id}", status_code=204, response_class=Response)
async def delete_backup(
    backup_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    cascade: bool = False,
    principal: Principal = Depends(require("backups:delete")),
):
    """Delete a backup: its data at the target, then its rows. A backup that newer ones build on
    is refused unless ``cascade=true`` (which deletes those too)."""
    backup = await _load(db, principal, backup_id, request)
    if backup.status == "running":
        raise ProblemError(
            409,
            "The backup is running: wait for it to end (or cancel its "
            f"operation {backup.operation_id}).",
            operation_id=str(backup.operation_id),
        )
    needing = await rows.dependents(db, backup)
    if needing and not cascade:
        names = ", ".join(str(b.id) for b in needing)
        raise ProblemError(
            409,
            f"Newer backups build on this one: {names}. Delete them first, "
            "or add ?cascade=true to delete them with it.",
            dependents=[str(b.id) for b in needing],
        )
    doomed = [backup, *needing]
    try:
        await delete_data(
            principal.org_id,
            doomed,
            sessions=svc.sessions,
            pool=svc.clusters,
            cipher=svc.cipher,
            settings=svc.settings,
        )
    except Exception as exc:  # the data stays, and so do the rows: the caller can retry
        raise ProblemError(
            503,
            f"The backups' data could not be deleted at their target: "
            f"{exc}. Nothing was deleted; retry.",
            service="nats",
        ) from exc
    removed = await delete_backups(db, principal.org_id, [b.id for b in doomed])
    await audit(
        request,
        principal,
        action="backup.delete",
        resource_type="backup",
        resource_id=str(backup.id),
        resource_name=backup.kind,
        cluster_id=backup.cluster_id,
        changes={"deleted": [str(b) for b in removed], "cascade": cascade},
        db=db,
    )
    return Response(status_code=204)
