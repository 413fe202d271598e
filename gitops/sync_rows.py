"""A sync's rows, made the same way whoever starts it (a push, "Sync now", a drift revert): the
``gitops_syncs`` row, its operation's row, and what its ``GitOpsSyncWorkflow`` is started with.
The caller owes or starts the workflow."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.gitops_models import GitRepository, GitSync
from core.db.models import Operation
from core.operations import OperationContext, workflow_id_for
from gitops.jobs import GitSyncInput

SYNC_WORKFLOW = "GitOpsSyncWorkflow"


@dataclass
class NewSync:
    sync: GitSync
    workflow_id: str
    context: OperationContext
    data: GitSyncInput


async def add_sync(
    db: AsyncSession,
    repo: GitRepository,
    *,
    trigger: str,
    ref: str,
    commit: str | None,
    dedupe: str,
    user_id: uuid.UUID | None = None,
    user_email: str = "",
    only: list[str] | None = None,
) -> NewSync:
    """Add a sync and its operation, flushed (a ``(repo, dedupe)`` already there raises
    IntegrityError: that commit, or that revert, has its sync)."""
    sync_id = uuid.uuid4()
    workflow_id = workflow_id_for("gitops_sync", sync_id)
    data = GitSyncInput(sync_id=str(sync_id), repo_id=str(repo.id), only=only or [])
    db.add(
        Operation(
            id=sync_id,
            org_id=repo.org_id,
            type="gitops_sync",
            workflow_id=workflow_id,
            status="pending",
            progress={"unit": "resources"},
            input={
                **data.model_dump(mode="json"),
                "trigger": trigger,
                "ref": ref,
                "commit": commit,
            },
            cluster_id=None,
            started_by=user_id,
        )
    )
    await db.flush()  # the sync refers to its operation
    sync = GitSync(
        id=sync_id,
        org_id=repo.org_id,
        repo_id=repo.id,
        dedupe=dedupe[:128],
        trigger=trigger,
        ref=ref,
        commit=commit,
        author="",
        message="",
        status="pending",
        plan={},
        results=[],
        errors=[],
        warnings=[],
        operation_id=sync_id,
        requested_by=user_id,
    )
    db.add(sync)
    await db.flush()
    context = OperationContext(
        operation_id=str(sync_id),
        org_id=str(repo.org_id),
        user_id=str(user_id) if user_id else None,
        user_email=user_email,
        type="gitops_sync",
    )
    return NewSync(sync, workflow_id, context, data)
