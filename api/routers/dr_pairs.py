"""Disaster-recovery pairs: which streams of a primary cluster are protected by which mirrors on a
standby, with the team's RPO and RTO. Creating a pair can create the mirrors that are missing, in
one ``MirrorWorkflow`` for all of them (through the change gate as a mirror creation on the
standby: a production standby waits for approval). Deleting a pair keeps its mirrors.

A stream counts as protected when the standby has a stream of the mirror's name that mirrors it
(the console's or not); a standby stream of that name that is something else is a refusal
(409, naming it). Every refusal comes before anything is created.

The pair's active side is announced from the start: creating it writes its key in the
``jsc_dr_active`` bucket of both clusters (the primary active, epoch 0: ``core.replication.
active_side``), so a client that follows the key can start before any failover; the answer's
``announced`` says on which cluster it could be written (best effort: a pair recorded without
making mirrors, ``create_missing_mirrors: false``, does not need its standby to be reachable).
Deleting the pair purges its key on both clusters, where they can be reached."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.change_gate import ApprovalPending, gate_change
from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError
from api.mirror_checks import Ends, reach, require_link, require_source, stream_info
from api.mirror_jobs import start_mirror_job
from api.replication_schemas import (
    DrPairCreated,
    DrPairIn,
    DrPairOut,
    DrPairPatch,
    pair_out,
    stored_streams,
)
from core.changes.models import ChangeSpec
from core.clusters import endpoint
from core.db.models import DrPair, NatsCluster
from core.jetstream.api import JetStreamApi, JetStreamError, JetStreamUnavailable
from core.jetstream.pool import ClusterUnreachable
from core.replication import active_side, rows
from core.replication.links import is_mirror_of
from core.replication.models import MirrorJob, MirrorRequest

router = APIRouter(prefix="/api/v1/dr/pairs", tags=["dr"])
KV_TIMEOUT_S = 10  # writing or purging the pair's key on one cluster, connection included


async def _missing(db: Db, ends: Ends, body: DrPairIn) -> list[MirrorRequest]:
    """The mirrors the pair lacks; 404 for a primary stream that does not exist, 409 for a
    standby stream of a mirror's name that is not a mirror of it."""
    missing = []
    for item in body.streams:
        await require_source(ends, item.stream)
        standby = await stream_info(ends.target_js, item.standby_name)
        if standby is not None:
            if not is_mirror_of(standby, item.stream, ends.path):
                raise ProblemError(
                    409,
                    f"The stream '{item.standby_name}' already exists on cluster "
                    f"'{ends.target.name}' and is not a mirror of '{item.stream}' of "
                    f"cluster '{ends.source.name}': name another 'mirror_stream'.",
                    stream=item.standby_name,
                )
            continue
        if claimed := await rows.live_claim(db, ends.target.id, item.standby_name):
            raise ProblemError(
                409,
                f"The stream '{item.standby_name}' on cluster "
                f"'{ends.target.name}' is being made: {claimed}.",
                stream=item.standby_name,
            )
        missing.append(
            MirrorRequest(
                source_cluster_id=ends.source.id,
                source_stream=item.stream,
                target_cluster_id=ends.target.id,
                target_stream=item.standby_name,
                description=f"DR pair '{body.name}': mirror of {item.stream}",
            )
        )
    return missing


@router.post("", status_code=201, response_model=DrPairCreated)
async def create_pair(
    body: DrPairIn,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("replication:create")),
):
    """Record the pair; with ``create_missing_mirrors``, start one operation that creates the
    missing mirrors (``operation_id``; ``approval`` when a production standby makes it wait).
    The pair's active side (its primary, epoch 0) is written on both clusters: ``announced``
    says where it was, ``announce_errors`` why not elsewhere."""
    ends = await reach(
        db,
        svc,
        principal,
        body.primary_cluster_id,
        body.standby_cluster_id,
        target_optional=not body.create_missing_mirrors,
    )
    if await db.scalar(
        select(DrPair.id).where(DrPair.org_id == principal.org_id, DrPair.name == body.name)
    ):
        raise ProblemError(409, f"A DR pair named '{body.name}' already exists.", name=body.name)
    if body.create_missing_mirrors:
        missing = await _missing(db, ends, body)
    else:
        missing = []
        for item in body.streams:
            await require_source(ends, item.stream)
    if missing:
        await require_link(ends, missing[0].source_stream)
    pair = DrPair(
        id=uuid.uuid4(),
        org_id=principal.org_id,
        name=body.name,
        description=body.description,
        primary_cluster_id=ends.source.id,
        standby_cluster_id=ends.target.id,
        active_cluster_id=ends.source.id,
        streams=stored_streams(body.streams),
        rpo_seconds=body.rpo_seconds,
        rto_seconds=body.rto_seconds,
        created_by=principal.user_id,
    )
    db.add(pair)
    try:
        await db.flush()
    except IntegrityError as exc:
        raise ProblemError(
            409, f"A DR pair named '{body.name}' already exists.", name=body.name
        ) from exc
    operation_id, approval = None, None
    if missing:
        operation_id, approval = await _make_mirrors(
            request, db, svc, principal, ends, pair, missing
        )
    announced, announce_errors = await _announce(ends, pair)
    await audit(
        request,
        principal,
        action="dr_pair.create",
        resource_type="dr_pair",
        resource_id=str(pair.id),
        resource_name=pair.name,
        cluster_id=pair.primary_cluster_id,
        changes={
            "after": body.model_dump(mode="json"),
            "operation_id": str(operation_id) if operation_id else None,
            "missing_mirrors": [m.target_stream for m in missing],
            "announced": announced,
            "announce_errors": announce_errors,
        },
        db=db,
    )
    await db.refresh(pair)
    return DrPairCreated(
        **pair_out(pair).model_dump(),
        operation_id=operation_id,
        missing_mirrors=[m.target_stream for m in missing],
        approval=approval,
        announced=announced,
        announce_errors=announce_errors,
    )


async def _announce(ends: Ends, pair: DrPair) -> tuple[dict[str, bool], dict[str, str]]:
    """The pair's first active side on both clusters, each as far as it can be written."""
    side = active_side.first(
        str(pair.id),
        pair.name,
        str(ends.source.id),
        ends.source.jetstream_domain,
        [s["stream"] for s in pair.streams],
    )

    async def write(js: JetStreamApi | None, unreachable: str | None) -> str | None:
        if js is None:
            return f"the cluster cannot be reached ({unreachable})"
        try:
            await asyncio.wait_for(active_side.announce(js, str(pair.id), side), KV_TIMEOUT_S)
            return None
        except TimeoutError:
            return f"no answer within {KV_TIMEOUT_S} s"
        except (JetStreamError, JetStreamUnavailable) as exc:
            return str(exc)

    clusters = [str(ends.source.id), str(ends.target.id)]
    errors = await asyncio.gather(
        write(ends.source_js, None), write(ends.target_js, ends.target_error)
    )
    return (
        {c: e is None for c, e in zip(clusters, errors, strict=False)},
        {c: e for c, e in zip(clusters, errors, strict=False) if e is not None},
    )


async def _make_mirrors(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    ends: Ends,
    pair: DrPair,
    missing: list[MirrorRequest],
) -> tuple[uuid.UUID, ApprovalPending | None]:
    job = MirrorJob(
        mirrors=missing, mirror_ids=[str(uuid.uuid4()) for _ in missing], pair_id=str(pair.id)
    )
    spec = ChangeSpec(
        kind="mirror",
        operation="create",
        cluster_id=ends.target.id,
        name=pair.name,
        config=job.model_dump(mode="json"),
    )
    pending = await gate_change(
        request, db, svc, principal, ends.target, spec, permission="replication:create"
    )
    if pending is not None:  # the pair was committed with the request; the mirrors wait
        approval = ApprovalPending.model_validate_json(pending.body)
        return approval.operation_id, approval
    op_id = uuid.uuid4()
    await start_mirror_job(
        request,
        db,
        svc,
        principal,
        job,
        operation_id=op_id,
        cluster_id=ends.target.id,
        audit_changes={"pair_id": str(pair.id)},
    )
    return op_id, None


@router.get("", response_model=dict[str, list[DrPairOut]])
async def list_pairs(db: Db, principal: Principal = Depends(require("replication:read"))):
    found = await db.scalars(
        select(DrPair).where(DrPair.org_id == principal.org_id).order_by(DrPair.name)
    )
    return {"items": [pair_out(p) for p in found]}


async def _load(db: Db, principal: Principal, pair_id: uuid.UUID) -> DrPair:
    pair = await db.scalar(
        select(DrPair).where(DrPair.id == pair_id, DrPair.org_id == principal.org_id)
    )
    if pair is None:
        raise ProblemError(404, f"No DR pair with id {pair_id} in your organization.")
    return pair


@router.get("/{pair_id}", response_model=DrPairOut)
async def read_pair(
    pair_id: uuid.UUID, db: Db, principal: Principal = Depends(require("replication:read"))
):
    return pair_out(await _load(db, principal, pair_id))


@router.patch("/{pair_id}", response_model=DrPairOut)
async def update_pair(
    pair_id: uuid.UUID,
    body: DrPairPatch,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("replication:update")),
):
    """Change the description, the objectives or the streams (no mirror is made here)."""
    pair = await _load(db, principal, pair_id)
    before = pair_out(pair).model_dump(mode="json")
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "streams" in changes:
        pair.streams = stored_streams(body.streams)
    for field in ("description", "rpo_seconds", "rto_seconds"):
        if field in changes:
            setattr(pair, field, changes[field])
    await db.flush()
    await db.refresh(pair)
    after = pair_out(pair)
    await audit(
        request,
        principal,
        action="dr_pair.update",
        resource_type="dr_pair",
        resource_id=str(pair.id),
        resource_name=pair.name,
        cluster_id=pair.primary_cluster_id,
        changes={"before": before, "after": after.model_dump(mode="json")},
        db=db,
    )
    return after


@router.delete("/{pair_id}", status_code=204, response_class=Response)
async def delete_pair(
    pair_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("replication:delete")),
):
    """Forget the pair; its mirrors stay (and replicate) as they are. Its key in the
    ``jsc_dr_active`` bucket is purged on both clusters, where they can be reached (the audit
    event says which)."""
    pair = await _load(db, principal, pair_id)
    before = pair_out(pair).model_dump(mode="json")
    primary = pair.primary_cluster_id
    clusters = [
        c
        for cid in (pair.primary_cluster_id, pair.standby_cluster_id)
        if (c := await db.get(NatsCluster, cid)) is not None
    ]
    await db.delete(pair)
    removed = await _forget(svc, clusters, str(pair_id))
    await audit(
        request,
        principal,
        action="dr_pair.delete",
        resource_type="dr_pair",
        resource_id=str(pair_id),
        resource_name=before["name"],
        cluster_id=primary,
        changes={"before": before, "active_side_removed": removed},
        db=db,
    )
    return Response(status_code=204)


async def _forget(svc: Svc, clusters: list[NatsCluster], key: str) -> dict[str, str]:
    """Purge the pair's key on each cluster: ``removed``, ``absent`` or why it could not be."""

    async def one(cluster: NatsCluster) -> str:
        async def purge() -> bool:
            js = await svc.clusters.jetstream(endpoint(svc.cipher, cluster))
            return await active_side.forget(js, key)

        try:
            return "removed" if await asyncio.wait_for(purge(), KV_TIMEOUT_S) else "absent"
        except TimeoutError:
            return f"no answer within {KV_TIMEOUT_S} s"
        except (ClusterUnreachable, JetStreamError, JetStreamUnavailable) as exc:
            return str(exc)

    answers = await asyncio.gather(*(one(c) for c in clusters))
    return {str(c.id): a for c, a in zip(clusters, answers, strict=False)}
