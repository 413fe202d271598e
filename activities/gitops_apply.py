"""Applying one environment of a sync's stored plan, resource by resource in the plan's order
(streams, KV buckets, object stores, consumers; deletions last).

Each resource is a step of its own: ``gitops.apply.apply`` reads its live state first and
converges it (so a retried activity after a worker crash does not fail on "already exists"),
then its result (``applied``, ``failed`` with the server's own words, ``skipped``) and its audit
event are committed together, before the next resource starts: a crash mid-apply leaves an exact
record, and the retry skips what is recorded. A stream, bucket or store that failed stops its
consumers (``skipped``), nothing else. A cluster that cannot be reached fails the attempt (the
workflow retries it; what was recorded stays). Progress is heartbeated as
``{done, total}`` over the whole sync.
"""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.gitops_audit import AuditOutbox, sync_audit
from core.audit import config_diff
from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.db.gitops_models import GitRepository, GitSync
from core.db.models import StreamConfig as StreamConfigRow
from core.gitsync.models import Applied, ApplyEnvironment
from core.gitsync.rows import record_result
from core.jetstream.api import JetStreamError
from core.jetstream.pool import ClusterPool
from core.replication.forget import forget_mirror
from core.security import Cipher
from gitops.apply import NotApproved, apply
from gitops.views import AUDIT_TYPES

STORED = ("stream", "kv", "object_store")


def _resource_id(cluster_id: uuid.UUID, change: dict) -> str:
    if change["kind"] == "consumer":
        return f"{cluster_id}/{change['stream']}/{change['name']}"
    return f"{cluster_id}/{change['name']}"


class GitOpsApplyActivities:
    def __init__(self, sessions: async_sessionmaker, cipher: Cipher, pool: ClusterPool,
                 audits: AuditOutbox):
        self.sessions, self.cipher, self.pool, self.audits = sessions, cipher, pool, audits

    @activity.defn(name="gitops_apply")
    async def gitops_apply(self, data: ApplyEnvironment) -> Applied:
        sync_id = uuid.UUID(data.sync_id)
        async with self.sessions() as db:
            sync = await db.get(GitSync, sync_id)
            repo = await db.get(GitRepository, sync.repo_id)
            plan = sync.plan["environments"][data.environment]
            desired = (sync.plan.get("desired") or {}).get(data.environment) or {}
            recorded = {r["resource"]: r for r in sync.results or []
                        if r.get("environment") == data.environment}
            cluster_id = uuid.UUID(plan["cluster_id"])
            try:
                cluster = await get_cluster(db, repo.org_id, cluster_id)
            except ClusterNotFound:
                raise ApplicationError(f"the cluster of environment '{data.environment}' is no "
                                       "longer registered", type="ClusterNotFound",
                                       non_retryable=True)
            target = endpoint(self.cipher, cluster)
        js = await self.pool.jetstream(target)
        outcome = Applied()
        stopped: set[str] = set()  # streams whose own change did not apply
        for index, change in enumerate(plan["changes"]):
            activity.heartbeat({"done": data.done_before + index, "total": data.total})
            ref = change["resource"]
            result = recorded.get(ref)
            if result is None:
                result = await self._step(js, sync, repo, cluster_id, data.environment, change,
                                          desired.get(ref), stopped)
            if result["status"] != "applied" and change["kind"] in STORED \
                    and change["action"] != "delete":
                stopped.add(f"KV_{change['name']}" if change["kind"] == "kv" else
                            f"OBJ_{change['name']}" if change["kind"] == "object_store"
                            else change["name"])
            setattr(outcome, result["status"], getattr(outcome, result["status"]) + 1)
        activity.heartbeat({"done": data.done_before + len(plan["changes"]), "total": data.total})
        return outcome

    async def _step(self, js, sync: GitSync, repo: GitRepository, cluster_id: uuid.UUID,
                    environment: str, change: dict, desired: dict | None,
                    stopped: set[str]) -> dict:
        """Apply one resource and commit its result with its audit event."""
        result = {"environment": environment, "resource": change["resource"],
                  "action": change["action"]}
        before = after = None
        if change["kind"] == "consumer" and change.get("stream") in stopped \
                and change["action"] != "delete":
            result.update(status="skipped",
                          error=f"stream {change['stream']} was not applied")
        else:
            try:
                done, before, after = await apply(js, cluster_id, change, desired)
                result.update(status="applied", detail=done)
            except JetStreamError as exc:
                result.update(status="failed", error=f"the cluster refused: {exc.description}")
            except NotApproved as exc:
                result.update(status="failed", error=str(exc))
        event = None
        async with self.sessions() as db, db.begin():
            if not await record_result(db, sync.id, result):
                return result  # recorded by an earlier attempt
            if result["status"] != "skipped":
                event = sync_audit(
                    repo, sync, action=f"{AUDIT_TYPES[change['kind']]}.{change['action']}",
                    resource_type=AUDIT_TYPES[change["kind"]],
                    resource_id=_resource_id(cluster_id, change), resource_name=change["name"],
                    cluster_id=cluster_id, failed=result["status"] == "failed",
                    error=result.get("error"),
                    changes={"environment": environment, "before": before, "after": after,
                             "fields": change.get("fields") or [],
                             "diff": config_diff(before, after) if before and after else {}})
                await self.audits.owe(db, event)
            if result["status"] == "applied" and change["kind"] == "stream":
                await self._snapshot(db, cluster_id, change, after)
        if event is not None:
            await self.audits.deliver(event)
        if result["status"] == "applied" and change["kind"] == "stream" \
                and change["action"] == "delete":
            async with self.sessions() as db:
                await forget_mirror(db, self.pool, self.cipher, repo.org_id, cluster_id,
                                    change["name"])
        return result

    async def _snapshot(self, db, cluster_id: uuid.UUID, change: dict, after: dict | None) -> None:
        """Keep the last config the console applied, as the streams route does."""
        if change["action"] == "delete" or not isinstance(after, dict):
            return
        stmt = insert(StreamConfigRow).values(
            id=uuid.uuid4(), cluster_id=cluster_id, stream_name=change["name"],
            config_snapshot=after, created_by=None, is_managed=True, tags={})
        await db.execute(stmt.on_conflict_do_update(
            index_elements=["cluster_id", "stream_name"], set_={"config_snapshot": after}))
