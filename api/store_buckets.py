"""The bucket routes KV buckets and object stores share, made once for each kind: list, create,
read and delete a bucket of a cluster (``add_bucket_routes``), with the kind's permissions
(``<resource>s:read|create|delete``), its change gate (create and delete may wait for approval:
``202``), its audit records (``<resource>.create|delete``) and its 404 and 409 sentences; and the
helpers the routes of each kind's contents use (``open_bucket``, ``invalid``).

(No ``from __future__ import annotations`` here: the routes' parameter types are the kind's own
classes, which FastAPI reads from the annotations as they are evaluated.)
"""

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request

from api.change_gate import PENDING_RESPONSE, gate_change
from api.cluster_access import cluster_jetstream
from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError
from core.changes.execute import apply_change
from core.changes.models import ChangeSpec
from core.db.models import NatsCluster
from core.jetstream.buckets import BucketKind, BucketNotFound


def invalid(field: str, message: str) -> ProblemError:
    return ProblemError(
        422, f"Invalid input: {field}: {message}", errors=[{"field": field, "message": message}]
    )


@dataclass(frozen=True)
class BucketRoutes:
    """A kind of bucket as the API shows it."""

    kind: BucketKind
    change_kind: str  # the ChangeSpec kind, and the routes' names: "kv_bucket", "list_kv_buckets"
    resource: str  # audit resource type, and the permissions' resource + "s": "kv_store"
    article: str  # "A" KV bucket, "An" object store, in the 409's sentence
    bucket_param: Any  # the ``{bucket}`` path parameter: Annotated[str, Path(...)]
    deleted_size: tuple[str, str]  # audited on delete: (name, the stream state's field)

    def permission(self, action: str) -> str:
        return f"{self.resource}s:{action}"


async def open_bucket(
    kind: BucketKind, db: Db, svc: Svc, principal: Principal, cluster_id: uuid.UUID, bucket: str
) -> tuple[NatsCluster, Any]:
    """The cluster (404 unless the caller's organization's) and its bucket (404 when missing)."""
    cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
    try:
        return cluster, await kind.store.open(js, bucket)
    except BucketNotFound as exc:
        raise ProblemError(404, f"No {kind.label} '{bucket}' on this cluster.") from exc


def add_bucket_routes(router: APIRouter, kinds: BucketRoutes) -> None:
    """List (``GET ""``), create (``POST ""``), read (``GET /{bucket}``) and delete
    (``DELETE /{bucket}``) on ``router``, named ``list_<kind>s``, ``create_<kind>``, ...

    The endpoints keep no docstring: the routes had none, so their OpenAPI operations carry no
    description."""
    kind, name = kinds.kind, kinds.change_kind
    Config = kind.config  # noqa: N806 (a class, for the body's annotation)
    Bucket = kinds.bucket_param  # noqa: N806
    may_read, may_create, may_delete = (
        require(kinds.permission(action)) for action in ("read", "create", "delete")
    )

    async def list_buckets(
        cluster_id: uuid.UUID,
        db: Db,
        svc: Svc,
        principal: Principal = Depends(may_read),
    ) -> dict:
        _, js = await cluster_jetstream(db, svc, principal, cluster_id)
        return {"items": await kind.list(js)}

    async def create_bucket(
        cluster_id: uuid.UUID,
        body: Config,  # type: ignore[valid-type]
        request: Request,
        db: Db,
        svc: Svc,
        principal: Principal = Depends(may_create),
    ):
        cluster, js = await cluster_jetstream(db, svc, principal, cluster_id)
        try:
            await kind.store.open(js, body.bucket)
        except BucketNotFound:
            pass
        else:
            raise ProblemError(
                409, f"{kinds.article} {kind.label} '{body.bucket}' already exists on this cluster."
            )
        spec = ChangeSpec(
            kind=name,
            operation="create",
            cluster_id=cluster.id,
            name=body.bucket,
            config=body.model_dump(mode="json"),
        )
        if pending := await gate_change(
            request, db, svc, principal, cluster, spec, permission=kinds.permission("create")
        ):
            return pending
        status = await apply_change(js, spec)
        await audit(
            request,
            principal,
            action=f"{kinds.resource}.create",
            resource_type=kinds.resource,
            resource_id=f"{cluster.id}/{body.bucket}",
            resource_name=body.bucket,
            cluster_id=cluster.id,
            changes={"after": body.model_dump(mode="json")},
        )
        return status

    async def read_bucket(
        cluster_id: uuid.UUID,
        bucket: Bucket,  # type: ignore[valid-type]
        db: Db,
        svc: Svc,
        principal: Principal = Depends(may_read),
    ) -> dict:
        _, store = await open_bucket(kind, db, svc, principal, cluster_id, bucket)
        return kind.status(store.stream_info)

    async def delete_bucket(
        cluster_id: uuid.UUID,
        bucket: Bucket,  # type: ignore[valid-type]
        request: Request,
        db: Db,
        svc: Svc,
        principal: Principal = Depends(may_delete),
    ):
        cluster, store = await open_bucket(kind, db, svc, principal, cluster_id, bucket)
        info: dict[str, Any] = store.stream_info
        spec = ChangeSpec(kind=name, operation="delete", cluster_id=cluster.id, name=bucket)
        if pending := await gate_change(
            request,
            db,
            svc,
            principal,
            cluster,
            spec,
            permission=kinds.permission("delete"),
            before=info["config"],
        ):
            return pending
        await apply_change(store.js, spec)
        size_name, state_field = kinds.deleted_size
        await audit(
            request,
            principal,
            action=f"{kinds.resource}.delete",
            resource_type=kinds.resource,
            resource_id=f"{cluster.id}/{bucket}",
            resource_name=bucket,
            cluster_id=cluster.id,
            changes={"before": {"config": info["config"], size_name: info["state"][state_field]}},
        )

    router.add_api_route("", list_buckets, methods=["GET"], name=f"list_{name}s")
    router.add_api_route(
        "",
        create_bucket,
        methods=["POST"],
        name=f"create_{name}",
        status_code=201,
        responses=PENDING_RESPONSE,
    )
    router.add_api_route("/{bucket}", read_bucket, methods=["GET"], name=f"read_{name}")
    router.add_api_route(
        "/{bucket}",
        delete_bucket,
        methods=["DELETE"],
        name=f"delete_{name}",
        status_code=204,
        responses=PENDING_RESPONSE,
    )
