"""Backups and restore: a backup of streams (an operation, verified right after it), the backups
kept (``GET /backups``, newest first, with their chain and verification), a restore (an
operation; over an existing stream it goes through the change gate), and the schedules that take
full and incremental backups on their own (``/backup-schedules``).

Starting a backup or a restore answers ``202`` with the operation, or, when the change gate sends
it for approval (a restore over a production stream), with a
:class:`~ui.client.approvals.RequestSubmitted`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from ui.client.approvals import RequestSubmitted, submitted
from ui.client.base import BaseClient, _items, _seg
from ui.client.operations import OperationStarted

BackupKind = Literal["full", "incremental"]
VERIFICATION_STATUSES: tuple[str, ...] = ("pending", "verified", "failed")


# --------------------------------------------------------------------------- requests


class BackupTargetSpec(TypedDict, total=False):
    """An object store ``{cluster_id, bucket}`` or a directory ``{directory}`` (relative to the
    console's backup root)."""

    cluster_id: str
    bucket: str
    directory: str


class BackupSpec(TypedDict, total=False):
    """The body of ``POST /operations/backup``. ``streams`` is a list of names or ``"all"``."""

    cluster_id: str
    streams: list[str] | str
    team_id: str
    kind: BackupKind
    target: BackupTargetSpec


class RestoreToSpec(TypedDict, total=False):
    cluster_id: str
    stream_name: str
    subjects: list[str]
    replace: bool


class RestoreSpec(TypedDict, total=False):
    """The body of ``POST /operations/restore``. ``point`` is ``"backup"``, ``"latest"`` or
    ``{"time": iso}``."""

    backup_id: str
    stream: str
    to: RestoreToSpec
    point: str | dict[str, str]


class CadenceSpec(TypedDict, total=False):
    cron: str
    every: str
    retention_days: float


class ScheduleSpec(TypedDict, total=False):
    """The body of ``POST /backup-schedules`` (``PATCH`` takes any part of it)."""

    name: str
    cluster_id: str
    team_id: str
    streams: list[str] | str
    target: BackupTargetSpec | None
    full: CadenceSpec
    incremental: CadenceSpec | None
    enabled: bool


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Verification:
    status: str
    checked_at: str | None
    details: dict[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Verification:
        data = data or {}
        return cls(
            str(data.get("status") or "pending"),
            data.get("checked_at"),
            dict(data.get("details") or {}),
        )


@dataclass(frozen=True)
class BackupItem:
    """One stream of a backup: a full snapshot, or the messages after its base backup."""

    stream: str
    kind: str
    first_seq: int
    last_seq: int
    messages: int
    source_bytes: int
    stored_bytes: int
    base_backup_id: str | None
    consumers: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BackupItem:
        return cls(
            str(data.get("stream") or ""),
            str(data.get("kind") or "full"),
            int(data.get("first_seq") or 0),
            int(data.get("last_seq") or 0),
            int(data.get("messages") or 0),
            int(data.get("source_bytes") or 0),
            int(data.get("stored_bytes") or 0),
            _opt(data.get("base_backup_id")),
            tuple(str(c) for c in data.get("consumers") or ()),
        )


@dataclass(frozen=True)
class Backup:
    id: str
    cluster_id: str
    team_id: str | None
    schedule_id: str | None
    kind: str
    reason: str
    target: dict[str, Any]
    status: str
    error: str | None
    started_at: str | None
    completed_at: str | None
    duration_s: float | None
    size_bytes: int
    source_bytes: int
    message_count: int
    stream_count: int
    streams: tuple[BackupItem, ...]
    chain: tuple[str, ...]
    verification: Verification
    operation_id: str | None
    created_by: str | None
    created_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Backup:
        items = tuple(BackupItem.from_json(s) for s in data.get("streams") or ())
        duration = data.get("duration_s")
        return cls(
            str(data["id"]),
            str(data.get("cluster_id") or ""),
            _opt(data.get("team_id")),
            _opt(data.get("schedule_id")),
            str(data.get("kind") or "full"),
            str(data.get("reason") or "manual"),
            dict(data.get("target") or {}),
            str(data.get("status") or "running"),
            data.get("error"),
            data.get("started_at"),
            data.get("completed_at"),
            None if duration is None else float(duration),
            int(data.get("size_bytes") or 0),
            int(data.get("source_bytes") or 0),
            int(data.get("message_count") or 0),
            int(data.get("stream_count") or len(items)),
            items,
            tuple(str(b) for b in data.get("chain") or ()),
            Verification.from_json(data.get("verification")),
            _opt(data.get("operation_id")),
            _opt(data.get("created_by")),
            data.get("created_at"),
        )

    @property
    def stream_names(self) -> tuple[str, ...]:
        return tuple(s.stream for s in self.streams)

    @property
    def restorable(self) -> bool:
        """Completed, and not refused by its verification (the API checks again)."""
        return self.status == "completed" and self.verification.status != "failed"


@dataclass(frozen=True)
class Cadence:
    cron: str | None
    every: str | None
    retention_days: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Cadence | None:
        if not data:
            return None
        return cls(
            _opt(data.get("cron")), _opt(data.get("every")), float(data.get("retention_days") or 0)
        )


@dataclass(frozen=True)
class BackupSchedule:
    id: str
    name: str
    cluster_id: str
    team_id: str | None
    streams: list[str] | str
    target: dict[str, Any] | None
    full: Cadence | None
    incremental: Cadence | None
    enabled: bool
    last_run: Any
    next_runs: tuple[str, ...]
    created_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BackupSchedule:
        streams = data.get("streams")
        return cls(
            str(data["id"]),
            str(data.get("name") or ""),
            str(data.get("cluster_id") or ""),
            _opt(data.get("team_id")),
            streams if isinstance(streams, str) else list(streams or []),
            dict(data["target"]) if data.get("target") else None,
            Cadence.from_json(data.get("full")),
            Cadence.from_json(data.get("incremental")),
            bool(data.get("enabled", True)),
            data.get("last_run"),
            tuple(str(t) for t in data.get("next_runs") or ()),
            data.get("created_at"),
        )


@dataclass(frozen=True)
class BackupStarted(OperationStarted):
    """``202`` of ``POST /operations/backup``: the operation and the backup it makes."""

    backup_id: str | None = None


# --------------------------------------------------------------------------- calls


class BackupsApi(BaseClient):
    # ---- backups

    def start_backup(
        self, spec: BackupSpec, *, idempotency_key: str | None = None
    ) -> BackupStarted | RequestSubmitted:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        data = self._request("POST", "/operations/backup", json=dict(spec), headers=headers)
        if pending := submitted(data):
            return pending
        return BackupStarted(
            str(data["id"]),
            str(data.get("workflow_id") or ""),
            str(data.get("status") or "pending"),
            _opt(data.get("backup_id")),
        )

    def list_backups(
        self,
        *,
        cluster_id: str | None = None,
        stream: str | None = None,
        schedule_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[Backup]:
        data = self._request(
            "GET",
            "/backups",
            params={
                "cluster_id": cluster_id,
                "stream": stream,
                "schedule_id": schedule_id,
                "limit": limit,
                "offset": offset,
            },
        )
        return [Backup.from_json(b) for b in _items(data)]

    def get_backup(self, backup_id: str) -> Backup:
        return Backup.from_json(self._request("GET", f"/backups/{_seg(backup_id)}"))

    def verify_backup(self, backup_id: str) -> OperationStarted:
        data = self._request("POST", f"/backups/{_seg(backup_id)}/verify")
        return OperationStarted(
            str(data["id"]),
            str(data.get("workflow_id") or ""),
            str(data.get("status") or "pending"),
        )

    def delete_backup(self, backup_id: str, *, cascade: bool = False) -> None:
        self._request(
            "DELETE", f"/backups/{_seg(backup_id)}", params={"cascade": "true" if cascade else None}
        )

    # ---- restore

    def start_restore(
        self, spec: RestoreSpec, *, idempotency_key: str | None = None
    ) -> OperationStarted | RequestSubmitted:
        """Restore into a new stream; over an existing one (``to.replace``) a production
        cluster sends it for approval first."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        data = self._request("POST", "/operations/restore", json=dict(spec), headers=headers)
        if pending := submitted(data):
            return pending
        return OperationStarted(
            str(data["id"]),
            str(data.get("workflow_id") or ""),
            str(data.get("status") or "pending"),
        )

    # ---- schedules

    def list_backup_schedules(self) -> list[BackupSchedule]:
        return [
            BackupSchedule.from_json(s) for s in _items(self._request("GET", "/backup-schedules"))
        ]

    def get_backup_schedule(self, schedule_id: str) -> BackupSchedule:
        return BackupSchedule.from_json(
            self._request("GET", f"/backup-schedules/{_seg(schedule_id)}")
        )

    def create_backup_schedule(self, spec: ScheduleSpec) -> BackupSchedule:
        return BackupSchedule.from_json(self._request("POST", "/backup-schedules", json=dict(spec)))

    def update_backup_schedule(self, schedule_id: str, changes: ScheduleSpec) -> BackupSchedule:
        return BackupSchedule.from_json(
            self._request("PATCH", f"/backup-schedules/{_seg(schedule_id)}", json=dict(changes))
        )

    def delete_backup_schedule(self, schedule_id: str) -> None:
        """Stop the schedule; the backups it took stay."""
        self._request("DELETE", f"/backup-schedules/{_seg(schedule_id)}")

    def run_backup_schedule(self, schedule_id: str, kind: BackupKind = "full") -> OperationStarted:
        data = self._request(
            "POST", f"/backup-schedules/{_seg(schedule_id)}/run", params={"kind": kind}
        )
        return OperationStarted(
            str(data["id"]),
            str(data.get("workflow_id") or ""),
            str(data.get("status") or "pending"),
        )


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
