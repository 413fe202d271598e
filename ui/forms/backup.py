"""The backup forms: a manual backup (cluster, streams or all, full or incremental, where it is
kept), a restore (which backup and stream, where to, which point) and a schedule (full cadence
and retention, an optional incremental cadence, enabled). Each ``check_*`` returns ``(body,
problems)`` like the other forms."""

from __future__ import annotations

import re
from typing import Any

from ui.client import (
    BackupSchedule,
    BackupSpec,
    BackupTargetSpec,
    CadenceSpec,
    RestoreSpec,
    RestoreToSpec,
    ScheduleSpec,
)
from ui.forms.common import STREAM_NAME, parse_time, split_list, subject_problem

BACKUP_KINDS = ("full", "incremental")
TARGET_TYPES = ("default", "object_store", "directory")
RESTORE_POINTS = ("backup", "latest", "time")
CADENCE_MODES = ("cron", "every")
DEFAULT_BUCKET = "jsc-backups"
BUCKET = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # as core.backups.models accepts it
DIRECTORY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
EVERY = re.compile(r"^\d+(s|m|h|d)$")
CRON_FIELD = re.compile(r"^[0-9*/,\-A-Za-z]+$")
MAX_RETENTION_DAYS = 3650


def check_target(
    target_type: str, target_cluster_id: str = "", bucket: str = "", directory: str = ""
) -> tuple[BackupTargetSpec | None, list[str]]:
    """Where backups are kept: None for the API's default (an object store on another cluster,
    the one named dr first), an object store on a chosen cluster, or a directory under the
    console's backup root."""
    if target_type == "default":
        return None, []
    if target_type == "object_store":
        problems = []
        bucket = (bucket or "").strip() or DEFAULT_BUCKET
        if not target_cluster_id:
            problems.append("Choose the cluster whose object store keeps the backup.")
        if not BUCKET.match(bucket):
            problems.append(
                f'The bucket name "{bucket}" may only contain letters, digits, - '
                "and _ (at most 64)."
            )
        return {"cluster_id": target_cluster_id, "bucket": bucket}, problems
    if target_type == "directory":
        directory = (directory or "").strip().rstrip("/")
        if not directory:
            return None, ["Name the directory, for example nightly/orders."]
        if (
            directory.startswith("/")
            or not DIRECTORY.match(directory)
            or any(part in (".", "..") for part in directory.split("/"))
        ):
            return None, [
                f'The directory "{directory}" must be a relative path under the '
                "backup root (letters, digits, _ - . separated by /; no ..)."
            ]
        return {"directory": directory}, []
    return None, ["Choose where the backup is kept."]


def _streams(all_streams: bool, streams: list[str] | None) -> tuple[list[str] | str, list[str]]:
    if all_streams:
        return "all", []
    chosen = [s for s in (streams or []) if s]
    if not chosen:
        return [], ["Choose at least one stream, or back up all streams."]
    return chosen, []


def check_backup_form(
    *,
    cluster_id: str,
    all_streams: bool = True,
    streams: list[str] | None = None,
    kind: str = "full",
    target_type: str = "default",
    target_cluster_id: str = "",
    bucket: str = "",
    directory: str = "",
) -> tuple[BackupSpec | None, list[str]]:
    """The body of ``POST /operations/backup``."""
    problems: list[str] = []
    if not cluster_id:
        problems.append("Choose the cluster to back up.")
    chosen, told = _streams(all_streams, streams)
    problems += told
    if kind not in BACKUP_KINDS:
        problems.append("Choose a full or an incremental backup.")
    target, told = check_target(target_type, target_cluster_id, bucket, directory)
    problems += told
    if problems:
        return None, problems
    spec: BackupSpec = {"cluster_id": cluster_id, "streams": chosen, "kind": kind}  # type: ignore[typeddict-item]
    if target is not None:
        spec["target"] = target
    return spec, []


def check_restore_form(
    *,
    backup_id: str,
    backup_streams: tuple[str, ...] | list[str] = (),
    stream: str = "",
    cluster_id: str,
    stream_name: str,
    subjects: str = "",
    replace: bool = False,
    point: str = "backup",
    point_time: str = "",
) -> tuple[RestoreSpec | None, list[str]]:
    """The body of ``POST /operations/restore``. ``subjects`` (one per line) replaces the
    stream's own, which another stream of the destination may already capture."""
    problems: list[str] = []
    if not backup_id:
        problems.append("Choose the backup to restore.")
    stream = (stream or "").strip()
    if not stream and len(backup_streams) == 1:
        stream = backup_streams[0]
    if not stream and len(backup_streams) > 1:
        problems.append("The backup holds several streams: choose the one to restore.")
    elif stream and backup_streams and stream not in backup_streams:
        problems.append(f"The backup does not hold a stream {stream}.")
    if not cluster_id:
        problems.append("Choose the cluster to restore into.")
    stream_name = (stream_name or "").strip()
    if not stream_name:
        problems.append("Name the restored stream, for example ORDERS_RESTORED.")
    elif not STREAM_NAME.match(stream_name):
        problems.append(
            f'The stream name "{stream_name}" may only contain letters, digits, - '
            "and _ (at most 255)."
        )
    subject_list = split_list(subjects or "")
    problems += [p for p in map(subject_problem, subject_list) if p]
    point_value: Any = "backup"
    if point == "time":
        try:
            moment = parse_time(point_time)
        except ValueError as exc:
            problems.append(str(exc))
        else:
            if moment is None:
                problems.append("Give the time to restore to, like 2024-01-15T10:30:00Z.")
            else:
                point_value = {"time": moment}
    elif point in ("backup", "latest"):
        point_value = point
    else:
        problems.append("Choose the point to restore: this backup, the latest, or a time.")
    if problems:
        return None, problems
    to: RestoreToSpec = {
        "cluster_id": cluster_id,
        "stream_name": stream_name,
        "replace": bool(replace),
    }
    if subject_list:
        to["subjects"] = subject_list
    spec: RestoreSpec = {"backup_id": backup_id, "to": to, "point": point_value}
    if stream:
        spec["stream"] = stream
    return spec, []


def check_cadence(
    what: str, mode: str, value: str, retention_days: float | None
) -> tuple[CadenceSpec | None, list[str]]:
    """One cadence: a cron expression (five fields, UTC) or an interval like ``1h``, and how
    many days its backups are kept."""
    problems: list[str] = []
    value = " ".join((value or "").split())
    spec: CadenceSpec = {}
    if mode == "cron":
        if len(value.split(" ")) != 5 or not all(map(CRON_FIELD.match, value.split(" "))):
            problems.append(
                f'The {what} cron expression "{value}" needs five fields (minute '
                "hour day month weekday), for example 0 2 * * * for 02:00 UTC."
            )
        else:
            spec["cron"] = value
    elif mode == "every":
        if not EVERY.match(value) or int(value[:-1]) == 0:
            problems.append(
                f'The {what} interval "{value}" is a number and a unit, for example 1h, 30m or 7d.'
            )
        else:
            spec["every"] = value
    else:
        problems.append(f"Choose when the {what} backup runs: a cron expression or an interval.")
    if retention_days is None or not 0 < float(retention_days) <= MAX_RETENTION_DAYS:
        problems.append(
            f"Keep {what} backups more than 0 days and at most {MAX_RETENTION_DAYS} days."
        )
    else:
        spec["retention_days"] = float(retention_days)
    return (None if problems else spec), problems


def check_schedule_form(
    *,
    name: str,
    cluster_id: str,
    all_streams: bool = True,
    streams: list[str] | None = None,
    target_type: str = "default",
    target_cluster_id: str = "",
    bucket: str = "",
    directory: str = "",
    full_mode: str = "cron",
    full_value: str = "0 2 * * *",
    full_retention_days: float | None = 30,
    incremental: bool = False,
    incremental_mode: str = "every",
    incremental_value: str = "1h",
    incremental_retention_days: float | None = 7,
    enabled: bool = True,
) -> tuple[ScheduleSpec | None, list[str]]:
    """The body of ``POST /backup-schedules``."""
    problems: list[str] = []
    name = (name or "").strip()
    if not name:
        problems.append("Name the schedule, for example nightly-orders.")
    elif len(name) > 255:
        problems.append("The schedule name is at most 255 characters.")
    if not cluster_id:
        problems.append("Choose the cluster to back up.")
    chosen, told = _streams(all_streams, streams)
    problems += told
    target, told = check_target(target_type, target_cluster_id, bucket, directory)
    problems += told
    full, told = check_cadence("full", full_mode, full_value, full_retention_days)
    problems += told
    inc = None
    if incremental:
        inc, told = check_cadence(
            "incremental", incremental_mode, incremental_value, incremental_retention_days
        )
        problems += told
    if problems:
        return None, problems
    spec: ScheduleSpec = {
        "name": name,
        "cluster_id": cluster_id,
        "streams": chosen,
        "target": target,
        "full": full,  # type: ignore[typeddict-item]
        "incremental": inc,
        "enabled": bool(enabled),
    }
    return spec, []


def schedule_changes(old: BackupSchedule, new: ScheduleSpec) -> ScheduleSpec:
    """The parts of ``new`` that differ from the schedule as it is: the ``PATCH`` body."""

    def cadence(c) -> dict | None:
        if c is None:
            return None
        out = {"retention_days": float(c.retention_days)}
        out.update({"cron": c.cron} if c.cron else {"every": c.every})
        return out

    current = {
        "name": old.name,
        "cluster_id": old.cluster_id,
        "streams": old.streams,
        "target": old.target,
        "full": cadence(old.full),
        "incremental": cadence(old.incremental),
        "enabled": old.enabled,
    }
    changes: dict[str, Any] = {}
    for key, value in new.items():
        if key == "cluster_id":
            continue  # a schedule stays on its cluster (the API takes no other)
        before = current.get(key)
        if key == "target" and value is None:
            continue  # "as the API chose": keep the target it resolved
        if key == "target" and before is not None:
            before = {k: v for k, v in before.items() if k in value}
        if _norm(value) != _norm(before):
            changes[key] = value
    return changes  # type: ignore[return-value]


def _norm(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None if value is None else str(value) if not isinstance(value, bool) else value
