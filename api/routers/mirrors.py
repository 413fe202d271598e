"""Mirrors: start one (``POST /api/v1/operations/mirror``, an operation of type ``mirror`` that
creates it and waits until it has caught up), list and read the console's mirrors, pause and
resume their replication (their source consumer, reversibly), and remove one (its stream, then
its source consumer; through the change gate as a delete of the target stream).

The start route lives here, in this module's router, and is registered before the operations
router's ``/api/v1/operations/{operation_id}`` routes (modules are included in name order; those
answer GET and POST ``.../{id}/<action>`` only, so ``POST .../mirror`` is never theirs)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy import or_, select

from api.change_gate import ApprovalPending, gate_change
from api.cluster_access import load_cluster
from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError
from api.mirror_checks import reach, require_free, require_link, require_source
from api.mirror_jobs import start_mirror_job
from api.operation_start import keyed_operation_id
from api.replication_schemas import MirrorOut, MirrorStarted, mirror_out
from core.changes.models import ChangeSpec
from core.clusters import endpoint
from core.db.models import Mirror
from core.jetstream.api import JetStreamError
from core.operations import get_operation
from core.replication import rows
from core.replication.lifecycle import remove_consumer, remove_stream
from core.replication.mirrors import pause_consumer, resume_consumer
from core.replication.models import MirrorJob, MirrorRequest

router = APIRouter(tags=["mirrors"])
MIRRORS = "/api/v1/mirrors"
ENDED = ("promoted", "removed")


@router.post(
    "/api/v1/operations/mirror", status_code=202, response_model=MirrorStarted | ApprovalPending
)
async def start_mirror(
    body: MirrorRequest,
    request: Request,
    db: Db,
    svc: Svc,
    idempotency_key: str | None = Header(None, max_length=200),
    principal: Principal = Depends(require("replication:create")),
):
    """Create a mirror and wait until it has caught up: ``{id, workflow_id, status,
    mirror_id}``. Refused before anything is created when the source stream is missing (404),
    the target name is taken or the link cannot carry it (409). A production target waits for
    approval (``{request_id, operation_id, status: "waiting_approval"}``)."""
    keyed = keyed_operation_id(principal, "mirror", idempotency_key)
    if keyed and (row := await get_operation(db, principal.org_id, keyed)) is not None:
        ids = (row.input or {}).get("mirror_ids") or [None]
        return MirrorStarted(
            id=row.id, workflow_id=row.workflow_id, status=row.status, mirror_id=ids[0]
        )
    ends = await reach(db, svc, principal, body.source_cluster_id, body.target_cluster_id)
    await require_source(ends, body.source_stream)
    await require_free(db, ends, body.target_stream)
    await require_link(ends, body.source_stream)
    mirror_id = uuid.uuid5(keyed, "mirror") if keyed else uuid.uuid4()
    job = MirrorJob(mirrors=[body], mirror_ids=[str(mirror_id)])
    spec = ChangeSpec(
        kind="mirror",
        operation="create",
        cluster_id=ends.target.id,
        name=body.target_stream,
        config=job.model_dump(mode="json"),
    )
    if pending := await gate_change(
        request, db, svc, principal, ends.target, spec, permission="replication:create"
    ):
        return pending
    op_id, workflow_id, status = await start_mirror_job(
        request,
        db,
        svc,
        principal,
        job,
        operation_id=keyed or uuid.uuid4(),
        cluster_id=ends.target.id,
        idempotency_key=idempotency_key,
        audit_changes={"mirror_id": str(mirror_id)},
    )
    return MirrorStarted(id=op_id, workflow_id=workflow_id, status=status, mirror_id=mirror_id)


@router.get(MIRRORS, response_model=dict[str, list[MirrorOut]])
async def list_mirrors(
    db: Db,
    cluster_id: uuid.UUID | None = Query(None, description="mirrors from or to this cluster"),
    pair_id: uuid.UUID | None = None,
    principal: Principal = Depends(require("replication:read")),
):
    query = select(Mirror).where(Mirror.org_id == principal.org_id)
    if cluster_id is not None:
        query = query.where(
            or_(Mirror.source_cluster_id == cluster_id, Mirror.target_cluster_id == cluster_id)
        )
    if pair_id is not None:
        query = query.where(Mirror.pair_id == pair_id)
    found = await db.scalars(query.order_by(Mirror.created_at.desc()))
    return {"items": [mirror_out(m) for m in found]}


async def _load(db: Db, principal: Principal, mirror_id: uuid.UUID) -> Mirror:
    row = await db.scalar(
        select(Mirror).where(Mirror.id == mirror_id, Mirror.org_id == principal.org_id)
    )
    if row is None:
        raise ProblemError(404, f"No mirror with id {mirror_id} in your organization.")
    return row


@router.get(MIRRORS + "/{mirror_id}", response_model=MirrorOut)
async def read_mirror(
    mirror_id: uuid.UUID, db: Db, principal: Principal = Depends(require("replication:read"))
):
    return mirror_out(await _load(db, principal, mirror_id))


async def _control(
    action: str, mirror_id: uuid.UUID, request: Request, db: Db, svc: Svc, principal: Principal
) -> MirrorOut:
    row = await _load(db, principal, mirror_id)
    if row.state in ENDED or row.state == "failed":
        raise ProblemError(
            409, f"The mirror is {row.state}: there is no replication to {action}.", state=row.state
        )
    source = await load_cluster(db, principal, row.source_cluster_id)
    js = await svc.clusters.jetstream(endpoint(svc.cipher, source))
    try:
        if action == "pause":
            await pause_consumer(js, row.source_stream, row.consumer_name)
        else:
            await resume_consumer(js, row.source_stream, row.consumer_name)
    except JetStreamError as exc:
        if not exc.not_found:
            raise
        raise ProblemError(
            409,
            f"The mirror's consumer '{row.consumer_name}' does not exist on "
            f"stream '{row.source_stream}' of cluster '{source.name}' "
            f"({'not created yet' if row.state == 'creating' else 'removed'}"
            ").",
            state=row.state,
        ) from exc
    state = "paused" if action == "pause" else "active"
    await rows.set_state(db, principal.org_id, [row.id], state)
    await audit(
        request,
        principal,
        action=f"mirror.{action}",
        resource_type="mirror",
        resource_id=str(row.id),
        resource_name=row.target_stream,
        cluster_id=row.target_cluster_id,
        changes={"state": {"before": row.state, "after": state}},
        db=db,
    )
    await db.refresh(row)
    return mirror_out(row)


@router.post(MIRRORS + "/{mirror_id}/pause", response_model=MirrorOut)
async def pause_mirror(
    mirror_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("replication:update")),
):
    """Pause replication: the source consumer stops delivering; the mirror keeps what it has."""
    return await _control("pause", mirror_id, request, db, svc, principal)


@router.post(MIRRORS + "/{mirror_id}/resume", response_model=MirrorOut)
async def resume_mirror(
    mirror_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("replication:update")),
):
    """Resume replication where it stood: the mirror catches up."""
    return await _control("resume", mirror_id, request, db, svc, principal)


@router.delete(MIRRORS + "/{mirror_id}", status_code=204, response_class=Response)
async def delete_mirror(
    mirror_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("replication:delete")),
):
    """Remove the mirror stream, then its source consumer (what is gone already counts as
    removed). Passes the change gate as a delete of the target stream."""
    row = await _load(db, principal, mirror_id)
    if row.state == "promoted":
        raise ProblemError(
            409,
            f"The mirror was promoted: '{row.target_stream}' is a stream of "
            "its own now; delete it as a stream if you mean to.",
            state=row.state,
        )
    target = await load_cluster(db, principal, row.target_cluster_id)
    target_js = await svc.clusters.jetstream(endpoint(svc.cipher, target))
    before = None
    if row.state != "removed":
        try:
            before = (await target_js.stream_info(row.target_stream))["config"]
        except JetStreamError as exc:
            if not exc.not_found:
                raise
    if before is not None:
        spec = ChangeSpec(
            kind="stream", operation="delete", cluster_id=target.id, name=row.target_stream
        )
        if pending := await gate_change(
            request,
            db,
            svc,
            principal,
            target,
            spec,
            permission="replication:delete",
            before=before,
        ):
            return pending
        await remove_stream(target_js, row.target_stream, str(row.id))
    source = await load_cluster(db, principal, row.source_cluster_id)
    source_js = await svc.clusters.jetstream(endpoint(svc.cipher, source))
    await remove_consumer(source_js, row.source_stream, row.consumer_name)
    await rows.set_state(db, principal.org_id, [row.id], "removed")
    await audit(
        request,
        principal,
        action="mirror.delete",
        resource_type="mirror",
        resource_id=str(row.id),
        resource_name=row.target_stream,
        cluster_id=row.target_cluster_id,
        changes={"before": before},
        db=db,
    )
    return Response(status_code=204)
