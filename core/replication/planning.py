"""From a ``FailoverRequest`` to a :class:`FailoverPlan`, and step 1 (measure) over a whole plan:
what the API does before it answers, and what the workflow does again before it acts (an approval
can take hours).

A request for a pair that is active on the target already (it failed over without ``reverse``)
with ``reverse`` is a reverse alone (``FailoverPlan.reverse_only``): the old primary becomes a
mirror of the target, and nothing else is done.

A pair's streams are its ``streams`` (``{stream, mirror_stream}``); a request without a pair names
the primary's streams, and their mirrors are found on the target (a stream whose ``mirror`` reads
that stream from the primary's domain; the console's own mirror first when there are several).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clusters import ClusterNotFound, get_cluster
from core.db.models import DrPair, NatsCluster
from core.jetstream.api import JetStreamApi
from core.replication import active_side, records, reverse
from core.replication.failover import measure_stream, probe, refuse_over_budget, summarise
from core.replication.mirrors import api_prefix
from core.replication.models import FailoverRequest
from core.replication.plan import ClusterRef, FailoverPlan, Measured, PlanStream

Connect = Callable[[NatsCluster], Awaitable[JetStreamApi]]


class PlanProblem(Exception):
    """The request cannot become a plan: ``status`` (404, 409) and a sentence."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def cluster_ref(cluster: NatsCluster) -> ClusterRef:
    return ClusterRef(
        cluster_id=str(cluster.id),
        name=cluster.name,
        domain=cluster.jetstream_domain,
        environment=cluster.environment,
    )


async def _cluster(
    db: AsyncSession, org_id: uuid.UUID, cluster_id: uuid.UUID | str | None, role: str
) -> NatsCluster:
    try:
        return await get_cluster(db, org_id, uuid.UUID(str(cluster_id)))
    except ClusterNotFound as exc:
        raise PlanProblem(
            404, f"No {role} cluster with id {cluster_id} in your organization."
        ) from exc


async def resolve(
    db: AsyncSession, org_id: uuid.UUID, request: FailoverRequest, connect: Connect
) -> tuple[FailoverPlan, NatsCluster, NatsCluster]:
    """The plan (not measured yet) and the primary and target clusters."""
    target = await _cluster(db, org_id, request.target_cluster_id, "target")
    pair, reverse_only = None, False
    if request.pair_id is not None:
        pair = await records.pair_of(db, org_id, request.pair_id)
        if pair is None:
            raise PlanProblem(404, f"No DR pair with id {request.pair_id} in your organization.")
        reverse_only = _reverse_only(pair, target, request)
        primary = await _cluster(db, org_id, pair.primary_cluster_id, "primary")
        streams = [
            PlanStream(stream=s["stream"], mirror_stream=s.get("mirror_stream") or s["stream"])
            for s in pair.streams or []
        ]
        if not streams:
            raise PlanProblem(409, f"The pair '{pair.name}' protects no streams.")
    else:
        primary = await _cluster(db, org_id, request.primary_cluster_id, "primary")
        streams = await _find_mirrors(db, org_id, primary, target, request.streams, connect)
    if not reverse_only:  # a reverse alone promotes nothing: its mirrors are made anew
        rows = await records.mirrors_on(db, org_id, target.id, [s.mirror_stream for s in streams])
        for s in streams:
            if (row := rows.get(s.mirror_stream)) is not None and row.source_stream == s.stream:
                s.mirror_id, s.consumer = str(row.id), row.consumer_name
    if primary.id != target.id and (not primary.jetstream_domain or not target.jetstream_domain):
        raise PlanProblem(
            409,
            "Both clusters need a JetStream domain: a mirror in another "
            "cluster reads its source through $JS.<domain>.API.",
        )
    key = (
        str(pair.id)
        if pair
        else active_side.pairless_key(
            [str(primary.id), str(target.id)], [s.stream for s in streams]
        )
    )
    plan = FailoverPlan(
        request=request,
        pair_id=str(pair.id) if pair else None,
        pair_name=pair.name if pair else None,
        key=key,
        primary=cluster_ref(primary),
        target=cluster_ref(target),
        streams=streams,
        reverse_only=reverse_only,
    )
    return plan, primary, target


def _reverse_only(pair: DrPair, target: NatsCluster, request: FailoverRequest) -> bool:
    """Whether the request is a reverse alone (the pair failed over to ``target`` without
    ``reverse``, and asks for it now); PlanProblem when the pair cannot go to ``target``."""
    if target.id == pair.primary_cluster_id == pair.active_cluster_id and request.reverse:
        raise PlanProblem(
            409,
            f"Nothing to reverse: the pair '{pair.name}' is active on its "
            f"primary ({target.id}) and its standby ({pair.standby_cluster_id}) "
            "mirrors it. To fail over, target the standby.",
        )
    if target.id != pair.standby_cluster_id:
        raise PlanProblem(
            409,
            f"The target must be the pair's standby cluster "
            f"({pair.standby_cluster_id}): a pair fails over to its standby.",
        )
    if pair.active_cluster_id != target.id:
        return False
    if not request.reverse:
        raise PlanProblem(
            409,
            f"The pair '{pair.name}' is active on the target already (a "
            "failover happened without 'reverse'): there is no mirror left to "
            "promote; its old primary is fenced. To make the old primary a "
            "mirror of the target, ask again with 'reverse': true.",
        )
    if request.drill:  # FailoverRequest refuses drill with reverse already; said again here
        raise PlanProblem(409, "A drill cannot reverse.")
    return True


async def _find_mirrors(
    db: AsyncSession,
    org_id: uuid.UUID,
    primary: NatsCluster,
    target: NatsCluster,
    names: list[str],
    connect: Connect,
) -> list[PlanStream]:
    js = await connect(target)
    found = await js.stream_list()
    expected = api_prefix(primary.jetstream_domain) if primary.id != target.id else None
    rows = await records.mirrors_on(db, org_id, target.id, [s["config"]["name"] for s in found])
    out = []
    for name in dict.fromkeys(names):
        candidates = [
            s["config"]["name"]
            for s in found
            if (m := s["config"].get("mirror"))
            and m.get("name") == name
            and (m.get("external") or {}).get("api") == expected
        ]
        managed = [c for c in candidates if c in rows and rows[c].source_cluster_id == primary.id]
        if not candidates:
            raise PlanProblem(
                409,
                f"No stream on the target mirrors '{name}' of the primary: "
                "make a mirror first (POST /api/v1/operations/mirror).",
            )
        if len(candidates) > 1 and len(managed) != 1:
            raise PlanProblem(
                409,
                f"Several streams on the target mirror '{name}' "
                f"({', '.join(sorted(candidates))}): make a DR pair that says "
                "which one protects it.",
            )
        out.append(PlanStream(stream=name, mirror_stream=(managed or candidates)[0]))
    return out


async def measure(
    plan: FailoverPlan, primary: JetStreamApi | None, target: JetStreamApi
) -> Measured:
    """Step 1 over the plan. Reads only; ``Measured.refusals`` are the reasons to refuse."""
    if plan.reverse_only:
        return await reverse.measure_reverse(plan, primary, target)
    request = plan.request
    target_streams = await target.stream_list()
    streams = await asyncio.gather(
        *(
            measure_stream(
                primary,
                target,
                s,
                primary_domain=plan.primary.domain,
                cross_domain=plan.cross_domain,
                mode=request.mode,
                drill=request.drill,
                target_streams=target_streams,
            )
            for s in plan.streams
        )
    )
    if plan.cross_domain and (request.mode == "planned" or request.drill):
        await asyncio.gather(
            *(
                probe(target.nc, plan.primary.domain, m)
                for m in streams
                if m.primary_reachable and not m.problems
            )
        )
    measured = summarise(list(streams))
    measured.problems += refuse_over_budget(measured, request.max_data_loss_messages, request.mode)
    return measured
