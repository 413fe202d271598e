"""Streams of a cluster, in JetStream's own JSON: list, create, read, update (a partial body is
merged over the current config), delete and purge."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.dialects.postgresql import insert

from api.change_gate import gate_change
from api.cluster_access import cluster_jetstream
from api.deps import Db, Principal, Svc, audit, authorize_stream, require_stream, stream_prefixes
from api.errors import ProblemError
from api.schemas import PurgeResult
from core.audit import config_diff
from core.changes.execute import apply_change, fixed_purge
from core.changes.models import ChangeSpec
from core.db.models import StreamConfig as StreamConfigRow
from core.jetstream.config import PurgeRequest, StreamConfig
from core.jetstream.purge import preview_purge
from core.namespaces import covers
from core.replication.forget import forget_mirror

router = APIRouter(prefix="/api/v1/clusters/{cluster_id}/streams", tags=["streams"])


async def _snapshot(db: Db, cluster_id: uuid.UUID, config: dict, user_id: uuid.UUID) -> None:
    """Keep the last config the console applied (upsert on the natural key); committed by
    ``audit(..., db=db)``, in one transaction with the change's audit event (the outbox)."""
    stmt = insert(StreamConfigRow).values(
        id=uuid.uuid4(),
        cluster_id=cluster_id,
        stream_name=config["name"],
        config_snapshot=config,
        created_by=user_id,
        is_managed=True,
        tags={},
    )
    await db.execute(
        stmt.on_conflict_do_update(
            index_elements=["cluster_id", "stream_name"], set_={"config_snapshot": config}
        )
    )


@router.get("")
async def list_streams(
    cluster_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    subject: str | None = Query(None, description="only streams capturing it"),
    principal: Principal = Depends(require_stream("streams:read")),
) -> dict:
    _, js = await cluster_jetstream(db, svc, principal, cluster_id)
    streams = await js.stream_list(subject)
    prefixes = await stream_prefixes(request, principal, "streams:read", cluster_id)
    visible = [s for s in streams if covers(prefixes, s["config"]["name"])]
    return {"items": sorted(visible, key=lambda s: s["config"]["name"])}


@router.post("", status_code=201)
async def create_stream(
    cluster_id: uuid.UUID,
    body: StreamConfig,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("streams:create")),
):
    cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
    await authorize_stream(request, principal, "streams:create", cluster.id, body.name)
    spec = ChangeSpec(
        kind="stream",
        operation="create",
        cluster_id=cluster.id,
        name=body.name,
        config=body.to_api(),
    )
    if pending := await gate_change(
        request, db, svc, principal, cluster, spec, permission="streams:create"
    ):
        return pending
    info = await apply_change(js, spec)
    await _snapshot(db, cluster.id, info["config"], principal.user_id)
    await audit(
        request,
        principal,
        action="stream.create",
        resource_type="stream",
        resource_id=f"{cluster.id}/{body.name}",
        resource_name=body.name,
        cluster_id=cluster.id,
        changes={"after": info["config"]},
        db=db,
    )
    return info


@router.get("/{name}")
async def read_stream(
    cluster_id: uuid.UUID,
    name: str,
    db: Db,
    svc: Svc,
    subjects_filter: str | None = Query(None, description="e.g. '>' for counts per subject"),
    principal: Principal = Depends(require_stream("streams:read")),
) -> dict:
    _, js = await cluster_jetstream(db, svc, principal, cluster_id)
    return await js.stream_info(name, subjects_filter)


@router.patch("/{name}")
async def update_stream(
    cluster_id: uuid.UUID,
    name: str,
    body: dict,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("streams:update")),
):
    cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
    if body.get("name", name) != name:
        raise ProblemError(
            422,
            f"A stream cannot be renamed: 'name' must stay '{name}'.",
            errors=[{"field": "name", "message": "cannot change"}],
        )
    before = (await js.stream_info(name))["config"]
    merged = {**before, **body, "name": name}
    config = StreamConfig.model_validate(merged)  # a ValidationError answers 422 per field
    spec = ChangeSpec(
        kind="stream", operation="update", cluster_id=cluster.id, name=name, config=config.to_api()
    )
    if pending := await gate_change(
        request, db, svc, principal, cluster, spec, permission="streams:update", before=before
    ):
        return pending
    info = await apply_change(js, spec)
    await _snapshot(db, cluster.id, info["config"], principal.user_id)
    await audit(
        request,
        principal,
        action="stream.update",
        resource_type="stream",
        resource_id=f"{cluster.id}/{name}",
        resource_name=name,
        cluster_id=cluster.id,
        changes=config_diff(before, info["config"]),
        db=db,
    )
    return info


@router.delete("/{name}", status_code=204)
async def delete_stream(
    cluster_id: uuid.UUID,
    name: str,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("streams:delete")),
):
    cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
    before = (await js.stream_info(name))["config"]
    spec = ChangeSpec(kind="stream", operation="delete", cluster_id=cluster.id, name=name)
    if pending := await gate_change(
        request, db, svc, principal, cluster, spec, permission="streams:delete", before=before
    ):
        return pending
    await apply_change(js, spec)
    await forget_mirror(db, svc.clusters, svc.cipher, principal.org_id, cluster.id, name)
    await audit(
        request,
        principal,
        action="stream.delete",
        resource_type="stream",
        resource_id=f"{cluster.id}/{name}",
        resource_name=name,
        cluster_id=cluster.id,
        changes={"before": before},
        db=db,
    )


@router.post("/{name}/purge", response_model=PurgeResult)
async def purge_stream(
    cluster_id: uuid.UUID,
    name: str,
    request: Request,
    db: Db,
    svc: Svc,
    body: PurgeRequest | None = None,
    principal: Principal = Depends(require_stream("streams:purge")),
):
    cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
    body = body or PurgeRequest()
    purge = body.to_api()
    if body.dry_run:  # says what would go and changes nothing
        preview = await preview_purge(js, name, purge)
        await audit(
            request,
            principal,
            action="stream.purge_preview",
            resource_type="stream",
            resource_id=f"{cluster.id}/{name}",
            resource_name=name,
            cluster_id=cluster.id,
            changes={"purge": purge, "would_purge": preview},
        )
        return PurgeResult(purged=0, dry_run=True, would_purge=preview)
    info = await js.stream_info(name)
    before = info["config"]
    purge = fixed_purge(purge, info["state"]["last_seq"])  # what is stored now, nothing later
    spec = ChangeSpec(
        kind="purge", operation="purge", cluster_id=cluster.id, name=name, purge=purge
    )
    if pending := await gate_change(
        request, db, svc, principal, cluster, spec, permission="streams:purge", before=before
    ):
        return pending
    purged = (await apply_change(js, spec))["purged"]
    await audit(
        request,
        principal,
        action="stream.purge",
        resource_type="stream",
        resource_id=f"{cluster.id}/{name}",
        resource_name=name,
        cluster_id=cluster.id,
        changes={"purge": purge, "purged": purged},
        db=db,
    )
    return PurgeResult(purged=purged)
