"""The refusals of a mirror, before anything is created: the clusters are the caller's
organization's (404), the source stream exists (404), the target name is free (409), the two
clusters can be mirrored across at all (409), and the link between them carries a mirror,
found out by a probe through it (409 with the probe's ``reason``; one cluster, or one server
registered twice, needs no probe). A cluster that cannot be reached is a 503 (``api.errors``).
Shared by ``POST /api/v1/operations/mirror`` and the DR pairs' missing mirrors."""

from __future__ import annotations

from dataclasses import dataclass

from api.cluster_access import load_cluster
from api.deps import Db, Principal, Svc
from api.errors import ProblemError
from core.clusters import endpoint
from core.db.models import NatsCluster
from core.jetstream.api import JetStreamApi, JetStreamError
from core.jetstream.pool import ClusterUnreachable
from core.replication import rows
from core.replication.links import MirrorPath, mirror_path
from core.replication.mirrors import probe_link


@dataclass
class Ends:
    """Both clusters of a mirror, reached, and the way the mirror reads its source."""

    source: NatsCluster
    target: NatsCluster
    source_js: JetStreamApi
    target_js: JetStreamApi | None  # None only when ``reach`` was told it may be unreachable
    path: MirrorPath
    target_error: str | None = None


async def reach(
    db: Db, svc: Svc, principal: Principal, source_id, target_id, target_optional: bool = False
) -> Ends:
    """Both clusters, connected (503 when one cannot be; with ``target_optional``, an
    unreachable target is ``target_js`` None and ``target_error`` says why)."""
    source = await load_cluster(db, principal, source_id)
    target = await load_cluster(db, principal, target_id)
    path = mirror_path(source, target)
    if path.refusal:
        raise ProblemError(
            409,
            f"A mirror cannot be made from '{source.name}' to '{target.name}': {path.refusal}.",
            reason=path.refusal,
        )
    source_js = await svc.clusters.jetstream(endpoint(svc.cipher, source))
    try:
        target_js = await svc.clusters.jetstream(endpoint(svc.cipher, target))
    except ClusterUnreachable as exc:
        if not target_optional:
            raise
        return Ends(source, target, source_js, None, path, target_error=str(exc))
    return Ends(source, target, source_js, target_js, path)


async def stream_info(js: JetStreamApi, name: str) -> dict | None:
    try:
        return await js.stream_info(name)
    except JetStreamError as exc:
        if exc.not_found:
            return None
        raise


async def require_source(ends: Ends, stream: str) -> dict:
    info = await stream_info(ends.source_js, stream)
    if info is None:
        raise ProblemError(
            404,
            f"The source stream '{stream}' does not exist on cluster '{ends.source.name}'.",
            stream=stream,
        )
    return info


async def require_free(db: Db, ends: Ends, stream: str) -> None:
    if await stream_info(ends.target_js, stream) is not None:
        raise ProblemError(
            409,
            f"The stream '{stream}' already exists on cluster "
            f"'{ends.target.name}': choose another 'target_stream'.",
            stream=stream,
        )
    if claimed := await rows.live_claim(db, ends.target.id, stream):
        raise ProblemError(
            409,
            f"The stream '{stream}' on cluster '{ends.target.name}' is being "
            f"made by another mirror: {claimed}.",
            stream=stream,
            mirror_id=str(claimed.mirror_id),
        )


async def require_link(ends: Ends, stream: str) -> None:
    if not ends.path.cross_domain:
        return
    probe = await probe_link(ends.target_js.nc, ends.path.source_domain, stream)
    if not probe.ok:
        raise ProblemError(
            409,
            f"The link from cluster '{ends.target.name}' to cluster "
            f"'{ends.source.name}' cannot carry the mirror: {probe.reason}.",
            reason=probe.reason,
        )
