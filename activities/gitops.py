"""GitOps sync activities: plan a sync (git + clusters + policy), open its one change request,
apply its stored plan. Each keeps the ``gitops_syncs`` row current and is safe to run again: a
retried plan returns what was decided; a retried apply skips what its results say is applied.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.audit_outbox import deliver_audit, owe_audit
from core.audit import AuditEvent
from core.changes.judge import Requester, UsageUnknown
from core.changes.models import ApprovalTicket, ChangeSpec, ticket_context
from core.changes.requests import open_request, ticket_of
from core.changes.summaries import owe_risk_summary
from core.clusters import endpoint
from core.db.gitops_models import GitRepository, GitSync
from core.db.models import ChangeRequestRow, NatsCluster, Operation
from core.events import EventPublisher
from core.jetstream.api import JetStreamError
from core.jetstream.pool import ClusterPool
from core.policy import Decision
from core.security import Cipher
from core.settings import Settings
from gitops.applying import apply_planned, dependency_of
from gitops.git import GitError
from gitops.jobs import Applied, OpenedRequest, Planned, SyncFailure, SyncRef
from gitops.ownership import applied_by
from gitops.planning import access_of, load_commit, plan_repo, repo_clusters
from gitops.verdict import judge_plan

# Where a stored sync status leaves a retried plan step.
_DECIDED = {
    "waiting_approval": "approval",
    "applying": "apply",
    "failed": "failed",
    "rejected": "rejected",
    "no_changes": "no_changes",
    "succeeded": "done",
    "partially_applied": "done",
}
AUDIT_TYPES = {
    "stream": "stream",
    "consumer": "consumer",
    "kv": "kv_store",
    "object_store": "object_store",
}


def _now() -> datetime:
    return datetime.now(UTC)


class GitOpsActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: Cipher,
        pool: ClusterPool,
        events: EventPublisher,
        settings: Settings,
    ):
        self.sessions, self.cipher, self.pool = sessions, cipher, pool
        self.events, self.settings = events, settings

    async def _rows(self, db: AsyncSession, ref: SyncRef) -> tuple[GitSync, GitRepository]:
        sync = await db.scalar(
            select(GitSync).where(
                GitSync.id == uuid.UUID(ref.sync_id), GitSync.org_id == uuid.UUID(ref.org_id)
            )
        )
        repo = await db.get(GitRepository, sync.repo_id) if sync is not None else None
        if sync is None or repo is None:
            raise ApplicationError(
                f"The sync {ref.sync_id} or its repository no longer exists.",
                type="NotFound",
                non_retryable=True,
            )
        return sync, repo

    # --- plan -----------------------------------------------------------------------------------
    @activity.defn(name="gitops_plan")
    async def gitops_plan(self, ref: SyncRef) -> Planned:
        """Fetch, load, validate, plan and judge; store it all on the sync."""
        async with self.sessions() as db, db.begin():
            sync, repo = await self._rows(db, ref)
            if sync.status in _DECIDED:
                return Planned(
                    outcome=_DECIDED[sync.status],
                    summary=(sync.plan or {}).get("summary", ""),
                    error=sync.error,
                )
            sync.status = "running"
            clusters = await repo_clusters(db, repo)
            target = sync.commit or sync.ref or repo.branch
            access = access_of(repo, self.cipher)
            applied = await applied_by(db, repo.id)
        try:
            tree = await load_commit(repo, access, target, self.settings)
        except GitError as exc:
            return await self._close(ref, "failed", str(exc))
        planned = await plan_repo(
            repo, clusters, tree, self.pool, self.cipher, only=ref.only, applied=applied
        )
        doc = planned.doc()
        async with self.sessions() as db, db.begin():
            sync, repo = await self._rows(db, ref)
            commit = tree.commit  # the plan's (plan_repo plans the loaded tree's commit)
            sync.commit, sync.author = commit.sha, f"{commit.author} <{commit.email}>"
            sync.message, sync.plan = commit.message[:10_000], doc
            sync.errors, sync.warnings = planned.errors, planned.warnings
        if planned.errors:
            return await self._close(
                ref,
                "failed",
                f"The repository at {commit.sha[:12]} has "
                f"{len(planned.errors)} error(s); nothing was applied. "
                f"First: {planned.errors[0]}",
            )
        if not any(env["changes"] for env in planned.environments.values()):
            return await self._close(ref, "no_changes", None, summary=doc["summary"])
        return await self._judge(ref, planned.environments, clusters, doc)

    async def _judge(
        self,
        ref: SyncRef,
        environments: dict[str, Any],
        clusters: dict[str, Any],
        doc: dict[str, Any],
    ) -> Planned:
        async with self.sessions() as db:
            sync, repo = await self._rows(db, ref)
            requester = Requester(
                org_id=repo.org_id,
                user_id=str(sync.requested_by or ""),
                roles=["gitops"],
                exempt=True,
            )  # repositories are org-wide
            try:
                verdict = await judge_plan(
                    db,
                    self.sessions,
                    self.pool,
                    self.cipher,
                    self.settings.storage_price_per_gb,
                    requester,
                    environments,
                    clusters,
                )
            except UsageUnknown as exc:
                raise ApplicationError(str(exc), type="UsageUnknown") from None
        if verdict.outcome == "rejected":
            return await self._close(
                ref,
                "rejected",
                "Refused by policy: " + " ".join(verdict.reasons),
                summary=doc["summary"],
            )
        async with self.sessions() as db, db.begin():
            sync, _ = await self._rows(db, ref)
            if verdict.outcome == "apply":
                sync.status = "applying"
            else:
                decision = verdict.decision
                sync.plan = {
                    **doc,
                    "approval": {
                        "decision": decision.model_dump(mode="json") if decision else None,
                        "reasons": verdict.reasons,
                        "risk_notes": verdict.risk_notes,
                        "environment": verdict.environment,
                    },
                }
        return Planned(outcome=verdict.outcome, summary=doc["summary"])

    async def _close(
        self, ref: SyncRef, status: str, error: str | None, *, summary: str = ""
    ) -> Planned:
        async with self.sessions() as db, db.begin():
            sync, repo = await self._rows(db, ref)
            sync.status, sync.error, sync.finished_at = status, error, _now()
            if status == "no_changes" and sync.commit:
                repo.last_commit = sync.commit
        return Planned(outcome=status, summary=summary, error=error)

    # --- one change request for the whole commit ------------------------------------------------
    @activity.defn(name="gitops_open_request")
    async def gitops_open_request(self, ref: SyncRef) -> OpenedRequest:
        async with self.sessions() as db, db.begin():
            sync, repo = await self._rows(db, ref)
            if sync.request_id is not None:  # a retry: the request is open already
                opened = await db.get(ChangeRequestRow, sync.request_id)
                op_row = await db.get(Operation, opened.operation_id) if opened else None
                if opened is None or op_row is None:
                    raise LookupError(f"the change request {sync.request_id} of the sync is gone")
                row, op, ticket = opened, op_row, ticket_of(opened)
            else:
                row, op, ticket = await self._open(db, sync, repo, ref)
            context = ticket_context(ticket, ref.org_id, str(op.id), op.type)
            entries = await owe_audit(
                db,
                [
                    AuditEvent(
                        id=uuid.uuid5(row.id, "approval.request"),
                        org_id=repo.org_id,
                        user_id=sync.requested_by,
                        user_email=ticket.requester_email,
                        action="approval.request",
                        resource_type="change_request",
                        resource_id=str(row.id),
                        resource_name=row.title,
                        changes={
                            "sync_id": str(sync.id),
                            "commit": sync.commit,
                            "decision": row.decision,
                            "risk_notes": row.risk_notes,
                        },
                    )
                ],
            )
            result = OpenedRequest(
                request_id=str(row.id), context=context, ticket=ticket, workflow_id=op.workflow_id
            )
        await deliver_audit(self.sessions, self.events, entries)
        return result

    async def _open(
        self, db: AsyncSession, sync: GitSync, repo: GitRepository, ref: SyncRef
    ) -> tuple[ChangeRequestRow, Operation, ApprovalTicket]:
        approval = sync.plan["approval"]
        first_cluster = next(iter((repo.environments or {}).values()), None)
        short = (sync.commit or "")[:7]
        spec = ChangeSpec(
            kind="gitops_sync",
            operation="sync",
            cluster_id=uuid.UUID(first_cluster) if first_cluster else None,
            name=repo.name,
            config={"sync_id": str(sync.id), "repo_id": str(repo.id), "commit": sync.commit},
        )
        ticket = ApprovalTicket(
            request_id=str(uuid.uuid4()),
            requester_id=str(sync.requested_by or ""),
            requester_email=ref.user_email or f"gitops:{repo.name}",
            title=f"Sync {repo.name} @ {short}: {sync.plan['summary']}"[:512],
            spec=spec,
            decision=Decision.model_validate(approval["decision"]),
        )
        row, op = await open_request(
            db,
            org_id=repo.org_id,
            ticket=ticket,
            environment=approval.get("environment"),
            team_id=None,
            diff=_request_diff(sync.plan["environments"]),
            risk_notes=approval.get("risk_notes", []),
            justification=f"{sync.message}\n\n{sync.plan['diff']}"[:20_000],
        )
        sync.request_id, sync.status = row.id, "waiting_approval"
        # the assistant's risk summary, when a model is configured: the API's drainer starts it
        owe_risk_summary(db, self.settings, row.id, repo.org_id)
        return row, op, ticket

    # --- apply ----------------------------------------------------------------------------------
    @activity.defn(name="gitops_apply")
    async def gitops_apply(self, ref: SyncRef) -> Applied:
        """Apply the stored plan in order, recording each resource's result as it happens."""
        async with self.sessions() as db, db.begin():
            sync, repo = await self._rows(db, ref)
            if sync.status in ("succeeded", "partially_applied", "failed") and sync.finished_at:
                return _applied_of(sync)
            sync.status = "applying"
            clusters = await repo_clusters(db, repo)
            environments = (sync.plan or {}).get("environments", {})
            results: list[dict[str, Any]] = list(sync.results or [])
        done = {(r["environment"], r["resource"]) for r in results if r["status"] == "applied"}
        failed = {(r["environment"], r["resource"]) for r in results if r["status"] != "applied"}
        total = sum(len(p["changes"]) for p in environments.values())
        for env, planned in environments.items():
            cluster = clusters.get(env)
            js = await self.pool.jetstream(endpoint(self.cipher, cluster)) if cluster else None
            for change in planned["changes"]:
                key = (env, change["resource"])
                if key in done:
                    continue
                result = {
                    "environment": env,
                    "resource": change["resource"],
                    "action": change["action"],
                    "source": change.get("source", ""),
                }
                dependency = dependency_of(change)
                applied_info: dict[str, Any] | None = None
                if cluster is None or js is None:  # (js is None exactly when cluster is)
                    result.update(
                        status="failed",
                        error=f"environment {env}'s cluster is no longer registered",
                    )
                elif dependency and (env, dependency) in failed:
                    result.update(status="skipped", error=f"{dependency} was not applied")
                else:
                    try:
                        applied_info = await apply_planned(js, str(cluster.id), change)
                        result["status"] = "applied"
                    except JetStreamError as exc:
                        result.update(
                            status="failed", error=f"the cluster refused it: {exc.description}"
                        )
                if result["status"] != "applied":
                    failed.add(key)
                results = [r for r in results if (r["environment"], r["resource"]) != key]
                results.append(result)
                await self._record_result(ref, results, env, cluster, change, result, applied_info)
                # the operation's progress (GET /operations/{id} reads it while this runs)
                activity.heartbeat({"done": len(results), "total": total})
        return await self._finish_apply(ref, results)

    @activity.defn(name="gitops_fail")
    async def gitops_fail(self, failure: SyncFailure) -> str:
        """Close a sync whose workflow gave up on a step: ``failed`` with the error, or
        ``partially_applied`` when some resources were applied (its results say which); a sync
        already over is left as it is."""
        async with self.sessions() as db, db.begin():
            sync, _ = await self._rows(db, failure.ref)
            if sync.finished_at is not None:
                return sync.status
            applied = any(r.get("status") == "applied" for r in sync.results or [])
            sync.status = "partially_applied" if applied else "failed"
            sync.error, sync.finished_at = failure.error[:4000], _now()
            return sync.status

    async def _record_result(
        self,
        ref: SyncRef,
        results: list[dict[str, Any]],
        env: str,
        cluster: NatsCluster | None,
        change: dict[str, Any],
        result: dict[str, Any],
        info: dict[str, Any] | None,
    ) -> None:
        async with self.sessions() as db, db.begin():
            sync, repo = await self._rows(db, ref)
            sync.results = list(results)
            entries = []
            if result["status"] == "applied" and cluster is not None:  # applied: it has one
                entries = await owe_audit(db, [_change_event(sync, repo, env, cluster, change)])
        await deliver_audit(self.sessions, self.events, entries)

    async def _finish_apply(self, ref: SyncRef, results: list[dict[str, Any]]) -> Applied:
        async with self.sessions() as db, db.begin():
            sync, repo = await self._rows(db, ref)
            applied = sum(r["status"] == "applied" for r in results)
            bad = [r for r in results if r["status"] == "failed"]
            status = (
                "succeeded"
                if not bad and applied == len(results)
                else "partially_applied"
                if applied
                else "failed"
            )
            sync.status, sync.finished_at, sync.results = status, _now(), results
            sync.error = (
                "; ".join(f"{r['environment']}: {r['resource']}: {r['error']}" for r in bad)[:4000]
                or None
            )
            if status == "succeeded":
                repo.last_commit = sync.commit
            entries = await owe_audit(
                db,
                [
                    AuditEvent(
                        id=uuid.uuid5(sync.id, "gitops.sync"),
                        org_id=repo.org_id,
                        user_id=sync.requested_by,
                        user_email=f"gitops:{repo.name}",
                        action="gitops.sync",
                        resource_type="gitops_repo",
                        resource_id=str(repo.id),
                        resource_name=repo.name,
                        status="success" if status == "succeeded" else "failure",
                        error_message=sync.error,
                        changes={
                            "sync_id": str(sync.id),
                            "commit": sync.commit,
                            "status": status,
                            "results": results,
                        },
                    )
                ],
            )
            out = _applied_of(sync)
        await deliver_audit(self.sessions, self.events, entries)
        return out


def _applied_of(sync: GitSync) -> Applied:
    results = sync.results or []
    return Applied(
        status=sync.status,
        applied=sum(r["status"] == "applied" for r in results),
        failed=sum(r["status"] == "failed" for r in results),
        skipped=sum(r["status"] == "skipped" for r in results),
        error=sync.error,
    )


def _change_event(
    sync: GitSync, repo: GitRepository, env: str, cluster: NatsCluster, change: dict[str, Any]
) -> AuditEvent:
    """The audit event of one applied change, as the API writes a person's (same action and
    resource), acting for the repository."""
    operation = {"replace": "update"}.get(change["action"], change["action"])
    kind = AUDIT_TYPES[change["kind"]]
    path = f"{change['stream']}/{change['name']}" if change["stream"] else change["name"]
    return AuditEvent(
        id=uuid.uuid5(sync.id, f"{env}:{change['resource']}"),
        org_id=repo.org_id,
        user_id=sync.requested_by,
        user_email=f"gitops:{repo.name}",
        action=f"{kind}.{'create' if change['action'] == 'replace' else operation}",
        resource_type=kind,
        resource_id=f"{cluster.id}/{path}",
        resource_name=change["name"],
        cluster_id=cluster.id,
        changes={
            "sync_id": str(sync.id),
            "commit": sync.commit,
            "environment": env,
            "action": change["action"],
            "fields": change["fields"],
            "after": change["config"],
        },
    )


def _request_diff(environments: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The change request's diff, one entry per field as approvers read diffs (before → after)."""
    out: dict[str, Any] = {}
    for env, planned in environments.items():
        for change in planned["changes"]:
            label = f"{env}: {change['action']} {change['resource']}"
            if change["action"] == "delete" or not change["fields"]:
                out[label] = {
                    "before": "exists" if change["action"] != "create" else None,
                    "after": None if change["action"] == "delete" else "recreated",
                }
            for f in change["fields"]:
                out[f"{label}: {f['field']}"] = {"before": f["before"], "after": f["after"]}
    return out
