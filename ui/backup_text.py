"""Backups written for people (pure functions, no Streamlit), as the source design's "Backup &
Snapshots" panel shows them:

- :func:`schedule_lines`: "Full backup: Daily at 02:00 UTC → dr / jsc-backups (retained 30
  days)", "Incremental: Hourly → … (retained 7 days)"; :func:`cadence_words` the when.
- :func:`backup_row`: one line of the "Latest Backups" table (Type, Time, Size, Streams, Status,
  Duration), with :func:`status_badge` ("✅ Verified", "❌ Verification failed", "⏳ Pending", ...).
- :func:`result_lines`: what a finished backup or restore operation did.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ui import fmt
from ui.client import Backup, BackupSchedule, Cadence

DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
KIND_NAMES = {"full": "Full", "incremental": "Incremental"}
REASON_NAMES = {
    "manual": "manual",
    "scheduled": "scheduled",
    "pre_restore": "kept aside before a restore",
}
STATUS_BADGES = {
    "verified": "✅ Verified",
    "verification_failed": "❌ Verification failed",
    "pending": "⏳ Pending",
    "running": "▶ Running",
    "failed": "❌ Failed",
}
_NUMBER = re.compile(r"^\d+$")


def _clock(minute: str, hour: str) -> str | None:
    if _NUMBER.match(minute) and _NUMBER.match(hour):
        return f"{int(hour):02d}:{int(minute):02d} UTC"
    return None


def cron_words(expr: str) -> str:
    """ "0 2 * * *" → "Daily at 02:00 UTC"; "0 * * * *" → "Hourly"; "*/15 * * * *" → "Every 15
    minutes"; "30 3 * * 0" → "Weekly on Sunday at 03:30 UTC"; anything else as it is."""
    parts = expr.split()
    if len(parts) != 5:
        return f"cron {expr} (UTC)"
    minute, hour, day, month, weekday = parts
    rest_any = day == "*" and month == "*"
    clock = _clock(minute, hour)
    if rest_any and weekday == "*":
        if clock:
            return f"Daily at {clock}"
        if hour == "*" and minute == "0":
            return "Hourly"
        if hour == "*" and _NUMBER.match(minute):
            return f"Hourly at minute {int(minute)}"
        if hour == "*" and minute.startswith("*/") and _NUMBER.match(minute[2:]):
            return _every(int(minute[2:]), "m")
        if minute == "*" and hour == "*":
            return "Every minute"
        if _NUMBER.match(minute) and hour.startswith("*/") and _NUMBER.match(hour[2:]):
            return _every(int(hour[2:]), "h") + (f" at minute {int(minute)}" if int(minute) else "")
    if rest_any and clock and _NUMBER.match(weekday) and int(weekday) <= 7:
        return f"Weekly on {DAYS[int(weekday)]} at {clock}"
    if clock and _NUMBER.match(day) and month == "*" and weekday == "*":
        return f"Monthly on day {int(day)} at {clock}"
    return f"cron {expr} (UTC)"


def _every(n: int, unit: str) -> str:
    if n == 1:
        return {"s": "Every second", "m": "Every minute", "h": "Hourly", "d": "Daily"}[unit]
    return f"Every {n} {UNITS[unit]}s"


def every_words(every: str) -> str:
    """ "1h" → "Hourly"; "24h" or "1d" → "Daily"; "30m" → "Every 30 minutes"."""
    if not every or not _NUMBER.match(every[:-1]) or every[-1] not in UNITS:
        return f"every {every}"
    n, unit = int(every[:-1]), every[-1]
    if unit == "h" and n % 24 == 0:
        n, unit = n // 24, "d"
    elif unit == "m" and n % 60 == 0:
        n, unit = n // 60, "h"
    return _every(n, unit)


def cadence_words(cadence: Cadence | Mapping[str, Any]) -> str:
    cron = cadence.get("cron") if isinstance(cadence, Mapping) else cadence.cron
    every = cadence.get("every") if isinstance(cadence, Mapping) else cadence.every
    return cron_words(cron) if cron else every_words(every or "")


def days(n: float | None) -> str:
    if n is None:
        return "—"
    return f"{float(n):g} day" + ("" if float(n) == 1 else "s")


def target_words(target: Mapping[str, Any] | None, names: Mapping[str, str]) -> str:
    """ "dr / jsc-backups" (an object store), "directory nightly/orders", or the default."""
    if not target:
        return "the default target (the dr cluster's jsc-backups)"
    if target.get("directory"):
        return f"directory {target['directory']}"
    cluster = target.get("cluster_id")
    name = names.get(str(cluster), str(cluster or "?")[:8])
    return f"{name} / {target.get('bucket') or 'jsc-backups'}"


def schedule_lines(schedule: BackupSchedule, names: Mapping[str, str]) -> list[str]:
    """The schedule's cadences, one line each, as the source design words them."""
    where = target_words(schedule.target, names)
    lines = []
    for label, cadence in (("Full backup", schedule.full), ("Incremental", schedule.incremental)):
        if cadence is not None:
            lines.append(
                f"{label}: {cadence_words(cadence)} → {where} "
                f"(retained {days(cadence.retention_days)})"
            )
    return lines


def schedule_title(schedule: BackupSchedule, names: Mapping[str, str]) -> str:
    streams = (
        "all streams" if schedule.streams == "all" else ", ".join(schedule.streams) or "no stream"
    )
    cluster = names.get(schedule.cluster_id, schedule.cluster_id[:8])
    paused = "" if schedule.enabled else " · ❚❚ paused"
    return f"{schedule.name} · {cluster}: {streams}{paused}"


def status_key(backup: Backup) -> str:
    if backup.status == "running":
        return "running"
    if backup.status == "failed":
        return "failed"
    return {"verified": "verified", "failed": "verification_failed"}.get(
        backup.verification.status, "pending"
    )


def status_badge(backup: Backup) -> str:
    return STATUS_BADGES[status_key(backup)]


def short_time(iso: str | None) -> str:
    """ "2024-01-15 02:00 UTC"."""
    return fmt.when(iso, minutes=True)


def backup_row(backup: Backup, names: Mapping[str, str]) -> dict[str, str]:
    """A row of the Latest Backups table."""
    return {
        "Type": KIND_NAMES.get(backup.kind, backup.kind.capitalize()),
        "Time": short_time(backup.started_at or backup.created_at),
        "Size": fmt.size(backup.size_bytes) if backup.status != "running" else "…",
        "Streams": str(backup.stream_count),
        "Status": status_badge(backup),
        "Duration": fmt.precise_seconds(backup.duration_s),
        "Cluster": names.get(backup.cluster_id, backup.cluster_id[:8]),
        "Kept in": target_words(backup.target, names),
        "Why": REASON_NAMES.get(backup.reason, backup.reason),
        "ID": backup.id[:8],
    }


def backup_label(backup: Backup, names: Mapping[str, str]) -> str:
    """One line naming a backup in a picker."""
    streams = ", ".join(backup.stream_names[:3]) + (" …" if len(backup.stream_names) > 3 else "")
    return (
        f"{short_time(backup.started_at or backup.created_at)} · "
        f"{KIND_NAMES.get(backup.kind, backup.kind)} · "
        f"{names.get(backup.cluster_id, backup.cluster_id[:8])}: {streams or 'no stream'} · "
        f"{status_badge(backup)} · {backup.id[:8]}"
    )


def verification_text(backup: Backup) -> str:
    v = backup.verification
    if v.status == "verified":
        return f"Verified {fmt.when(v.checked_at)}: restored and compared with the source."
    if v.status == "failed":
        reason = (
            v.details.get("error")
            or v.details.get("reason")
            or "; ".join(f"{k}: {val}" for k, val in v.details.items())
            or "no details"
        )
        return f"Verification failed {fmt.when(v.checked_at)}: {reason}"
    return "Not verified yet."


def result_lines(op_type: str, result: Mapping[str, Any]) -> list[str]:
    """What a finished backup or restore operation did."""
    if op_type in ("backup", "backup_verify"):
        lines = []
        items = result.get("streams") or []
        if items:
            fulls = [i for i in items if i.get("kind") == "full"]
            lines.append(
                f"{len(items)} stream(s) backed up ({len(fulls)} full, "
                f"{len(items) - len(fulls)} incremental), "
                f"{fmt.size(result.get('size_bytes'))} stored in "
                f"{fmt.precise_seconds(result.get('duration_s'))}."
            )
        verification = result.get("verification") or {}
        if verification.get("status"):
            lines.append(
                "Verification: "
                + {"verified": "✅ verified", "failed": "❌ failed", "pending": "⏳ pending"}.get(
                    verification["status"], verification["status"]
                )
            )
        return lines
    if op_type == "restore":
        lines = [
            f"Restored {result.get('stream_name')}: {fmt.count(result.get('messages'))} "
            f"messages (sequences {fmt.count(result.get('first_seq'))}–"
            f"{fmt.count(result.get('last_seq'))}), "
            f"{len(result.get('consumers') or [])} consumer(s)."
        ]
        if result.get("set_aside_backup_id"):
            lines.append(
                "The stream's previous data was backed up first: backup "
                f"{str(result['set_aside_backup_id'])[:8]}."
            )
        return lines
    return []
