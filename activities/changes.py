"""Change activities: apply an approved change (the same ``apply_change`` as the API's direct
path, or a team's new quota) and keep the ``change_requests`` row current."""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core import quotas
from core.changes import requests
from core.changes.execute import apply_change
from core.changes.models import ApplyRequest, ChangeResult, RequestUpdate
from core.clusters import ClusterNotFound, endpoint, get_cluster
from core.db.models import Operation
from core.jetstream.api import JetStreamError
from core.jetstream.pool import ClusterPool
from core.operations import request_operation_id, workflow_id_for
from core.replication.forget import forget_mirror
from core.security import Cipher

T = TypeVar("T")

# Changes that run as operations of their own once approved (the approval workflow starts them).
OPERATION_KINDS = ("replay", "mirror", "failover", "restore", "gitops_sync")


class ChangeActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: Cipher, pool: ClusterPool
    ):
        self.sessions, self.cipher, self.pool = sessions, cipher, pool

    @activity.defn(name="apply_change")
    async def apply_change(self, data: ApplyRequest) -> ChangeResult:
        """A stream, consumer, bucket, store or purge change is applied here; a quota is set; a
        replay, mirror or failover gets its operation row, and the approval workflow then starts
        it as a child."""
        spec = data.spec
        if spec.kind in OPERATION_KINDS:
            return await self._open_operation(data)
        if spec.kind == "quota":
            async with self.sessions() as db, db.begin():
                changed = await quotas.set_limit(
                    db,
                    _named(spec.team_id, "team_id"),
                    _named(spec.quota_resource, "quota_resource"),
                    spec.requested_limit,
                    reason="requested",
                    actor_id=uuid.UUID(data.actor_id) if data.actor_id else None,
                    actor_email=data.actor_email,
                    request_id=uuid.UUID(data.request_id),
                )
            return ChangeResult(
                detail={
                    "team_id": str(spec.team_id),
                    "resource": spec.quota_resource,
                    "limit": spec.requested_limit,
                    "changed": changed,
                }
            )
        async with self.sessions() as db:
            try:
                cluster = await get_cluster(
                    db, uuid.UUID(data.org_id), _named(spec.cluster_id, "cluster_id")
                )
            except ClusterNotFound as exc:
                raise ApplicationError(
                    f"The cluster {spec.cluster_id} is no longer registered.",
                    type="ClusterNotFound",
                    non_retryable=True,
                ) from exc
            target = endpoint(self.cipher, cluster)
        js = await self.pool.jetstream(target)
        try:
            info = await apply_change(js, spec)
        except JetStreamError as exc:  # the server refused: retrying will not change its mind
            raise ApplicationError(
                f"The cluster refused the change: {exc.description}",
                type="Refused",
                non_retryable=True,
            ) from exc
        if spec.kind == "stream" and spec.operation == "delete":
            await self._forget_mirror(
                uuid.UUID(data.org_id), _named(spec.cluster_id, "cluster_id"), spec.name
            )
        return ChangeResult(detail={"applied": info})

    async def _forget_mirror(self, org_id: uuid.UUID, cluster_id: uuid.UUID, stream: str) -> None:
        async with self.sessions() as db:
            await forget_mirror(db, self.pool, self.cipher, org_id, cluster_id, stream)

    async def _open_operation(self, data: ApplyRequest) -> ChangeResult:
        kind = data.spec.kind
        op_id = request_operation_id(data.request_id, kind)
        workflow_id = workflow_id_for(kind, op_id)
        async with self.sessions() as db, db.begin():
            await db.execute(
                insert(Operation)
                .values(
                    id=op_id,
                    org_id=uuid.UUID(data.org_id),
                    type=kind,
                    workflow_id=workflow_id,
                    status="pending",
                    progress={},
                    input=data.spec.config,
                    cluster_id=data.spec.cluster_id,
                    started_by=uuid.UUID(data.actor_id) if data.actor_id else None,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
        return ChangeResult(detail={"operation_id": str(op_id), "workflow_id": workflow_id})

    @activity.defn(name="record_change_request")
    async def record_change_request(self, change: RequestUpdate) -> None:
        async with self.sessions() as db:
            await requests.record(db, change)


def _named(value: T | None, field: str) -> T:
    """A field every change of its kind names (the API checked it): without it the change cannot
    be applied, by any retry."""
    if value is None:
        raise ApplicationError(f"The change names no {field}.", type="Refused", non_retryable=True)
    return value
