"""The checks of the backup routes, before anything is started: which streams a backup request
means (visible to the caller), where the backup goes (the default target, a target cluster of
the organization, a directory confined to the backup root), what a restore request means (its
backup, stream, chain end, target name and subjects), and starting a backup's operation with its
rows in one transaction."""

from __future__ import annotations

import uuid

from fastapi import Request

from api.cluster_access import load_cluster
from api.deps import Db, Principal, Svc, authorize_stream, stream_prefixes
from api.errors import ProblemError
from api.operation_start import start_operation
from core.backups import rows
from core.backups.jobs import BackupJob, RestoreJob
from core.backups.models import DirectoryTarget, ObjectStoreTarget, RestoreRequest, Target
from core.backups.restore_plan import (
    RestoreRefused,
    check_chain,
    choose_item,
    overlapping,
    point_end,
    restorable,
    restored_subjects,
)
from core.backups.selection import (
    SelectionError,
    backup_root,
    default_target,
    directory_path,
    select_streams,
    team_prefixes,
)
from core.clusters import endpoint
from core.db.models import NatsCluster

BACKUP_WORKFLOW = "BackupWorkflow"


async def selected_streams(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    cluster: NatsCluster,
    wanted,
    team_id: uuid.UUID | None,
    permission: str,
) -> list[str]:
    visible = await stream_prefixes(request, principal, permission, cluster.id)
    try:
        team = await team_prefixes(db, principal.org_id, team_id, cluster.id) if team_id else None
        js = await svc.clusters.jetstream(endpoint(svc.cipher, cluster))
        existing = [s["config"]["name"] for s in await js.stream_list()]
        return select_streams(
            existing, wanted, team=team, visible=visible, cluster_name=f"cluster '{cluster.name}'"
        )
    except SelectionError as exc:
        raise ProblemError(exc.status, exc.message) from exc


async def choose_target(
    db: Db, svc: Svc, principal: Principal, cluster: NatsCluster, target: Target | None
) -> dict:
    """The target as stored on the backup: the one given (its cluster must be the
    organization's and reachable; a directory must stay under the backup root), or the
    default; none → 422."""
    if target is None:
        target = await default_target(db, cluster)
        if target is None:
            raise ProblemError(
                422,
                "No other cluster is registered to keep the backup on: give "
                'a \'target\' ({"cluster_id", "bucket"} or '
                '{"directory"}), or register a DR cluster.',
            )
    if isinstance(target, ObjectStoreTarget):
        keeper = await load_cluster(db, principal, target.cluster_id)
        await svc.clusters.jetstream(endpoint(svc.cipher, keeper))  # 503 when unreachable
    elif isinstance(target, DirectoryTarget):
        try:
            directory_path(backup_root(svc.settings), principal.org_id, target.directory)
        except ValueError as exc:
            raise ProblemError(
                422,
                f"Invalid input: target.directory {exc}.",
                errors=[{"field": "target.directory", "message": str(exc)}],
            ) from exc
    return rows.target_dict(target)


async def start_backup_operation(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    *,
    operation_id: uuid.UUID,
    backup_id: uuid.UUID,
    cluster: NatsCluster,
    streams: list[str],
    kind: str,
    target: dict,
    team_id: uuid.UUID | None,
    idempotency_key: str | None,
    audit_changes: dict,
    schedule_id: uuid.UUID | None = None,
    reason: str = "manual",
) -> tuple[uuid.UUID, str, str]:
    """The operation's row, the backup's rows, the workflow's start and the audit event,
    committed together; then the start is delivered."""

    async def add_rows() -> None:
        rows.create_backup(
            db,
            org_id=principal.org_id,
            cluster_id=cluster.id,
            streams=streams,
            kind=kind,
            target=target,
            reason=reason,
            team_id=team_id,
            schedule_id=schedule_id,
            operation_id=operation_id,
            created_by=principal.user_id,
            backup_id=backup_id,
        )
        await db.flush()

    return await start_operation(
        request,
        db,
        svc,
        principal,
        kind="backup",
        workflow=BACKUP_WORKFLOW,
        operation_id=operation_id,
        input=BackupJob(backup_id=str(backup_id)),
        cluster_id=cluster.id,
        idempotency_key=idempotency_key,
        progress={"unit": "bytes"},
        audit_changes={
            **audit_changes,
            "backup_id": str(backup_id),
            "streams": streams,
            "target": target,
        },
        with_row=add_rows,
    )


async def resolve_restore(
    request: Request, db: Db, svc: Svc, principal: Principal, body: RestoreRequest
) -> tuple[RestoreJob, NatsCluster, bool]:
    """(the job, the target cluster, whether ``to.stream_name`` exists there)."""
    backup = await rows.load_backup(db, principal.org_id, body.backup_id)
    if backup is None:
        raise ProblemError(404, f"No backup with id {body.backup_id} in your organization.")
    target = await load_cluster(db, principal, body.to.cluster_id)
    try:
        item = await choose_item(db, backup, body.stream)
        restorable(backup)
        end, end_item, until = await point_end(db, backup, item, body.point)
        restorable(end)
        await check_chain(db, end_item)
    except RestoreRefused as exc:
        raise ProblemError(exc.status, exc.message, **exc.extra) from exc
    if not await _may(request, principal, backup.cluster_id, item.stream):
        raise ProblemError(404, f"No backup with id {body.backup_id} in your organization.")
    await authorize_stream(request, principal, "backups:restore", target.id, body.to.stream_name)
    js = await svc.clusters.jetstream(endpoint(svc.cipher, target))
    streams = await js.stream_list()
    exists = any(s["config"]["name"] == body.to.stream_name for s in streams)
    if exists and not body.to.replace:
        raise ProblemError(
            409,
            f"The stream '{body.to.stream_name}' exists on cluster "
            f"'{target.name}'; set to.replace=true to restore over it: its "
            "data is backed up first.",
        )
    subjects = restored_subjects(end_item, body.to.subjects, body.to.stream_name)
    if clash := overlapping(streams, subjects, body.to.stream_name if exists else None):
        raise ProblemError(
            409,
            f"The restored stream's subjects overlap '{clash[1]}' of the "
            f"stream '{clash[0]}' on cluster '{target.name}': give "
            "to.subjects (e.g. [] for the stream's own name).",
            stream=clash[0],
            subject=clash[1],
        )
    point = body.point if body.point in ("backup", "latest") else "backup"
    job = RestoreJob(
        backup_id=str(end.id),
        stream=item.stream,
        cluster_id=str(target.id),
        stream_name=body.to.stream_name,
        subjects=body.to.subjects,
        replace=body.to.replace and exists,
        point=point,
        until=until,
    )
    return job, target, exists


async def _may(request: Request, principal: Principal, cluster_id: uuid.UUID, stream: str) -> bool:
    prefixes = await stream_prefixes(request, principal, "backups:restore", cluster_id)
    return prefixes is None or any(stream.startswith(p) for p in prefixes)
