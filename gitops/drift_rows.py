"""The ``gitops_drift`` rows of a repository, kept as the last scan found them. Rows are keyed by
(repository, environment, resource):

- an item seen for the first time is opened; a resolved one seen again is opened again;
- an ignored one stays ignored until ``ignored_until``, then opens again if still seen;
- a reverting one stays so while its revert (a sync) can still change the cluster; once that sync
  is over (applied, nothing to do, failed or rejected) and the cluster still differs, it opens
  again (its ``remediation`` still says what was tried, and a repository whose policy reverts
  does not try again on its own: a person decides);
- one no longer seen is resolved.

Only the environments a scan read are touched: an environment whose cluster could not be read
keeps its rows as they were. Items a revert acts on are marked ``reverting`` with the sync that
reverts them (``mark_reverting``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.gitops_models import GitDrift, GitRepository, GitSync
from core.db.models import ChangeRequestRow
from gitops.drift import DriftItem

SYNC_OVER = ("succeeded", "no_changes", "partially_applied", "failed", "rejected")
REQUEST_REFUSED = ("rejected", "withdrawn", "changes_requested", "auto_rejected", "failed")


async def _reverts_over(db: AsyncSession, rows: list[GitDrift], scan_started: datetime) -> set:
    """The ids of the reverts (syncs) among ``rows``' that are over: finished before the scan
    read the clusters, or refused by their change request."""
    ids = {
        uuid.UUID(r.remediation["sync_id"])
        for r in rows
        if r.status == "reverting" and (r.remediation or {}).get("sync_id")
    }
    if not ids:
        return set()
    over = set()
    for sync in await db.scalars(select(GitSync).where(GitSync.id.in_(ids))):
        if sync.status in SYNC_OVER and sync.finished_at and sync.finished_at <= scan_started:
            over.add(str(sync.id))
        elif sync.status == "waiting_approval" and sync.request_id is not None:
            status = await db.scalar(
                select(ChangeRequestRow.status).where(ChangeRequestRow.id == sync.request_id)
            )
            if status in REQUEST_REFUSED:
                over.add(str(sync.id))
    return over


async def store_drift(
    db: AsyncSession,
    repo: GitRepository,
    found: dict[str, list[DriftItem]],
    clusters: dict[str, uuid.UUID],
    now: datetime,
    *,
    created: dict[str, dict] | None = None,
    scan_started: datetime | None = None,
) -> int:
    """Record a scan's items per environment (only the environments scanned); the open count.
    ``created``: per environment, the resources' creation times on the cluster (``(kind, stream,
    name)`` -> RFC 3339), kept for the attribution of changes made outside the console."""
    rows = {
        (r.environment, r.resource): r
        for r in await db.scalars(select(GitDrift).where(GitDrift.repo_id == repo.id))
    }
    over = await _reverts_over(db, list(rows.values()), scan_started or now)
    seen = set()
    for env, items in found.items():
        times = (created or {}).get(env, {})
        for item in items:
            key = (env, item.resource)
            seen.add(key)
            row = rows.get(key)
            if row is None:
                row = GitDrift(
                    org_id=repo.org_id,
                    repo_id=repo.id,
                    environment=env,
                    resource=item.resource,
                    first_seen=now,
                    status="open",
                )
                db.add(row)
                rows[key] = row
            elif row.status == "resolved":
                row.status, row.first_seen, row.remediation = "open", now, None
            elif row.status == "ignored" and row.ignored_until and row.ignored_until <= now:
                row.status, row.ignored_until = "open", None
            elif row.status == "reverting" and (row.remediation or {}).get("sync_id") in over:
                row.status = "open"
                row.remediation = {
                    **row.remediation,
                    "outcome": "not fixed: the cluster still differs after the revert",
                }
            row.cluster_id = clusters.get(env)
            row.kind, row.stream, row.name = item.kind, item.stream, item.name
            row.drift_type, row.fields, row.source = item.drift_type, item.fields, item.source
            when = times.get((item.kind, item.stream, item.name))
            row.changed_by = {"source": "outside", **({"created": when} if when else {})}
            row.last_seen = now
    for key, row in rows.items():
        if key[0] in found and key not in seen and row.status != "resolved":
            row.status, row.ignored_until = "resolved", None
    await db.flush()
    return sum(1 for r in rows.values() if r.status == "open")


async def revertible(db: AsyncSession, repo: GitRepository) -> list[str]:
    """The open items the repository's revert policy acts on (``"<env>:<resource>"``): what
    changed or went missing, and what git does not have when the repository may prune; not an
    item an earlier revert did not fix."""
    kinds = ["changed", "missing"] + (["unmanaged"] if repo.prune == "with_approval" else [])
    rows = await db.scalars(
        select(GitDrift).where(
            GitDrift.repo_id == repo.id, GitDrift.status == "open", GitDrift.drift_type.in_(kinds)
        )
    )
    return [
        f"{r.environment}:{r.resource}"
        for r in rows
        if (r.remediation or {}).get("action") != "revert"
    ]


async def mark_reverting(
    db: AsyncSession, repo_id: uuid.UUID, items: list[str], sync_id: uuid.UUID, by: str
) -> None:
    """The items (``"<env>:<resource>"``) are being reverted by ``sync_id``, asked by ``by``."""
    remediation = {
        "action": "revert",
        "sync_id": str(sync_id),
        "by": by,
        "at": datetime.now(UTC).isoformat(),
    }
    for ref in items:
        env, resource = ref.split(":", 1)
        await db.execute(
            update(GitDrift)
            .where(
                GitDrift.repo_id == repo_id,
                GitDrift.environment == env,
                GitDrift.resource == resource,
            )
            .values(status="reverting", remediation=remediation)
        )
