"""Drift activities: scan a repository's environments against git (the last synced commit, or
the branch before any sync) and record what differs; open a revert of the open items as a sync
(through the change gate, like any sync) when the repository's policy says to revert."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.clusters import ClusterNotFound
from core.db.gitops_models import GitRepository, GitSync
from core.jetstream.api import JetStreamError, JetStreamUnavailable
from core.jetstream.pool import ClusterPool, ClusterUnreachable
from core.operations import OperationContext, workflow_id_for
from core.security import Cipher
from core.settings import Settings
from gitops.drift import find_drift
from gitops.drift_rows import mark_reverting, revertible, store_drift
from gitops.git import GitError
from gitops.jobs import DriftFound, DriftScan, GitSyncInput, RevertStart
from gitops.ownership import applied_by, managed_by
from gitops.planning import access_of, live_state, load_commit, repo_clusters
from gitops.sync_rows import add_sync

UNREADABLE = (ClusterUnreachable, JetStreamUnavailable, ClusterNotFound, JetStreamError)


def _now() -> datetime:
    return datetime.now(UTC)


def _reason(exc: Exception) -> str:
    return getattr(exc, "description", None) or str(exc) or type(exc).__name__


class GitOpsDriftActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: Cipher,
        pool: ClusterPool,
        settings: Settings,
    ):
        self.sessions, self.cipher, self.pool, self.settings = sessions, cipher, pool, settings

    async def _repo(self, db: AsyncSession, scan: DriftScan) -> GitRepository | None:
        return await db.scalar(
            select(GitRepository).where(
                GitRepository.id == uuid.UUID(scan.repo_id),
                GitRepository.org_id == uuid.UUID(scan.org_id),
            )
        )

    async def _failed(self, scan: DriftScan, commit: str | None, error: str) -> DriftFound:
        async with self.sessions() as db, db.begin():
            repo = await self._repo(db, scan)
            if repo is not None:
                repo.last_scan = {
                    **(repo.last_scan or {}),
                    "at": _now().isoformat(),
                    "commit": commit,
                    "error": error,
                }
        return DriftFound(error=error)

    @activity.defn(name="gitops_drift_scan")
    async def gitops_drift_scan(self, scan: DriftScan) -> DriftFound:
        """Compare git with every environment's cluster and record the drift. A tree that cannot
        be fetched or loaded changes no row (``last_scan.error`` says why); an environment whose
        cluster cannot be read keeps its rows, the others are recorded."""
        async with self.sessions() as db:
            repo = await self._repo(db, scan)
            if repo is None:
                return DriftFound(error="the repository no longer exists")
            clusters = await repo_clusters(db, repo)
            access, target = access_of(repo, self.cipher), repo.last_commit or repo.branch
            applied = await applied_by(db, repo.id)
            namespaces = list(repo.namespaces or [])
        try:
            tree = await load_commit(repo, access, target, self.settings)
        except GitError as exc:
            return await self._failed(scan, None, f"The repository cannot be read: {exc}")
        if tree.loaded.errors:
            return await self._failed(
                scan,
                tree.commit.sha,
                "The repository has errors "
                f"(first: {tree.loaded.errors[0]}); drift was not checked.",
            )
        started = _now()
        found, created, unread = {}, {}, []
        for env, cluster in sorted(clusters.items()):
            times: dict[str, Any] = {}
            try:
                live = await live_state(self.pool, self.cipher, cluster, created=times)
            except UNREADABLE as exc:
                unread.append(
                    f"environment {env}: its cluster {cluster.name} cannot be read "
                    f"({_reason(exc)}); its drift was not checked"
                )
                continue
            managed = managed_by(namespaces, applied.get(env, set()))
            found[env] = find_drift(tree.loaded.resources_by_env.get(env, []), live, managed)
            created[env] = times
        error = "; ".join(unread) or None
        async with self.sessions() as db, db.begin():
            repo = await self._repo(db, scan)
            if repo is None:
                return DriftFound(error="the repository no longer exists")
            now = _now()
            opened = await store_drift(
                db,
                repo,
                found,
                {e: c.id for e, c in clusters.items()},
                now,
                created=created,
                scan_started=started,
            )
            repo.last_scan = {
                "at": now.isoformat(),
                "commit": tree.commit.sha,
                "drift": opened,
                "error": error,
            }
            revert = await revertible(db, repo) if repo.on_drift == "revert" else []
        return DriftFound(open=opened, revert=revert, error=error)

    @activity.defn(name="gitops_drift_revert")
    async def gitops_drift_revert(self, scan: DriftScan, items: list[str]) -> RevertStart:
        """Open a sync of the last synced commit restricted to ``items``, and mark them
        reverting (once per scan: a retry finds the sync it opened)."""
        dedupe = f"drift-revert:{activity.info().workflow_run_id}"
        async with self.sessions() as db, db.begin():
            repo = await self._repo(db, scan)
            if repo is None:
                raise LookupError(f"the repository {scan.repo_id} is gone")
            opened = await db.scalar(
                select(GitSync).where(GitSync.repo_id == repo.id, GitSync.dedupe == dedupe)
            )
            if opened is not None:
                context = OperationContext(
                    operation_id=str(opened.id),
                    org_id=scan.org_id,
                    user_email=f"gitops:{repo.name}",
                    type="gitops_sync",
                )
                return RevertStart(
                    sync_id=str(opened.id),
                    workflow_id=workflow_id_for("gitops_sync", opened.id),
                    context=context,
                    data=GitSyncInput(sync_id=str(opened.id), repo_id=str(repo.id), only=items),
                )
            new = await add_sync(
                db,
                repo,
                trigger="drift_revert",
                ref=repo.branch,
                commit=repo.last_commit,
                dedupe=dedupe,
                user_email=f"gitops:{repo.name}",
                only=items,
            )
            await mark_reverting(db, repo.id, items, new.sync.id, "policy")
        return RevertStart(
            sync_id=str(new.sync.id),
            workflow_id=new.workflow_id,
            context=new.context,
            data=new.data,
        )
