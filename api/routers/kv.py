"""Key-value buckets of a cluster: create, list, info, delete; keys (filtered), get (latest or any
revision), put (optionally compare-and-set), create-only, delete, purge, history, and a watch as
server-sent events. Values are shown like message payloads (JSON, text or base64, capped)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.kv import StopIterSentinel
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Db, Principal, Svc, audit, require, streamed
from api.errors import ProblemError
from api.store_buckets import BucketRoutes, add_bucket_routes, invalid, open_bucket
from core.db.models import NatsCluster
from core.jetstream.kv import (
    BUCKET_PATTERN,
    KV,
    KeyExists,
    KeyNotFound,
    KvBucket,
    key_filter_problem,
    key_problem,
    watch_entry_json,
)
from core.jetstream.messages import DEFAULT_PAYLOAD_LIMIT, Encoding, payload_bytes

router = APIRouter(prefix="/api/v1/clusters/{cluster_id}/kv", tags=["kv"])
Bucket = Annotated[
    str, Path(min_length=1, max_length=240, pattern=BUCKET_PATTERN, description="the bucket")
]
add_bucket_routes(
    router,
    BucketRoutes(
        KV,
        change_kind="kv_bucket",
        resource="kv_store",
        article="A",
        bucket_param=Bucket,
        deleted_size=("values", "messages"),
    ),
)
PayloadLimit = Annotated[
    int,
    Query(
        ge=0, le=8 * 1024 * 1024, description="value bytes shown; more is cut and marked truncated"
    ),
]
KEEPALIVE_S = 15.0


def _check_key(key: str) -> str:
    if problem := key_problem(key):
        raise invalid("key", problem)
    return key


def _check_filter(keys: str, field: str) -> str:
    if problem := key_filter_problem(keys):
        raise invalid(field, problem)
    return keys


async def _bucket(
    db: Db,
    svc: Svc,
    principal: Principal,
    cluster_id: uuid.UUID,
    bucket: str,
) -> tuple[NatsCluster, KvBucket]:
    return await open_bucket(KV, db, svc, principal, cluster_id, bucket)


def _value(value: Any, encoding: Encoding | None) -> bytes:
    try:
        return payload_bytes(value, encoding)
    except ValueError as exc:
        raise invalid("value", str(exc)) from exc


class KvValue(BaseModel):
    """A value: a string (text, or base64 with ``encoding: "base64"``) or any JSON value."""

    model_config = ConfigDict(extra="forbid")
    value: Any = None
    encoding: Encoding | None = None
    expected_revision: int | None = Field(
        default=None,
        ge=0,
        le=2**63 - 1,
        description="put only if the key is at this revision (0: only if it does not exist)",
    )


class KvNewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=1024)
    value: Any = None
    encoding: Encoding | None = None


# -- keys --------------------------------------------------------------------------------------


@router.get("/{bucket}/keys")
async def list_keys(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    db: Db,
    svc: Svc,
    filter: str = Query(
        ">", min_length=1, max_length=1024, description="key filter, e.g. 'orders.*' or 'a.>'"
    ),
    limit: int = Query(1000, ge=1, le=100_000),
    principal: Principal = Depends(require("kv_stores:read")),
) -> dict:
    """Live keys (not deleted) matching the filter, sorted."""
    _check_filter(filter, "filter")
    _, store = await _bucket(db, svc, principal, cluster_id, bucket)
    keys, truncated = await store.keys(filter, limit)
    return {"bucket": bucket, "filter": filter, "items": keys, "truncated": truncated}


@router.post("/{bucket}/keys", status_code=201)
async def create_key(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    body: KvNewKey,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("kv_stores:update")),
) -> dict:
    """Create a key only if it has no live value: 409 when it has one."""
    key = _check_key(body.key)
    value = _value(body.value, body.encoding)
    cluster, store = await _bucket(db, svc, principal, cluster_id, bucket)
    try:
        revision = await store.create(key, value)
    except KeyExists as exc:
        raise ProblemError(409, f"Key '{key}' already exists in bucket '{bucket}'.") from exc
    await audit(
        request,
        principal,
        action="kv_key.create",
        resource_type="kv_key",
        resource_id=f"{cluster.id}/{bucket}/{key}",
        resource_name=f"{bucket}/{key}",
        cluster_id=cluster.id,
        changes={"revision": revision, "size": len(value)},
    )
    return {"bucket": bucket, "key": key, "revision": revision}


@router.get("/{bucket}/keys/{key:path}")
async def get_key(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    key: str,
    db: Db,
    svc: Svc,
    revision: int | None = Query(
        None, ge=1, le=2**63 - 1, description="a past revision; latest by default"
    ),
    payload_limit: PayloadLimit = DEFAULT_PAYLOAD_LIMIT,
    principal: Principal = Depends(require("kv_stores:read")),
) -> dict:
    _check_key(key)
    _, store = await _bucket(db, svc, principal, cluster_id, bucket)
    try:
        return await store.get(key, revision, payload_limit)
    except KeyNotFound as exc:
        raise ProblemError(404, f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from exc


@router.put("/{bucket}/keys/{key:path}")
async def put_key(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    key: str,
    body: KvValue,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("kv_stores:update")),
) -> dict:
    """Put a value; with ``expected_revision``, only if the key is at that revision (409 if not)."""
    _check_key(key)
    value = _value(body.value, body.encoding)
    cluster, store = await _bucket(db, svc, principal, cluster_id, bucket)
    try:
        revision = await store.put(key, value, body.expected_revision)
    except KeyExists as exc:
        raise ProblemError(
            409,
            f"Key '{key}' is not at revision {body.expected_revision}; read it again and retry.",
            key=key,
        ) from exc
    await audit(
        request,
        principal,
        action="kv_key.put",
        resource_type="kv_key",
        resource_id=f"{cluster.id}/{bucket}/{key}",
        resource_name=f"{bucket}/{key}",
        cluster_id=cluster.id,
        changes={
            "revision": revision,
            "size": len(value),
            "expected_revision": body.expected_revision,
        },
    )
    return {"bucket": bucket, "key": key, "revision": revision}


@router.delete("/{bucket}/keys/{key:path}", status_code=204)
async def delete_key(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    key: str,
    request: Request,
    db: Db,
    svc: Svc,
    purge: bool = Query(False, description="also drop its history"),
    principal: Principal = Depends(require("kv_stores:update")),
) -> None:
    """Delete a key (a marker; history kept), or purge it (history dropped too)."""
    _check_key(key)
    cluster, store = await _bucket(db, svc, principal, cluster_id, bucket)
    if not (await store.has_history(key) if purge else await store.exists(key)):
        raise ProblemError(404, f"No key '{key}' in bucket '{bucket}'.")
    await store.delete(key, purge=purge)
    verb = "purge" if purge else "delete"
    await audit(
        request,
        principal,
        action=f"kv_key.{verb}",
        resource_type="kv_key",
        resource_id=f"{cluster.id}/{bucket}/{key}",
        resource_name=f"{bucket}/{key}",
        cluster_id=cluster.id,
        changes={"operation": verb.upper()},
    )


@router.get("/{bucket}/history/{key:path}")
async def key_history(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    key: str,
    db: Db,
    svc: Svc,
    payload_limit: PayloadLimit = DEFAULT_PAYLOAD_LIMIT,
    principal: Principal = Depends(require("kv_stores:read")),
) -> dict:
    """Every revision the bucket keeps of the key, oldest first, delete markers included."""
    _check_key(key)
    _, store = await _bucket(db, svc, principal, cluster_id, bucket)
    entries = await store.history(key, payload_limit)
    if not entries:
        raise ProblemError(404, f"No key '{key}' in bucket '{bucket}'.")
    return {"bucket": bucket, "key": key, "items": entries}


@router.get(
    "/{bucket}/watch",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "server-sent events: 'entry' (data: an entry), 'caught-up' once "
            "the current values were sent, and comments as keep-alives",
        }
    },
)
async def watch_bucket(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    request: Request,
    db: Db,
    svc: Svc,
    key: str = Query(">", min_length=1, max_length=1024, description="key filter"),
    include_history: bool = Query(
        False, description="every kept revision first, not only the latest"
    ),
    ignore_deletes: bool = Query(False),
    payload_limit: PayloadLimit = DEFAULT_PAYLOAD_LIMIT,
    principal: Principal = Depends(require("kv_stores:read")),
):
    """Changes of the matching keys as server-sent events, after their current values."""
    _check_filter(key, "key")
    _, store = await _bucket(db, svc, principal, cluster_id, bucket)
    watcher = await store.watch(key, include_history=include_history, ignore_deletes=ignore_deletes)

    async def events() -> AsyncIterator[str]:
        try:
            yield ": watching\n\n"
            while True:
                try:
                    entry = await watcher.updates(timeout=KEEPALIVE_S)
                except NatsTimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                if isinstance(entry, StopIterSentinel):
                    return
                if entry is None:
                    yield "event: caught-up\ndata: {}\n\n"
                    continue
                data = json.dumps(watch_entry_json(bucket, entry, payload_limit))
                yield f"id: {entry.revision}\nevent: entry\ndata: {data}\n\n"
        finally:
            try:
                await watcher.stop()
            except Exception:  # the connection may be gone; its consumer expires on its own
                pass

    return await streamed(
        db,
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
