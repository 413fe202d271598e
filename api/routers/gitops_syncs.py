"""GitOps syncs of a repository (``/api/v1/gitops/repos/{id}/...``): "Sync now", the history of
syncs by commit with each one's plan and per-resource result, and a plan shown without applying.

A sync runs as an operation (``GitOpsSyncWorkflow``): fetch, load and validate, plan, judge by
policy, then apply, or open one change request for the whole commit and apply once approved.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError
from api.gitops_access import load_repo, owe_sync, sync_view
from api.gitops_schemas import PlanView, SyncNow, SyncStarted, SyncView
from api.outbox_delivery import deliver_now
from core.clusters import ClusterNotFound
from core.db.gitops_models import GitSync
from core.jetstream.api import JetStreamError, JetStreamUnavailable
from core.jetstream.pool import ClusterUnreachable
from gitops import plan_doc
from gitops.git import GitError, check_ref
from gitops.ownership import applied_by
from gitops.planning import access_of, load_commit, plan_repo, repo_clusters

router = APIRouter(prefix="/api/v1/gitops/repos", tags=["gitops"])


@router.post("/{repo_id}/sync", status_code=202, response_model=SyncStarted)
async def sync_now(
    repo_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    body: SyncNow | None = None,
    principal: Principal = Depends(require("gitops:sync")),
):
    """Sync the repository now at ``ref`` (default: its branch), whatever its sync mode."""
    repo = await load_repo(db, principal.org_id, repo_id)
    ref = (body.ref if body else None) or repo.branch
    sync, start = await owe_sync(
        db,
        svc,
        repo,
        trigger="manual",
        ref=ref,
        commit=None,
        dedupe=f"manual:{uuid.uuid4()}",
        user=principal,
    )
    await audit(
        request,
        principal,
        action="gitops.sync_requested",
        resource_type="gitops_repo",
        resource_id=str(repo.id),
        resource_name=repo.name,
        changes={"sync_id": str(sync.id), "ref": ref, "trigger": "manual"},
        db=db,
    )
    await deliver_now(svc, start)
    return SyncStarted(sync_id=sync.id, operation_id=sync.id, status="pending")


@router.get("/{repo_id}/syncs", response_model=dict[str, list[SyncView]])
async def list_syncs(
    repo_id: uuid.UUID,
    db: Db,
    limit: int = Query(20, ge=1, le=200),
    before: datetime | None = None,
    principal: Principal = Depends(require("gitops:read")),
):
    """The repository's syncs, newest first (``before``: older than that time)."""
    await load_repo(db, principal.org_id, repo_id)
    query = select(GitSync).where(GitSync.repo_id == repo_id)
    if before is not None:
        query = query.where(GitSync.created_at < before)
    rows = await db.scalars(query.order_by(GitSync.created_at.desc()).limit(limit))
    return {"items": [await sync_view(db, r) for r in rows]}


@router.get("/{repo_id}/syncs/{sync_id}", response_model=SyncView)
async def read_sync(
    repo_id: uuid.UUID,
    sync_id: uuid.UUID,
    db: Db,
    principal: Principal = Depends(require("gitops:read")),
):
    await load_repo(db, principal.org_id, repo_id)
    row = await db.scalar(select(GitSync).where(GitSync.id == sync_id, GitSync.repo_id == repo_id))
    if row is None:
        raise ProblemError(404, f"No sync {sync_id} of this repository.")
    return await sync_view(db, row)


@router.get("/{repo_id}/plan", response_model=PlanView)
async def show_plan(
    repo_id: uuid.UUID,
    db: Db,
    svc: Svc,
    ref: str | None = Query(None, min_length=1, max_length=255),
    principal: Principal = Depends(require("gitops:read")),
):
    """What a sync of ``ref`` (default: the branch) would do now; nothing is applied or stored.
    A tree with errors answers them (``path:line: message``) and plans nothing."""
    repo = await load_repo(db, principal.org_id, repo_id)
    target = ref or repo.branch
    try:
        check_ref(target)
    except GitError as exc:
        raise ProblemError(
            422, f"Invalid input: ref: {exc}", errors=[{"field": "ref", "message": str(exc)}]
        ) from exc
    clusters = await repo_clusters(db, repo)
    applied = await applied_by(db, repo.id)
    try:
        tree = await load_commit(repo, access_of(repo, svc.cipher), target, svc.settings)
        planned = await plan_repo(repo, clusters, tree, svc.clusters, svc.cipher, applied=applied)
    except GitError as exc:
        raise ProblemError(503, f"The repository cannot be read: {exc}", service="git") from exc
    except (ClusterUnreachable, JetStreamUnavailable, ClusterNotFound) as exc:
        raise ProblemError(
            503, f"A cluster of the repository cannot be read: {exc}", service="nats"
        ) from exc
    except JetStreamError as exc:
        raise ProblemError(
            503, f"A cluster answered an error: {exc.description}", service="nats"
        ) from exc
    commit = planned.commit
    return PlanView(
        commit=commit.sha,
        author=f"{commit.author} <{commit.email}>",
        message=commit.message,
        errors=planned.errors,
        warnings=planned.warnings,
        environments=planned.environments,
        summary=plan_doc.summary_of(planned.environments),
        diff=plan_doc.diff_of(planned.environments),
        needs_approval=plan_doc.needs_approval(planned.environments),
    )
