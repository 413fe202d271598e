"""Which backups of a schedule expire (pure).

A backup of a schedule is expired when it is older than its cadence's ``retention_days`` (a full
backup: the schedule's ``full`` cadence; an incremental one: its ``incremental`` cadence, else the
full one), AND no unexpired backup's chain needs it, AND it is not the schedule's newest completed
full backup. Running backups never expire. A failed backup is removed once it is as old.

Its age counts from ``completed_at`` (``created_at`` when it never completed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Kept:
    """What retention knows of a backup: ``chain`` lists the backups it needs (itself included,
    oldest first)."""

    id: str
    kind: str  # full | incremental
    status: str  # running | completed | failed
    at: datetime
    chain: tuple[str, ...] = field(default_factory=tuple)


def expired(
    backups: list[Kept], *, full_days: float, incremental_days: float | None, now: datetime
) -> list[str]:
    """The ids of ``backups`` that expire at ``now``, oldest first."""
    newest_full = max(
        (b for b in backups if b.kind == "full" and b.status == "completed"),
        key=lambda b: b.at,
        default=None,
    )

    def old(b: Kept) -> bool:
        days = full_days if b.kind == "full" else (incremental_days or full_days)
        return now - b.at > timedelta(days=days)

    candidates = {
        b.id
        for b in backups
        if b.status != "running" and old(b) and (newest_full is None or b.id != newest_full.id)
    }
    # a failed backup restores nothing: it keeps nothing alive
    needed = {
        member
        for b in backups
        if b.id not in candidates and b.status != "failed"
        for member in b.chain
    }
    return [
        b.id
        for b in sorted(backups, key=lambda b: b.at)
        if b.id in candidates and b.id not in needed
    ]
