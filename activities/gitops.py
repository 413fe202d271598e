"""GitOps sync activities: prepare a sync (fetch, load, plan, judge: ``gitops.prepare``), open its
one change request, begin an approved apply, and close a sync from its results. Applying each
environment's changes is ``activities.gitops_apply``.

Each is safe to retry: prepare rewrites the row from scratch until the sync has a verdict and
afterwards answers the stored verdict; the change request is opened once (under the sync's row
lock, its id kept on the row), its workflow start owed in the same transaction and delivered at
once (or by the API's outbox drainer); closing computes the status from the recorded results.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.gitops_audit import AuditOutbox, sync_audit
from core import outbox
from core.changes.judge import UsageUnknown
from core.changes.models import ApprovalTicket, ChangeSpec, ticket_context
from core.changes.requests import open_request
from core.clusters import ClusterNotFound
from core.db.gitops_models import GitRepository, GitSync
from core.db.models import ChangeRequestRow, OrganizationMember, User
from core.gitsync.models import GitSyncInput, OpenedRequest, Prepared, SyncEnd
from core.gitsync.rows import FINAL, requester_email, requester_id, status_of, unapplied
from core.jetstream.api import JetStreamUnavailable
from core.jetstream.pool import ClusterPool, ClusterUnreachable
from core.policy.models import Decision
from core.security import Cipher
from gitops import prepare, views
from gitops.git import GitError

APPROVAL_WORKFLOW = "ApprovalWorkflow"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _apply_order(sync: GitSync) -> tuple[list[str], int]:
    envs = (sync.plan or {}).get("environments") or {}
    with_changes = [env for env, plan in sorted(envs.items()) if plan.get("changes")]
    return with_changes, sum(len(envs[e]["changes"]) for e in with_changes)


def stored_verdict(sync: GitSync) -> Prepared:
    """The verdict a sync already has (a retried or repeated prepare answers it again)."""
    environments, total = _apply_order(sync)
    verdict = {"waiting_approval": "approval", "applying": "apply", "succeeded": "apply",
               "partially_applied": "apply"}.get(sync.status, sync.status)
    return Prepared(verdict=verdict, environments=environments, total=total, commit=sync.commit,
                    error=sync.error)


class GitOpsActivities:
    def __init__(self, sessions: async_sessionmaker, cipher: Cipher, pool: ClusterPool,
                 settings, audits: AuditOutbox):
        self.sessions, self.cipher, self.pool = sessions, cipher, pool
        self.settings, self.audits = settings, audits

    async def _requester(self, db: AsyncSession, sync: GitSync, repo: GitRepository
                         ) -> tuple[str, str, list[str]]:
        """(id, e-mail, roles) of who asks: the person behind a manual sync, else the repo."""
        if sync.requested_by is not None:
            row = (await db.execute(
                select(User.email, OrganizationMember.role)
                .join(OrganizationMember, OrganizationMember.user_id == User.id)
                .where(User.id == sync.requested_by, OrganizationMember.org_id == repo.org_id)
            )).first()
            if row is not None:
                return str(sync.requested_by), row.email, [row.role]
        return requester_id(repo), requester_email(repo), ["gitops"]

    async def _end(self, db: AsyncSession, sync: GitSync, verdict: str, status: str,
                   error: str | None = None) -> Prepared:
        sync.status, sync.error = status, error
        if status in FINAL:
            sync.finished_at = _now()
        await db.commit()
        environments, total = _apply_order(sync)
        return Prepared(verdict=verdict, environments=environments, total=total,
                        commit=sync.commit, error=error)

    @activity.defn(name="gitops_prepare")
    async def gitops_prepare(self, data: GitSyncInput) -> Prepared:
        async with self.sessions() as db:
            sync = await db.get(GitSync, uuid.UUID(data.sync_id))
            repo = await db.get(GitRepository, uuid.UUID(data.repo_id))
            if sync is None:
                raise ApplicationError(f"no sync {data.sync_id}", type="NotFound",
                                       non_retryable=True)
            if sync.status not in ("pending", "running"):
                return stored_verdict(sync)
            if repo is None:
                return await self._end(db, sync, "failed", "failed",
                                       "the repository was deleted before the sync ran")
            sync.status = "running"
            await db.commit()
            access = prepare.access_of(repo, self.cipher)
            ref = sync.commit or sync.ref or repo.branch
            try:
                commit, loaded = await prepare.load_commit(access, ref, self.settings, repo.path)
            except GitError as exc:
                return await self._end(db, sync, "failed", "failed", str(exc))
            sync.commit, sync.message = commit.sha, commit.message
            sync.author = f"{commit.author} <{commit.email}>" if commit.email else commit.author
            sync.errors, sync.warnings = list(loaded.errors), list(loaded.warnings)
            if loaded.errors:
                return await self._end(
                    db, sync, "failed", "failed",
                    f"{len(loaded.errors)} error(s) in the manifests at {commit.sha[:7]}; "
                    "nothing was applied")
            previous = await prepare.previous_resources(db, repo.id)
            try:
                envs, warnings = await prepare.plan_commit(db, self.pool, self.cipher, repo,
                                                           loaded, previous, data.only)
                who, email, roles = await self._requester(db, sync, repo)
                verdict = await prepare.judge_plan(
                    db, self.sessions, self.pool, self.cipher, repo, envs, requester_id=who,
                    requester_roles=roles, price_per_gb=self.settings.storage_price_per_gb)
            except ClusterNotFound as exc:
                return await self._end(db, sync, "failed", "failed",
                                       f"a cluster of the repository's environments is no "
                                       f"longer registered ({exc})")
            except (ClusterUnreachable, JetStreamUnavailable, UsageUnknown) as exc:
                await db.rollback()
                raise ApplicationError(f"a cluster did not answer: {exc}", type="Unreachable")
            sync.warnings = [*loaded.warnings, *warnings]
            sync.plan = prepare.stored_plan(envs, data.only)
            if verdict.outcome == "no_changes":
                repo.last_commit = commit.sha
                return await self._end(db, sync, "no_changes", "no_changes")
            if verdict.outcome == "rejected":
                return await self._end(db, sync, "rejected", "rejected",
                                       "Policy rejected this sync; nothing was applied: "
                                       + " ".join(verdict.reasons))
            if verdict.outcome == "approval":
                sync.plan = {**sync.plan, "approval": {
                    "decision": verdict.decision.model_dump(mode="json"),
                    "notes": verdict.notes, "environment": verdict.environment,
                    "team_id": str(verdict.team_id) if verdict.team_id else None,
                    "requester": [who, email]}}
                return await self._end(db, sync, "approval", "running")
            return await self._end(db, sync, "apply", "applying")

    @activity.defn(name="gitops_open_request")
    async def gitops_open_request(self, sync_id: str) -> OpenedRequest:
        """The sync's one change request (kind ``gitops_sync``, operation ``sync``)."""
        async with self.sessions() as db, db.begin():
            sync = await db.scalar(select(GitSync).where(GitSync.id == uuid.UUID(sync_id))
                                   .with_for_update())
            if sync.request_id is not None:
                row = await db.get(ChangeRequestRow, sync.request_id)
                return OpenedRequest(request_id=str(sync.request_id),
                                     operation_id=str(row.operation_id))
            repo = await db.get(GitRepository, sync.repo_id)
            approval = sync.plan["approval"]
            who, email = approval["requester"]
            changes = [c for env in sync.plan["environments"].values() for c in env["changes"]]
            clusters = {env["cluster_id"] for env in sync.plan["environments"].values()
                        if env["changes"]}
            spec = ChangeSpec(kind="gitops_sync", operation="sync",
                              cluster_id=uuid.UUID(next(iter(clusters))) if len(clusters) == 1
                              else None, name=repo.name,
                              config={"sync_id": str(sync.id), "repo_id": str(repo.id),
                                      "commit": sync.commit})
            ticket = ApprovalTicket(
                request_id=str(uuid.uuid5(sync.id, "change-request")), requester_id=who,
                requester_email=email, title=views.request_title(repo.name, sync.commit, changes),
                spec=spec, decision=Decision.model_validate(approval["decision"]))
            diff = {"summary": sync.plan["summary"], "text": sync.plan["diff"],
                    "commit": sync.commit, "author": sync.author, "message": sync.message,
                    "environments": sync.plan["environments"]}
            row, op = await open_request(
                db, org_id=repo.org_id, ticket=ticket, environment=approval["environment"],
                team_id=uuid.UUID(approval["team_id"]) if approval["team_id"] else None,
                diff=diff, risk_notes=approval["notes"])
            context = ticket_context(ticket, str(repo.org_id), str(op.id), op.type)
            start = outbox.owe_start(db, APPROVAL_WORKFLOW, op.workflow_id, [context, ticket],
                                     activity.info().task_queue)
            event = sync_audit(repo, sync, action="approval.request",
                               resource_type="change_request", resource_id=str(row.id),
                               resource_name=row.title, user=(who, email),
                               changes={"spec": row.spec, "decision": row.decision,
                                        "risk_notes": approval["notes"]})
            await self.audits.owe(db, event)
            sync.request_id, sync.status = row.id, "waiting_approval"
            opened = OpenedRequest(request_id=str(row.id), operation_id=str(op.id))
        await outbox.deliver_now(self.sessions, start,
                                 lambda entry: outbox.start_owed(activity.client(), entry))
        await self.audits.deliver(event)
        return opened

    @activity.defn(name="gitops_begin_apply")
    async def gitops_begin_apply(self, config: dict) -> Prepared:
        """An approved sync starts applying its stored plan (a repeated call continues it; one
        already over answers its verdict)."""
        async with self.sessions() as db:
            sync = await db.get(GitSync, uuid.UUID(str(config["sync_id"])))
            if sync is None:
                raise ApplicationError(f"no sync {config['sync_id']}", type="NotFound",
                                       non_retryable=True)
            if config.get("commit") and sync.commit and config["commit"] != sync.commit:
                raise ApplicationError("the approved commit is not the sync's", type="Refused",
                                       non_retryable=True)
            if sync.status == "waiting_approval":
                sync.status = "applying"
                await db.commit()
            if sync.status != "applying":
                return Prepared(verdict="failed", commit=sync.commit,
                                error=f"the sync is {sync.status.replace('_', ' ')}; nothing "
                                      "to apply")
            return stored_verdict(sync)

    @activity.defn(name="gitops_finish")
    async def gitops_finish(self, end: SyncEnd) -> str:
        """Close the sync: its status from the recorded results (a resource without one is
        skipped, or failed with its environment's error), the repository's last commit, and the
        audit event of the sync."""
        async with self.sessions() as db, db.begin():
            sync = await db.scalar(select(GitSync).where(GitSync.id == uuid.UUID(end.sync_id))
                                   .with_for_update())
            if sync.status in FINAL:
                return sync.status
            repo = await db.get(GitRepository, sync.repo_id)
            if end.error is not None and not (sync.plan or {}).get("environments"):
                sync.status, sync.error = "failed", end.error
            else:
                rest = unapplied(sync, "not applied: the sync was cancelled" if end.cancelled
                                 else "not applied")
                for result in rest:
                    if result["environment"] in end.env_errors:
                        result.update(status="failed",
                                      error=end.env_errors[result["environment"]])
                sync.results = [*(sync.results or []), *rest]
                sync.status = status_of(sync.results)
                if end.error or end.env_errors:
                    sync.error = end.error or "; ".join(f"{env}: {err}" for env, err
                                                        in sorted(end.env_errors.items()))
            sync.finished_at = _now()
            if repo is not None and sync.status in ("succeeded", "partially_applied"):
                repo.last_commit = sync.commit
            event = None
            if repo is not None:
                counts = {s: sum(r["status"] == s for r in sync.results or [])
                          for s in ("applied", "failed", "skipped")}
                event = sync_audit(repo, sync, action="gitops.sync.applied",
                                   resource_type="gitops_repo", resource_id=str(repo.id),
                                   resource_name=repo.name,
                                   changes={"sync_id": str(sync.id), "commit": sync.commit,
                                            "status": sync.status, **counts},
                                   failed=sync.status == "failed", error=sync.error)
                await self.audits.owe(db, event)
            status = sync.status
        if event is not None:
            await self.audits.deliver(event)
        return status
