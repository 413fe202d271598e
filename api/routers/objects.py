"""Object stores of a cluster: create, list, info, delete; objects listed, uploaded and downloaded
streamed (the request and response bodies pass through in chunks, never whole), deleted, and their
description, headers and metadata read and changed. Objects are stored in the Go and Python
clients' format (``core.jetstream.objects``)."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import ClientDisconnect

from api.deps import Db, Principal, Svc, audit, require, streamed
from api.errors import ProblemError
from api.store_buckets import BucketRoutes, add_bucket_routes, invalid, open_bucket
from core.db.models import NatsCluster
from core.jetstream.objects import (
    BUCKET_PATTERN,
    DEFAULT_CHUNK_SIZE,
    OBJECT_STORES,
    BucketNotFound,
    ObjectNotFound,
    ObjectStore,
)

router = APIRouter(prefix="/api/v1/clusters/{cluster_id}/objects", tags=["objects"])

Bucket = Annotated[
    str, Path(min_length=1, max_length=240, pattern=BUCKET_PATTERN, description="the object store")
]
add_bucket_routes(
    router,
    BucketRoutes(
        OBJECT_STORES,
        change_kind="object_store",
        resource="object_store",
        article="An",
        bucket_param=Bucket,
        deleted_size=("bytes", "bytes"),
    ),
)
ObjectName = Annotated[str, Path(min_length=1, max_length=1024, description="the object's name")]
BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def _store(
    db: Db,
    svc: Svc,
    principal: Principal,
    cluster_id: uuid.UUID,
    bucket: str,
) -> tuple[NatsCluster, ObjectStore]:
    return await open_bucket(OBJECT_STORES, db, svc, principal, cluster_id, bucket)


def _not_found(exc: ObjectNotFound) -> ProblemError:
    text = str(exc)
    return ProblemError(404, f"{text[:1].upper()}{text[1:]}.")


def _headers(values: dict[str, str | list[str]] | None, field: str) -> dict[str, list[str]] | None:
    if values is None:
        return None
    out: dict[str, list[str]] = {}
    for key, value in values.items():
        if not key or any(c.isspace() or c == ":" for c in key):
            raise invalid(f"{field}.{key}", "a header name is not empty and has no blank or ':'")
        out[key] = value if isinstance(value, list) else [value]
    return out


# -- objects -----------------------------------------------------------------------------------


@router.get("/{bucket}/files")
async def list_objects(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    db: Db,
    svc: Svc,
    deleted: bool = Query(False, description="include deleted objects"),
    limit: int = Query(1000, ge=1, le=10_000),
    principal: Principal = Depends(require("object_stores:read")),
) -> dict:
    """The objects' descriptions (ObjectInfo), by name."""
    _, store = await _store(db, svc, principal, cluster_id, bucket)
    items, truncated = await store.list(show_deleted=deleted, limit=limit)
    return {"bucket": bucket, "items": items, "truncated": truncated}


@router.put(
    "/{bucket}/files/{name:path}",
    status_code=201,
    openapi_extra=BINARY_BODY,
    responses={200: {"description": "an object of that name was replaced"}},
)
async def upload_object(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    name: ObjectName,
    request: Request,
    response: Response,
    db: Db,
    svc: Svc,
    description: str | None = Query(None, max_length=4096),
    chunk_size: int = Query(
        DEFAULT_CHUNK_SIZE, ge=1, le=8 * 1024 * 1024, description="bytes per chunk"
    ),
    principal: Principal = Depends(require("object_stores:update")),
) -> dict:
    """Store the request body as the object ``name``, read and written chunk by chunk. The
    request's Content-Type is kept in the object's headers. 201, or 200 when it replaced one."""
    cluster, store = await _store(db, svc, principal, cluster_id, bucket)
    if chunk_size > store.js.nc.max_payload:
        raise invalid(
            "chunk_size", f"the cluster takes at most {store.js.nc.max_payload} bytes per message"
        )
    content_type = request.headers.get("content-type")
    try:
        info, replaced = await store.put(
            name,
            request.stream(),
            description=description,
            chunk_size=chunk_size,
            headers={"Content-Type": [content_type]} if content_type else None,
        )
    except ClientDisconnect as exc:
        raise ProblemError(
            400, "The upload ended before its body did; nothing was stored."
        ) from exc
    if replaced:
        response.status_code = 200
    await audit(
        request,
        principal,
        action="object.put",
        resource_type="object",
        resource_id=f"{cluster.id}/{bucket}/{name}",
        resource_name=f"{bucket}/{name}",
        cluster_id=cluster.id,
        changes={
            "size": info["size"],
            "chunks": info["chunks"],
            "digest": info.get("digest"),
            "replaced": replaced,
        },
    )
    return info


@router.get(
    "/{bucket}/files/{name:path}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the object's data"}
    },
)
async def download_object(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    name: ObjectName,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("object_stores:read")),
):
    """The object's data, streamed chunk by chunk (links are followed). ``X-Object-Digest`` is
    its SHA-256 as NATS records it; a mismatch found at the end aborts the transfer."""
    _, store = await _store(db, svc, principal, cluster_id, bucket)
    try:
        holder, info = await store.resolve(name)
    except ObjectNotFound as exc:
        raise _not_found(exc) from exc
    except BucketNotFound as exc:
        raise ProblemError(
            404, f"Object '{name}' links to an object store that does not exist ({exc})."
        ) from exc
    content_type = ((info.get("headers") or {}).get("Content-Type") or [None])[0]
    basename = name.rsplit("/", 1)[-1] or "object"
    fallback = basename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    headers = {
        "Content-Length": str(int(info.get("size") or 0)),
        "Content-Disposition": f'attachment; filename="{fallback}"; '
        f"filename*=UTF-8''{quote(basename)}",
    }
    if info.get("digest"):
        headers["X-Object-Digest"] = info["digest"]
        headers["ETag"] = f'"{info["digest"]}"'
    return await streamed(
        db,
        holder.read(info),
        headers=headers,
        media_type=content_type or "application/octet-stream",
    )


@router.delete("/{bucket}/files/{name:path}", status_code=204)
async def delete_object(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    name: ObjectName,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("object_stores:update")),
) -> None:
    cluster, store = await _store(db, svc, principal, cluster_id, bucket)
    try:
        before = await store.delete(name)
    except ObjectNotFound as exc:
        raise _not_found(exc) from exc
    await audit(
        request,
        principal,
        action="object.delete",
        resource_type="object",
        resource_id=f"{cluster.id}/{bucket}/{name}",
        resource_name=f"{bucket}/{name}",
        cluster_id=cluster.id,
        changes={"size": before.get("size"), "digest": before.get("digest")},
    )


@router.get("/{bucket}/info/{name:path}")
async def read_object_info(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    name: ObjectName,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("object_stores:read")),
) -> dict:
    """The object's description (ObjectInfo: size, chunks, digest, headers, metadata, ...)."""
    _, store = await _store(db, svc, principal, cluster_id, bucket)
    try:
        return await store.info(name)
    except ObjectNotFound as exc:
        raise _not_found(exc) from exc


class ObjectMetaUpdate(BaseModel):
    """What to change; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    description: str | None = Field(default=None, max_length=4096)
    headers: dict[str, str | list[str]] | None = None
    metadata: dict[str, str] | None = None


@router.patch("/{bucket}/info/{name:path}")
async def update_object_info(
    cluster_id: uuid.UUID,
    bucket: Bucket,
    name: ObjectName,
    body: ObjectMetaUpdate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("object_stores:update")),
) -> dict:
    """Change an object's description, headers or metadata; its data stays as it is."""
    headers = _headers(body.headers, "headers")
    cluster, store = await _store(db, svc, principal, cluster_id, bucket)
    try:
        before = await store.info(name)
    except ObjectNotFound as exc:
        raise _not_found(exc) from exc
    given = body.model_fields_set
    after = await store.update_meta(
        name,
        description=body.description if "description" in given else before.get("description"),
        headers=headers if "headers" in given else before.get("headers"),
        metadata=body.metadata if "metadata" in given else before.get("metadata"),
    )
    await audit(
        request,
        principal,
        action="object.update",
        resource_type="object",
        resource_id=f"{cluster.id}/{bucket}/{name}",
        resource_name=f"{bucket}/{name}",
        cluster_id=cluster.id,
        changes={
            k: {"before": before.get(k), "after": after.get(k)}
            for k in ("description", "headers", "metadata")
            if before.get(k) != after.get(k)
        },
    )
    return after
