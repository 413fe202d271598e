"""The ``gitops_drift`` rows of a repository, kept as the last scan found them: an item seen again
is updated (an expired ignore opens again, a revert in progress stays so), a new one is opened,
one no longer seen is resolved. Rows are keyed by (repository, environment, resource). Items a
revert acts on are marked ``reverting`` with the sync that reverts them."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.gitops_models import GitDrift, GitRepository
from gitops.drift import DriftItem


async def store_drift(db: AsyncSession, repo: GitRepository, found: dict[str, list[DriftItem]],
                      clusters: dict[str, uuid.UUID], now: datetime) -> int:
    """Record a scan's items per environment (only the environments scanned); the open count."""
    rows = {(r.environment, r.resource): r for r in await db.scalars(
        select(GitDrift).where(GitDrift.repo_id == repo.id))}
    seen = set()
    for env, items in found.items():
        for item in items:
            key = (env, item.resource)
            seen.add(key)
            row = rows.get(key)
            if row is None:
                row = GitDrift(org_id=repo.org_id, repo_id=repo.id, environment=env,
                               resource=item.resource, first_seen=now, status="open",
                               changed_by={})
                db.add(row)
                rows[key] = row
            elif row.status == "resolved":
                row.status, row.first_seen, row.remediation = "open", now, None
            elif row.status == "ignored" and row.ignored_until and row.ignored_until <= now:
                row.status, row.ignored_until = "open", None
            row.cluster_id = clusters.get(env)
            row.kind, row.stream, row.name = item.kind, item.stream, item.name
            row.drift_type, row.fields, row.source = item.drift_type, item.fields, item.source
            row.last_seen = now
    for key, row in rows.items():
        if key[0] in found and key not in seen and row.status != "resolved":
            row.status, row.ignored_until = "resolved", None
    await db.flush()
    return sum(1 for r in rows.values() if r.status == "open")


async def revertible(db: AsyncSession, repo: GitRepository) -> list[str]:
    """The open items a revert can act on (``"<env>:<resource>"``): what changed or went missing,
    and what git does not have when the repository may prune."""
    kinds = ["changed", "missing"] + (["unmanaged"] if repo.prune == "with_approval" else [])
    rows = await db.scalars(select(GitDrift).where(
        GitDrift.repo_id == repo.id, GitDrift.status == "open", GitDrift.drift_type.in_(kinds)))
    return [f"{r.environment}:{r.resource}" for r in rows]


async def mark_reverting(db: AsyncSession, repo_id: uuid.UUID, items: list[str],
                         sync_id: uuid.UUID, by: str) -> None:
    """The items (``"<env>:<resource>"``) are being reverted by ``sync_id``, asked by ``by``."""
    remediation = {"action": "revert", "sync_id": str(sync_id), "by": by,
                   "at": datetime.now(timezone.utc).isoformat()}
    for ref in items:
        env, resource = ref.split(":", 1)
        await db.execute(update(GitDrift).where(
            GitDrift.repo_id == repo_id, GitDrift.environment == env,
            GitDrift.resource == resource).values(status="reverting", remediation=remediation))

