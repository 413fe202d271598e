"""Consumers of a stream, in JetStream's own JSON: list, create, read, update (partial body merged
over the current config), delete, pause until a time and resume. Reads add ``health``: the score
of the source design's table with its parts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.change_gate import gate_change
from api.cluster_access import cluster_jetstream
from api.deps import Db, Principal, Svc, audit, require_stream
from api.errors import ProblemError
from core.analytics import overview
from core.audit import config_diff
from core.changes.execute import apply_change
from core.changes.models import ChangeSpec
from core.jetstream.config import ConsumerConfig
from core.jetstream.health import consumer_health

router = APIRouter(
    prefix="/api/v1/clusters/{cluster_id}/streams/{stream}/consumers", tags=["consumers"]
)


class PauseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: datetime = Field(description="RFC 3339; a time without an offset is UTC")

    @field_validator("until")
    @classmethod
    def _future(cls, until: datetime) -> datetime:
        until = until if until.tzinfo else until.replace(tzinfo=UTC)
        if until <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return until


def with_health(info: dict, ratios: dict[str, float] | None = None) -> dict:
    """The consumer's info with its health score; ``ratios`` (consumer -> processing rate over its
    hour's average, from the collected samples) gives the score its processing-rate part."""
    return {**info, "health": consumer_health(info, (ratios or {}).get(info.get("name", "")))}


async def processing_ratios(svc: Svc, cluster_id: uuid.UUID, stream: str) -> dict[str, float]:
    """From ClickHouse; without samples (no collector yet, ClickHouse down) the part is left out."""
    try:
        rows = await asyncio.to_thread(
            svc.analytics.query, *overview.processing_rates(cluster_id, stream)
        )
    except Exception:  # noqa: BLE001 - the score stands without it, as before
        return {}
    return overview.rate_ratios(rows)


def _name_problem(message: str) -> ProblemError:
    return ProblemError(
        422, f"Invalid input: name: {message}", errors=[{"field": "name", "message": message}]
    )


@router.get("")
async def list_consumers(
    cluster_id: uuid.UUID,
    stream: str,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("consumers:read")),
) -> dict:
    _, js = await cluster_jetstream(db, svc, principal, cluster_id)
    consumers = await js.consumer_list(stream)
    ratios = await processing_ratios(svc, cluster_id, stream)
    return {"items": [with_health(c, ratios) for c in sorted(consumers, key=lambda c: c["name"])]}


@router.post("", status_code=201)
async def create_consumer(
    cluster_id: uuid.UUID,
    stream: str,
    body: ConsumerConfig,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("consumers:create")),
):
    if not body.consumer_name:
        raise _name_problem("give 'durable_name' or 'name': the console manages named consumers")
    if body.name and body.durable_name and body.name != body.durable_name:
        raise _name_problem("'name' and 'durable_name' differ; give one, or the same in both")
    cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
    await js.stream_info(stream)  # 404 for a stream that does not exist, before any request
    spec = ChangeSpec(
        kind="consumer",
        operation="create",
        cluster_id=cluster.id,
        name=body.consumer_name,
        stream=stream,
        config=body.to_api(),
    )
    if pending := await gate_change(
        request, db, svc, principal, cluster, spec, permission="consumers:create"
    ):
        return pending
    info = await apply_change(js, spec)
    await audit(
        request,
        principal,
        action="consumer.create",
        resource_type="consumer",
        resource_id=f"{cluster.id}/{stream}/{info['name']}",
        resource_name=info["name"],
        cluster_id=cluster.id,
        changes={"after": info["config"]},
    )
    return info


@router.get("/{name}")
async def read_consumer(
    cluster_id: uuid.UUID,
    stream: str,
    name: str,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("consumers:read")),
) -> dict:
    _, js = await cluster_jetstream(db, svc, principal, cluster_id)
    info = await js.consumer_info(stream, name)
    return with_health(info, await processing_ratios(svc, cluster_id, stream))


@router.patch("/{name}")
async def update_consumer(
    cluster_id: uuid.UUID,
    stream: str,
    name: str,
    body: dict,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("consumers:update")),
):
    cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
    for key in ("name", "durable_name"):
        if body.get(key, name) != name:
            raise _name_problem(f"a consumer cannot be renamed: '{key}' must stay '{name}'")
    before = (await js.consumer_info(stream, name))["config"]
    if "pause_until" in body and body["pause_until"] != before.get("pause_until"):
        message = "use POST .../pause {until} or .../resume: JetStream pauses only through them"
        raise ProblemError(
            422,
            f"Invalid input: pause_until: {message}",
            errors=[{"field": "pause_until", "message": message}],
        )
    config = ConsumerConfig.model_validate({**before, **body})
    spec = ChangeSpec(
        kind="consumer",
        operation="update",
        cluster_id=cluster.id,
        name=name,
        stream=stream,
        config=config.to_api(),
    )
    if pending := await gate_change(
        request, db, svc, principal, cluster, spec, permission="consumers:update", before=before
    ):
        return pending
    info = await apply_change(js, spec)
    await audit(
        request,
        principal,
        action="consumer.update",
        resource_type="consumer",
        resource_id=f"{cluster.id}/{stream}/{name}",
        resource_name=name,
        cluster_id=cluster.id,
        changes=config_diff(before, info["config"]),
    )
    return info


@router.delete("/{name}", status_code=204)
async def delete_consumer(
    cluster_id: uuid.UUID,
    stream: str,
    name: str,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("consumers:delete")),
):
    cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
    before = (await js.consumer_info(stream, name))["config"]
    spec = ChangeSpec(
        kind="consumer", operation="delete", cluster_id=cluster.id, name=name, stream=stream
    )
    if pending := await gate_change(
        request, db, svc, principal, cluster, spec, permission="consumers:delete", before=before
    ):
        return pending
    await apply_change(js, spec)
    await audit(
        request,
        principal,
        action="consumer.delete",
        resource_type="consumer",
        resource_id=f"{cluster.id}/{stream}/{name}",
        resource_name=name,
        cluster_id=cluster.id,
        changes={"before": before},
    )


async def _set_pause(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    cluster_id: uuid.UUID,
    stream: str,
    name: str,
    until: datetime | None,
) -> dict:
    cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
    body = {"pause_until": until.isoformat().replace("+00:00", "Z")} if until else {}
    reply = await js.request(f"CONSUMER.PAUSE.{stream}.{name}", body)
    await audit(
        request,
        principal,
        action="consumer.pause" if until else "consumer.resume",
        resource_type="consumer",
        resource_id=f"{cluster.id}/{stream}/{name}",
        resource_name=name,
        cluster_id=cluster.id,
        changes={"pause_until": body.get("pause_until")},
    )
    return {
        "paused": bool(reply.get("paused")),
        "pause_until": reply.get("pause_until"),
        "pause_remaining": reply.get("pause_remaining"),
    }


@router.post("/{name}/pause")
async def pause_consumer(
    cluster_id: uuid.UUID,
    stream: str,
    name: str,
    body: PauseRequest,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("consumers:pause")),
) -> dict:
    return await _set_pause(request, db, svc, principal, cluster_id, stream, name, body.until)


@router.post("/{name}/resume")
async def resume_consumer(
    cluster_id: uuid.UUID,
    stream: str,
    name: str,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require_stream("consumers:pause")),
) -> dict:
    return await _set_pause(request, db, svc, principal, cluster_id, stream, name, None)
