"""Inputs and results of the backup service's workflows and bookkeeping activities (the data
path's are in ``core.backups.steps``):

- ``BackupJob``: the input of ``BackupWorkflow`` (its backup row exists already, created by the
  API or by a schedule's tick); ``verify_only`` re-verifies a completed backup.
- ``RestoreJob``: the input of ``RestoreWorkflow`` (also the approved change's ``config``).
- ``ScheduledRun``: what a Temporal schedule starts ``ScheduledBackupWorkflow`` with.
- the bookkeeping steps: preparing and finishing a backup and a restore, retention.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.backups.steps import ItemResult, Verification


class _Job(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BackupJob(_Job):
    backup_id: str
    verify_only: bool = False


class RestoreJob(_Job):
    """A restore checked by the API: ``backup_id`` is the backup the caller named; ``point``
    says which end of its chain is restored (``until``: messages up to that time)."""

    backup_id: str
    stream: str
    cluster_id: str
    stream_name: str
    subjects: list[str] | None = None
    replace: bool = False
    point: Literal["backup", "latest"] = "backup"
    until: datetime | None = None


class ScheduledRun(_Job):
    """One run of a schedule: ``kind`` of backup; ``operation_id`` when a person asked for it
    (``POST /backup-schedules/{id}/run``: its rows exist already), else derived from the run."""

    schedule_id: str
    org_id: str
    kind: Literal["full", "incremental"]
    operation_id: str | None = None


# --- bookkeeping steps ---------------------------------------------------------------------
class BackupRef(_Job):
    operation_id: str
    org_id: str
    backup_id: str


class PlannedItem(_Job):
    item_id: str
    stream: str
    kind: Literal["full", "incremental"]
    done: bool = False
    result: ItemResult | None = None


class PreparedBackup(_Job):
    kind: Literal["full", "incremental"]
    items: list[PlannedItem]
    total: int = 0


class FinishBackup(_Job):
    operation_id: str
    org_id: str
    backup_id: str
    error: str | None = None


class FinishedBackup(_Job):
    backup_id: str
    kind: str
    status: str
    size_bytes: int = 0
    duration_s: float | None = None
    streams: list[dict[str, Any]] = Field(default_factory=list)


class RecordVerification(_Job):
    org_id: str
    backup_id: str
    verification: Verification


class RestorePrepareInput(_Job):
    operation_id: str
    org_id: str
    job: RestoreJob


class RestorePlan(_Job):
    """What a restore does: the chain ending at ``backup_id`` (the point's end), ``until`` a
    time; ``set_aside`` when it restores over an existing stream (its backup's id, fixed here)."""

    backup_id: str
    stream: str
    chain: list[str]
    total: int = 0
    exists: bool = False
    set_aside_backup_id: str | None = None
    set_aside_item_id: str | None = None


class RemoveStreamInput(_Job):
    operation_id: str
    org_id: str
    cluster_id: str
    stream_name: str
    set_aside_backup_id: str


class TickInput(_Job):
    run: ScheduledRun
    workflow_id: str


class Ticked(_Job):
    operation_id: str
    workflow_id: str
    backup_id: str | None = None
    skipped: str | None = None


class RetentionInput(_Job):
    org_id: str
    schedule_id: str


class RetentionResult(_Job):
    expired: list[str] = Field(default_factory=list)
    kept: int = 0


class RetentionApply(_Job):
    org_id: str
    schedule_id: str
    expired: list[str] = Field(default_factory=list)
    last_run: dict[str, Any] | None = None
