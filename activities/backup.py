"""Backup bookkeeping activities (the data path is ``activities.backup_data``): prepare a backup
(bases of incremental items, the bytes to copy), finish it (status, sizes, duration, its
manifest at the target), store a verification, prepare a restore (the checks again, the rows of
the set-aside backup), remove the stream a restore replaces (only once its set-aside backup is
completed and verified), a schedule's tick (its run's operation and backup rows) and retention.

Each is idempotent: a retried attempt finds what the last one did (rows keyed by the operation,
the backup, the stream). A refusal no retry can fix is non-retryable (``Refused``,
``NotFound``)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.audit_outbox import deliver_audit, owe_audit
from core import outbox
from core.audit import AuditEvent
from core.backups import retention, rows
from core.backups.cleanup import delete_backups
from core.backups.jobs import (
    BackupJob,
    BackupRef,
    FinishBackup,
    FinishedBackup,
    PlannedItem,
    PreparedBackup,
    RecordVerification,
    RemoveStreamInput,
    RestorePlan,
    RestorePrepareInput,
    RetentionApply,
    RetentionInput,
    RetentionResult,
    ScheduledRun,
    Ticked,
    TickInput,
)
from core.backups.manifest import write_manifest
from core.backups.restore_plan import (
    RestoreRefused,
    check_chain,
    choose_item,
    overlapping,
    restorable,
    restored_subjects,
)
from core.backups.selection import SelectionError, select_streams, team_prefixes
from core.backups.steps import ItemResult
from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.db.models import Backup, BackupItem, BackupSchedule, NatsCluster, Operation
from core.events import EventPublisher
from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.pool import ClusterPool, ClusterUnreachable
from core.operations import workflow_id_for
from core.security import Cipher
from core.settings import Settings

log = logging.getLogger(__name__)


def refused(message: str, kind: str = "Refused") -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def _now() -> datetime:
    return datetime.now(UTC)


class BackupActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: Cipher,
        pool: ClusterPool,
        events: EventPublisher,
        settings: Settings,
    ):
        self.sessions, self.cipher, self.pool = sessions, cipher, pool
        self.events, self.settings = events, settings

    # --- plumbing -------------------------------------------------------------------------------
    async def _jetstream(
        self, org_id: str | uuid.UUID, cluster_id: str | uuid.UUID
    ) -> JetStreamApi:
        async with self.sessions() as db:
            try:
                cluster = await get_cluster(db, uuid.UUID(str(org_id)), uuid.UUID(str(cluster_id)))
            except ClusterNotFound:
                raise refused(
                    f"the cluster {cluster_id} is no longer registered", "ClusterNotFound"
                ) from None
        return await self.pool.jetstream(endpoint(self.cipher, cluster))

    async def _backup(self, db: AsyncSession, org_id: str, backup_id: str) -> Backup:
        backup = await rows.load_backup(db, uuid.UUID(org_id), uuid.UUID(backup_id))
        if backup is None:
            raise refused(f"the backup {backup_id} does not exist (deleted?)", "NotFound")
        return backup

    async def _audit(self, db: AsyncSession, events: list[AuditEvent]) -> list[outbox.OutboxEntry]:
        return await owe_audit(db, events)

    async def _deliver(self, entries: list[outbox.OutboxEntry]) -> None:
        await deliver_audit(self.sessions, self.events, entries)

    # --- a backup -----------------------------------------------------------------------------
    @activity.defn(name="backup_prepare")
    async def backup_prepare(self, data: BackupRef) -> PreparedBackup:
        """Start the backup's clock, give incremental items their bases, and estimate the bytes
        to copy from the streams' sizes (an incremental item: the share of its new messages)."""
        async with self.sessions() as db, db.begin():
            backup = await self._backup(db, data.org_id, data.backup_id)
            if backup.started_at is None:
                backup.started_at = _now()
            await rows.resolve_bases(db, backup)
            await db.flush()
            items = (await rows.items_of(db, [backup.id]))[backup.id]
            bases = {
                i.id: await db.get(BackupItem, i.base_item_id) for i in items if i.base_item_id
            }
            kind, cluster_id = backup.kind, backup.cluster_id
        total = 0
        try:
            js = await self._jetstream(data.org_id, cluster_id)
            for item in items:
                if item.status == "done":
                    continue
                total += await _estimate(js, item, bases.get(item.id))
        except (ClusterUnreachable, JetStreamError) as exc:
            log.info("backup %s: no size estimate (%s)", data.backup_id, exc)
        planned = [
            PlannedItem(
                item_id=str(i.id),
                stream=i.stream,
                kind=i.kind,
                done=i.status == "done",
                result=_item_result(i) if i.status == "done" else None,
            )
            for i in items
        ]
        return PreparedBackup(kind=kind, items=planned, total=total)

    @activity.defn(name="backup_finish")
    async def backup_finish(self, data: FinishBackup) -> FinishedBackup:
        """Completed when every item is done (and no error came), else failed; sums the items,
        sets the duration, writes ``manifest.json`` at the target. Idempotent."""
        async with self.sessions() as db, db.begin():
            backup = await self._backup(db, data.org_id, data.backup_id)
            items = (await rows.items_of(db, [backup.id]))[backup.id]
            if backup.status == "running":
                complete = data.error is None and all(i.status == "done" for i in items)
                backup.status = "completed" if complete else "failed"
                if not complete:
                    backup.error = data.error or "some streams were not backed up: " + ", ".join(
                        i.stream for i in items if i.status != "done"
                    )
                backup.completed_at = _now()
                backup.started_at = backup.started_at or backup.completed_at
                backup.size_bytes = sum(i.stored_bytes for i in items)
                backup.source_bytes = sum(i.source_bytes for i in items)
                backup.message_count = sum(i.messages for i in items)
                backup.stream_count = len(items)
                await db.flush()
            out = await rows.backup_out(db, backup)
        if out.status == "completed":
            try:
                await write_manifest(
                    data.org_id,
                    out,
                    sessions=self.sessions,
                    pool=self.pool,
                    cipher=self.cipher,
                    settings=self.settings,
                )
            except Exception as exc:  # noqa: BLE001 - the manifest is for people; the rows rule
                log.warning("backup %s: manifest not written (%s)", data.backup_id, exc)
        return FinishedBackup(
            backup_id=str(out.id),
            kind=out.kind,
            status=out.status,
            size_bytes=out.size_bytes,
            duration_s=out.duration_s,
            streams=[s.model_dump(mode="json") for s in out.streams],
        )

    @activity.defn(name="backup_record_verification")
    async def backup_record_verification(self, data: RecordVerification) -> None:
        async with self.sessions() as db, db.begin():
            backup = await self._backup(db, data.org_id, data.backup_id)
            backup.verification = data.verification.model_dump(mode="json")

    # --- a restore ----------------------------------------------------------------------------
    @activity.defn(name="restore_prepare")
    async def restore_prepare(self, data: RestorePrepareInput) -> RestorePlan:
        """The API's checks again; over an existing stream, the set-aside backup's rows (one per
        operation, at the restored backup's target)."""
        job = data.job
        async with self.sessions() as db, db.begin():
            backup = await self._backup(db, data.org_id, job.backup_id)
            try:
                item = await choose_item(db, backup, job.stream)
                restorable(backup)
                chain = await check_chain(db, item)
            except RestoreRefused as exc:
                raise refused(exc.message) from exc
            subjects = restored_subjects(item, job.subjects, job.stream_name)
            target, total = backup.target, sum(i.source_bytes for i in chain)
        js = await self._jetstream(data.org_id, job.cluster_id)
        streams = await js.stream_list()
        exists = any(s["config"]["name"] == job.stream_name for s in streams)
        set_aside = uuid.uuid5(uuid.UUID(data.operation_id), "set-aside")
        async with self.sessions() as db, db.begin():
            made = await db.get(Backup, set_aside)
        if exists and not job.replace and made is None:
            raise refused(
                f"the stream '{job.stream_name}' exists; restore over it with to.replace=true"
            )
        if clash := overlapping(streams, subjects, job.stream_name):
            raise refused(
                f"the restored stream's subjects overlap '{clash[1]}' of the stream "
                f"'{clash[0]}'; give to.subjects"
            )
        plan = RestorePlan(
            backup_id=str(backup.id),
            stream=item.stream,
            chain=[str(i.backup_id) for i in chain],
            total=total,
            exists=exists,
        )
        if job.replace and (exists or made is not None):
            await self._set_aside_rows(data, set_aside, target)
            plan.set_aside_backup_id = str(set_aside)
            plan.set_aside_item_id = str(uuid.uuid5(set_aside, job.stream_name))
        return plan

    async def _set_aside_rows(
        self, data: RestorePrepareInput, backup_id: uuid.UUID, target: dict[str, Any]
    ) -> None:
        job = data.job
        async with self.sessions() as db, db.begin():
            if await db.get(Backup, backup_id) is not None:
                return
            operation = await db.get(Operation, uuid.UUID(data.operation_id))
            rows.create_backup(
                db,
                org_id=uuid.UUID(data.org_id),
                cluster_id=uuid.UUID(job.cluster_id),
                streams=[job.stream_name],
                kind="full",
                target=target,
                reason="pre_restore",
                operation_id=operation.id if operation else None,
                created_by=operation.started_by if operation else None,
                backup_id=backup_id,
            )

    @activity.defn(name="restore_remove_stream")
    async def restore_remove_stream(self, data: RemoveStreamInput) -> None:
        """Delete the stream a restore replaces, once its set-aside backup is completed and
        verified (checked here again); a stream already gone counts as removed."""
        async with self.sessions() as db:
            backup = await self._backup(db, data.org_id, data.set_aside_backup_id)
            if (
                backup.status != "completed"
                or (backup.verification or {}).get("status") != "verified"
            ):
                raise refused(
                    f"the backup {backup.id} of '{data.stream_name}' is not completed "
                    "and verified: the stream is kept"
                )
        js = await self._jetstream(data.org_id, data.cluster_id)
        try:
            await js.stream_delete(data.stream_name)
        except JetStreamError as exc:
            if not exc.not_found:
                raise

    # --- schedules ----------------------------------------------------------------------------
    @activity.defn(name="backup_schedule_tick")
    async def backup_schedule_tick(self, data: TickInput) -> Ticked:
        """The run's operation and backup rows, once per run (keyed by the run's workflow id, or
        the operation a person started). Nothing to back up, or the cluster unreachable: the
        operation fails with the reason and the run is skipped."""
        run = data.run
        op_id = (
            uuid.UUID(run.operation_id)
            if run.operation_id
            else uuid.uuid5(uuid.UUID(run.schedule_id), data.workflow_id)
        )
        workflow_id = workflow_id_for("backup", op_id)
        backup_id = uuid.uuid5(op_id, "backup")
        async with self.sessions() as db, db.begin():
            schedule = await db.scalar(
                select(BackupSchedule).where(
                    BackupSchedule.id == uuid.UUID(run.schedule_id),
                    BackupSchedule.org_id == uuid.UUID(run.org_id),
                )
            )
            if await db.get(Backup, backup_id) is not None:
                return Ticked(
                    operation_id=str(op_id), workflow_id=workflow_id, backup_id=str(backup_id)
                )
            if schedule is None:
                await self._operation(db, run, op_id, workflow_id, None, None)
                return await self._skip(db, op_id, workflow_id, "the schedule was deleted")
            await self._operation(
                db, run, op_id, workflow_id, schedule.cluster_id, schedule.created_by
            )
            cluster = await db.get(NatsCluster, schedule.cluster_id)
            if cluster is None:
                return await self._skip(db, op_id, workflow_id, "the cluster was deleted")
            try:
                js = await self.pool.jetstream(endpoint(self.cipher, cluster))
                existing = [s["config"]["name"] for s in await js.stream_list()]
                team = (
                    await team_prefixes(db, schedule.org_id, schedule.team_id, cluster.id)
                    if schedule.team_id
                    else None
                )
                streams = select_streams(
                    existing,
                    schedule.streams or "all",
                    team=team,
                    cluster_name=f"cluster '{cluster.name}'",
                )
            except (ClusterUnreachable, JetStreamError, SelectionError) as exc:
                reason = exc.message if isinstance(exc, SelectionError) else str(exc)
                return await self._skip(db, op_id, workflow_id, reason)
            rows.create_backup(
                db,
                org_id=schedule.org_id,
                cluster_id=schedule.cluster_id,
                streams=streams,
                kind=run.kind,
                target=schedule.target,
                reason="scheduled",
                team_id=schedule.team_id,
                schedule_id=schedule.id,
                operation_id=op_id,
                created_by=schedule.created_by,
                backup_id=backup_id,
            )
        return Ticked(operation_id=str(op_id), workflow_id=workflow_id, backup_id=str(backup_id))

    async def _operation(
        self,
        db: AsyncSession,
        run: ScheduledRun,
        op_id: uuid.UUID,
        workflow_id: str,
        cluster_id: uuid.UUID | None,
        started_by: uuid.UUID | None,
    ) -> None:
        job = BackupJob(backup_id=str(uuid.uuid5(op_id, "backup")))
        await db.execute(
            insert(Operation)
            .values(
                id=op_id,
                org_id=uuid.UUID(run.org_id),
                type="backup",
                workflow_id=workflow_id,
                status="pending",
                progress={"unit": "bytes"},
                input={
                    **job.model_dump(mode="json"),
                    "schedule_id": run.schedule_id,
                    "kind": run.kind,
                },
                cluster_id=cluster_id,
                started_by=started_by,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )

    async def _skip(
        self, db: AsyncSession, op_id: uuid.UUID, workflow_id: str, reason: str
    ) -> Ticked:
        operation = await db.get(Operation, op_id)
        if operation is not None and operation.status not in ("completed", "failed", "cancelled"):
            operation.status, operation.error = "failed", f"Nothing was backed up: {reason}"
            operation.finished_at = _now()
        return Ticked(operation_id=str(op_id), workflow_id=workflow_id, skipped=reason)

    @activity.defn(name="backup_retention_plan")
    async def backup_retention_plan(self, data: RetentionInput) -> RetentionResult:
        """Which of the schedule's backups expired now (``core.backups.retention``)."""
        async with self.sessions() as db:
            schedule = await db.scalar(
                select(BackupSchedule).where(
                    BackupSchedule.id == uuid.UUID(data.schedule_id),
                    BackupSchedule.org_id == uuid.UUID(data.org_id),
                )
            )
            if schedule is None:
                return RetentionResult()
            found = list(await db.scalars(select(Backup).where(Backup.schedule_id == schedule.id)))
            kept = [
                retention.Kept(
                    id=str(b.id),
                    kind=b.kind,
                    status=b.status,
                    at=b.completed_at or b.created_at,
                    chain=tuple(str(c) for c in await rows.backup_chain(db, b)),
                )
                for b in found
            ]
        incremental = (schedule.incremental or {}).get("retention_days")
        expired = retention.expired(
            kept,
            full_days=schedule.full["retention_days"],
            incremental_days=incremental,
            now=_now(),
        )
        return RetentionResult(expired=expired, kept=len(kept) - len(expired))

    @activity.defn(name="backup_retention_apply")
    async def backup_retention_apply(self, data: RetentionApply) -> int:
        """Delete the expired backups' rows (their data is gone already), each audited
        ``backup.expired``; record the run as the schedule's ``last_run``."""
        org_id = uuid.UUID(data.org_id)
        async with self.sessions() as db, db.begin():
            doomed = list(
                await db.scalars(
                    select(Backup).where(
                        Backup.org_id == org_id, Backup.id.in_([uuid.UUID(b) for b in data.expired])
                    )
                )
            )
            events = [
                AuditEvent(
                    id=uuid.uuid5(b.id, "backup.expired"),
                    org_id=org_id,
                    action="backup.expired",
                    resource_type="backup",
                    resource_id=str(b.id),
                    resource_name=b.kind,
                    cluster_id=b.cluster_id,
                    changes={
                        "schedule_id": data.schedule_id,
                        "kind": b.kind,
                        "status": b.status,
                        "created_at": b.created_at.isoformat(),
                        "completed_at": b.completed_at.isoformat() if b.completed_at else None,
                    },
                )
                for b in doomed
            ]
            entries = await self._audit(db, events)
            removed = await delete_backups(db, org_id, [b.id for b in doomed])
            schedule = await db.get(BackupSchedule, uuid.UUID(data.schedule_id))
            if schedule is not None and data.last_run is not None:
                schedule.last_run = {**data.last_run, "expired": data.expired}
        await self._deliver(entries)
        return len(removed)


async def _estimate(js: JetStreamApi, item: BackupItem, base: BackupItem | None) -> int:
    info = await js.stream_info(item.stream)
    state = info.get("state") or {}
    size, messages = int(state.get("bytes") or 0), int(state.get("messages") or 0)
    if item.kind == "full" or base is None or not messages:
        return size
    newer = max(int(state.get("last_seq") or 0) - base.last_seq, 0)
    return size * min(newer, messages) // messages


def _item_result(item: BackupItem) -> ItemResult:
    return ItemResult(
        item_id=str(item.id),
        stream=item.stream,
        kind=item.kind,
        messages=item.messages,
        first_seq=item.first_seq,
        last_seq=item.last_seq,
        source_bytes=item.source_bytes,
        stored_bytes=item.stored_bytes,
        consumers=len(item.consumers or []),
    )
