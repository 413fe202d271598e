"""What the GitOps routes share: a repository of the caller's organization (404 otherwise), its
secrets sealed, the views of a repository and of a sync, and starting a sync (its row, its
operation's row and its workflow's start, committed together: transactional outbox)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Principal, Svc
from api.errors import ProblemError
from api.gitops_schemas import EnvStatus, RepoView, SyncView
from api.outbox_delivery import owe_start
from core.db.gitops_models import GitDrift, GitRepository, GitSync
from core.db.models import ChangeRequestRow, NatsCluster, Operation
from core.outbox import OutboxEntry
from core.security import Cipher
from gitops.git import display_url
from gitops.planning import credentials_context
from gitops.sync_rows import SYNC_WORKFLOW, add_sync
from workflows.inputs import GitOpsSyncInput

DONE = ("succeeded", "no_changes", "partially_applied")
# A request closed without approval leaves its sync rejected (read from the request); a sync
# shows ``waiting_approval`` once its approval workflow takes votes (its operation row says so:
# the workflow is started as a child after the request is stored).
_REFUSED = ("rejected", "withdrawn", "changes_requested", "auto_rejected")


async def load_repo(db: AsyncSession, org_id: uuid.UUID, repo_id: uuid.UUID) -> GitRepository:
    row = await db.scalar(
        select(GitRepository).where(GitRepository.id == repo_id, GitRepository.org_id == org_id)
    )
    if row is None:
        raise ProblemError(404, f"No GitOps repository with id {repo_id} in your organization.")
    return row


def seal(cipher: Cipher, repo_id: uuid.UUID, secrets: dict[str, Any]) -> dict | None:
    kept = {k: v for k, v in secrets.items() if v}
    return cipher.encrypt(kept, context=credentials_context(repo_id)) if kept else None


def webhook_secret_of(cipher: Cipher, repo: GitRepository) -> str | None:
    if not repo.webhook_secret:
        return None
    return cipher.decrypt(repo.webhook_secret, context=credentials_context(repo.id))["secret"]


async def sync_view(db: AsyncSession, row: GitSync) -> SyncView:
    status = row.status
    if status == "waiting_approval" and row.request_id is not None:
        request_status, approval = (
            await db.execute(
                select(ChangeRequestRow.status, Operation.status)
                .join(Operation, Operation.id == ChangeRequestRow.operation_id, isouter=True)
                .where(ChangeRequestRow.id == row.request_id)
            )
        ).one_or_none() or (None, None)
        if request_status in _REFUSED:
            status = "rejected"
        elif approval == "pending":  # its approval workflow is not taking votes yet
            status = "running"
    plan = dict(row.plan or {})
    plan.pop("approval", None)
    return SyncView(
        id=row.id,
        repo_id=row.repo_id,
        trigger=row.trigger,
        ref=row.ref,
        commit=row.commit,
        author=row.author,
        message=row.message,
        status=status,
        plan=plan,
        results=row.results or [],
        errors=row.errors or [],
        warnings=row.warnings or [],
        error=row.error,
        request_id=row.request_id,
        operation_id=row.operation_id,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


async def repo_view(db: AsyncSession, row: GitRepository) -> RepoView:
    last = await db.scalar(
        select(GitSync)
        .where(GitSync.repo_id == row.id)
        .order_by(GitSync.created_at.desc())
        .limit(1)
    )
    done = await db.scalar(
        select(GitSync)
        .where(GitSync.repo_id == row.id, GitSync.status.in_(DONE))
        .order_by(GitSync.finished_at.desc())
        .limit(1)
    )
    ids = [uuid.UUID(str(c)) for c in (row.environments or {}).values()]
    names = (
        dict(
            (
                await db.execute(
                    select(NatsCluster.id, NatsCluster.name).where(NatsCluster.id.in_(ids))
                )
            ).all()
        )
        if ids
        else {}
    )
    drift = dict(
        (
            await db.execute(
                select(GitDrift.environment, func.count())
                .where(GitDrift.repo_id == row.id, GitDrift.status == "open")
                .group_by(GitDrift.environment)
            )
        ).all()
    )
    status: dict[str, EnvStatus] = {}
    for env, cluster_id in (row.environments or {}).items():
        planned = ((done.plan or {}).get("environments") or {}).get(env, {}) if done else {}
        failed = (
            any(r["environment"] == env and r["status"] != "applied" for r in (done.results or []))
            if done
            else True
        )
        status[env] = EnvStatus(
            cluster_id=cluster_id,
            cluster_name=names.get(uuid.UUID(str(cluster_id))),
            resources=int(planned.get("resources", 0)),
            drift=int(drift.get(env, 0)),
            synced=bool(done) and bool(planned) and not failed and not drift.get(env),
            last_sync_at=done.finished_at if done and planned else None,
        )
    return RepoView(
        id=row.id,
        name=row.name,
        url=display_url(row.url),
        branch=row.branch,
        path=row.path,
        environments=row.environments or {},
        sync=row.sync,
        prune=row.prune,
        interval_seconds=row.interval_seconds,
        on_drift=row.on_drift,
        namespaces=row.namespaces or [],
        auth_type=row.auth_type,
        has_webhook_secret=bool(row.webhook_secret),
        webhook_url=f"/api/v1/gitops/webhook/{row.id}",
        last_commit=row.last_commit,
        status=status,
        last_sync=await sync_view(db, last) if last else None,
        last_scan=row.last_scan,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def owe_sync(
    db: AsyncSession,
    svc: Svc,
    repo: GitRepository,
    *,
    trigger: str,
    ref: str,
    commit: str | None,
    dedupe: str,
    user: Principal | None = None,
    only: list[str] | None = None,
) -> tuple[GitSync, OutboxEntry]:
    """Add a sync and its operation, and owe its workflow's start, in ``db``'s transaction (a
    ``(repo, dedupe)`` already there raises IntegrityError: this commit was synced)."""
    new = await add_sync(
        db,
        repo,
        trigger=trigger,
        ref=ref,
        commit=commit,
        dedupe=dedupe,
        user_id=user.user_id if user else None,
        user_email=user.email if user else "",
        only=only,
    )
    start = owe_start(
        db,
        SYNC_WORKFLOW,
        new.workflow_id,
        [GitOpsSyncInput(context=new.context, data=new.data)],
        svc.settings.task_queue,
    )
    return new.sync, start
