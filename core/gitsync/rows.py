"""The ``gitops_syncs`` rows: add a sync with its operation and owed workflow start, record each
resource's result as it happens, close a sync from its results, and close one whose change
request was rejected.

Every write is safe to repeat: a sync is added once per ``(repo_id, dedupe)`` (the commit of a
pushed or polled sync; ``manual:<id>`` for "Sync now" and ``revert:<id>`` for a drift revert), a
result once per ``(environment, resource)``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox
from core.db.gitops_models import GitRepository, GitSync
from core.db.models import Operation
from core.gitsync.models import SYNC_OPERATION, GitSyncInput, sync_workflow_id
from core.operations import OperationContext, user_uuid
from core.outbox import OutboxEntry

SYNC_WORKFLOW = "GitOpsSyncWorkflow"
FINAL = ("succeeded", "no_changes", "partially_applied", "failed", "rejected")


def requester_email(repo: GitRepository) -> str:
    """Who asks, when the repository itself does (a push, a poll, a drift revert)."""
    return f"gitops:{repo.name}"


def requester_id(repo: GitRepository) -> str:
    return f"gitops-repo:{repo.id}"


@dataclass
class OwedSync:
    """A sync added (``start`` owed, to deliver after the commit), or the sync that already had
    this dedupe key (``start`` None, ``added`` False)."""

    sync_id: uuid.UUID
    operation_id: uuid.UUID | None
    added: bool
    start: OutboxEntry | None = None


async def owe_sync(db: AsyncSession, repo: GitRepository, *, trigger: str, ref: str,
                   task_queue: str, commit: str | None = None, dedupe: str | None = None,
                   user_id: str | None = None, user_email: str | None = None,
                   only: list[str] | None = None) -> OwedSync:
    """Add a pending sync of ``repo`` at ``ref`` (and ``commit`` when known), its operation row
    (type ``gitops_sync``) and its workflow's owed start, in the caller's transaction (the caller
    commits, then delivers ``start``). ``user_id``/``user_email``: the person who asked (a manual
    sync), else the repository. ``dedupe`` defaults to the commit, else a key of its own."""
    sync_id = uuid.uuid4()
    key = dedupe or commit or f"manual:{sync_id}"
    row = await db.execute(insert(GitSync).values(
        id=sync_id, org_id=repo.org_id, repo_id=repo.id, dedupe=key, trigger=trigger, ref=ref,
        commit=commit, status="pending", plan={}, results=[], errors=[], warnings=[],
        requested_by=user_uuid(user_id),
    ).on_conflict_do_nothing(index_elements=["repo_id", "dedupe"]).returning(GitSync.id))
    if row.scalar() is None:
        existing = await db.scalar(select(GitSync).where(GitSync.repo_id == repo.id,
                                                         GitSync.dedupe == key))
        return OwedSync(existing.id, existing.operation_id, added=False)
    operation_id = uuid.uuid4()
    workflow_id = sync_workflow_id(str(sync_id))
    data = GitSyncInput(sync_id=str(sync_id), repo_id=str(repo.id), only=list(only or []))
    environments = repo.environments or {}
    cluster_id = next(iter(environments.values())) if len(environments) == 1 else None
    db.add(Operation(id=operation_id, org_id=repo.org_id, type=SYNC_OPERATION,
                     workflow_id=workflow_id, status="pending", progress={},
                     input={**data.model_dump(mode="json"), "trigger": trigger, "ref": ref,
                            "commit": commit},
                     cluster_id=uuid.UUID(str(cluster_id)) if cluster_id else None,
                     started_by=user_uuid(user_id)))
    await db.flush()
    await db.execute(update(GitSync).where(GitSync.id == sync_id)
                     .values(operation_id=operation_id))
    context = OperationContext(operation_id=str(operation_id), org_id=str(repo.org_id),
                               user_id=user_id or requester_id(repo),
                               user_email=user_email or requester_email(repo),
                               type=SYNC_OPERATION)
    start = outbox.owe_start(db, SYNC_WORKFLOW, workflow_id, [context, data], task_queue)
    return OwedSync(sync_id, operation_id, added=True, start=start)


async def record_result(db: AsyncSession, sync_id: uuid.UUID, result: dict) -> bool:
    """Append one resource's result unless it is recorded already (the caller commits); answers
    whether it was added."""
    sync = await db.scalar(select(GitSync).where(GitSync.id == sync_id).with_for_update())
    key = (result["environment"], result["resource"])
    if any((r.get("environment"), r.get("resource")) == key for r in sync.results or []):
        return False
    sync.results = [*(sync.results or []), result]
    return True


def status_of(results: list[dict]) -> str:
    """succeeded (every resource applied), partially_applied (some applied, some failed or
    skipped), failed (none applied)."""
    applied = sum(r["status"] == "applied" for r in results)
    if applied == len(results):
        return "succeeded"
    return "partially_applied" if applied else "failed"


def unapplied(sync: GitSync, reason: str) -> list[dict]:
    """A ``skipped`` result for every planned change that has none yet."""
    done = {(r.get("environment"), r.get("resource")) for r in sync.results or []}
    out = []
    for env, plan in sorted(((sync.plan or {}).get("environments") or {}).items()):
        for change in plan.get("changes") or []:
            if (env, change["resource"]) not in done:
                out.append({"environment": env, "resource": change["resource"],
                            "action": change["action"], "status": "skipped", "error": reason})
    return out


async def close_rejected(db: AsyncSession, request_id: uuid.UUID, status: str,
                         error: str | None = None) -> None:
    """A sync waiting on change request ``request_id`` whose request closed without being
    executed (rejected, withdrawn, changes requested, failed) ends so (the caller commits)."""
    closing = {"rejected": "rejected", "withdrawn": "rejected", "changes_requested": "rejected",
               "auto_rejected": "rejected", "failed": "failed"}
    if status not in closing:
        return
    reason = error or f"the change request was {status.replace('_', ' ')}"
    await db.execute(update(GitSync).where(
        GitSync.request_id == request_id,
        GitSync.status.in_(("waiting_approval", "pending", "running")),
    ).values(status=closing[status], error=reason, finished_at=datetime.now(timezone.utc)))
