"""Team quotas: the limits in PostgreSQL, the live usage read from the clusters, the history.

A quota without a row is unlimited. Usage is what the team's streams on every cluster where it owns
a namespace add up to: the number of streams (KV buckets and object stores are streams), their
consumers, the sum of their ``max_bytes`` (the storage the team reserved), their stored messages,
and the largest ``max_msg_size`` and replica count. Inbound and outbound rates come from counters
the servers keep (each stream's last sequence, each consumer's delivered count) compared between
two reads (``rates``); the first read has none to compare with and reports them as not measured.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.clusters import endpoint
from core.db.models import (
    QUOTA_RESOURCES,
    NatsCluster,
    QuotaHistory,
    Team,
    TeamNamespace,
    TeamQuota,
)
from core.jetstream.api import JetStreamApi
from core.jetstream.pool import ClusterPool
from core.security import Cipher

MEASURED = ("streams", "consumers", "storage_bytes", "messages", "max_msg_size", "max_replicas")
LABELS = {
    "streams": "Streams",
    "consumers": "Consumers",
    "storage_bytes": "Total storage",
    "messages": "Messages",
    "max_msg_size": "Max message size",
    "max_replicas": "Replicas (max)",
    "inbound_rate": "Inbound rate (msg/s)",
    "outbound_rate": "Outbound rate (msg/s)",
}
STORE_PREFIXES = ("KV_", "OBJ_")


def owned_name(stream: str) -> str:
    """The name a namespace prefix is matched against: a bucket's or store's own name."""
    for prefix in STORE_PREFIXES:
        if stream.startswith(prefix):
            return stream[len(prefix) :]
    return stream


async def limits(db: AsyncSession, team_id: uuid.UUID) -> dict[str, int]:
    rows = await db.execute(
        select(TeamQuota.resource, TeamQuota.limit).where(TeamQuota.team_id == team_id)
    )
    return {resource: limit for resource, limit in rows}


async def set_limit(
    db: AsyncSession,
    team_id: uuid.UUID,
    resource: str,
    limit: int | None,
    *,
    reason: str,
    actor_id: uuid.UUID | None,
    actor_email: str,
    request_id: uuid.UUID | None = None,
) -> bool:
    """Set (or with None remove) one limit and keep it in the history. Applying the same request
    twice changes nothing the second time (the history's natural key is the request). Answers
    whether anything changed. The caller commits."""
    if request_id is not None and await db.scalar(
        select(QuotaHistory.id).where(
            QuotaHistory.request_id == request_id, QuotaHistory.resource == resource
        )
    ):
        return False
    row = await db.scalar(
        select(TeamQuota)
        .where(TeamQuota.team_id == team_id, TeamQuota.resource == resource)
        .with_for_update()
    )
    before = row.limit if row else None
    if before == limit:
        return False
    if limit is None:
        await db.delete(row)
    else:
        await db.execute(
            insert(TeamQuota)
            .values(
                id=uuid.uuid4(),
                team_id=team_id,
                resource=resource,
                limit=limit,
                updated_by=actor_id,
            )
            .on_conflict_do_update(
                index_elements=["team_id", "resource"],
                set_={"limit": limit, "updated_by": actor_id},
            )
        )
    db.add(
        QuotaHistory(
            team_id=team_id,
            resource=resource,
            before=before,
            after=limit,
            reason=reason,
            request_id=request_id,
            changed_by=actor_id,
            changed_by_email=actor_email,
        )
    )
    await db.flush()
    return True


async def history(db: AsyncSession, team_id: uuid.UUID, limit: int = 200) -> list[QuotaHistory]:
    return list(
        await db.scalars(
            select(QuotaHistory)
            .where(QuotaHistory.team_id == team_id)
            .order_by(QuotaHistory.created_at.desc())
            .limit(limit)
        )
    )


async def owning_team(
    db: AsyncSession, org_id: uuid.UUID, cluster_id: uuid.UUID, name: str
) -> Team | None:
    """The team whose namespace on the cluster covers the name (prefixes never overlap)."""
    rows = await db.execute(
        select(Team, TeamNamespace.prefix)
        .join(TeamNamespace, TeamNamespace.team_id == Team.id)
        .where(Team.org_id == org_id, TeamNamespace.cluster_id == cluster_id)
    )
    for team, prefix in rows:
        if name.startswith(prefix):
            return team
    return None


@dataclass
class Usage:
    values: dict[str, float | None] = field(default_factory=dict)
    streams: list[dict[str, Any]] = field(default_factory=list)  # the team's resources
    unreachable: list[str] = field(default_factory=list)  # clusters that did not answer
    counters: dict[str, list[int]] = field(default_factory=dict)  # stream: [stored, delivered]


async def live_usage(
    db: AsyncSession,
    pool: ClusterPool,
    cipher: Cipher,
    team_id: uuid.UUID,
    *,
    counters: bool = False,
) -> Usage:
    """The team's usage; with ``counters``, also each stream's message counters (one more
    request per stream with consumers), from which ``rates`` derives the traffic."""
    rows = (
        await db.execute(
            select(NatsCluster, TeamNamespace.prefix)
            .join(TeamNamespace, TeamNamespace.cluster_id == NatsCluster.id)
            .where(TeamNamespace.team_id == team_id)
        )
    ).all()
    by_cluster: dict[uuid.UUID, tuple[NatsCluster, list[str]]] = {}
    for cluster, prefix in rows:
        by_cluster.setdefault(cluster.id, (cluster, []))[1].append(prefix)
    usage = Usage()
    totals: dict[str, float] = {name: 0 for name in MEASURED}
    for cluster, prefixes in by_cluster.values():
        try:
            js = await pool.jetstream(endpoint(cipher, cluster))
            infos = await js.stream_list()
        except Exception as exc:  # one cluster down must not hide the others
            usage.unreachable.append(f"{cluster.name}: {exc}")
            continue
        for info in infos:
            config, state = info["config"], info.get("state", {})
            if not any(owned_name(config["name"]).startswith(p) for p in prefixes):
                continue
            add(totals, config, state)
            if counters:
                usage.counters[f"{cluster.id}/{config['name']}"] = [
                    state.get("last_seq", 0),
                    await _delivered(js, config["name"], state),
                ]
            usage.streams.append(
                {
                    "cluster_id": str(cluster.id),
                    "cluster": cluster.name,
                    "name": config["name"],
                    "max_bytes": config.get("max_bytes", -1),
                    "bytes": state.get("bytes", 0),
                    "messages": state.get("messages", 0),
                    "consumers": state.get("consumer_count", 0),
                    "num_replicas": config.get("num_replicas", 1),
                }
            )
    usage.values.update(totals)
    usage.values.update(inbound_rate=None, outbound_rate=None)
    return usage


async def _delivered(js: JetStreamApi, stream: str, state: dict[str, Any]) -> int:
    if not state.get("consumer_count"):
        return 0
    return sum(
        c.get("delivered", {}).get("consumer_seq", 0) for c in await js.consumer_list(stream)
    )


def rates(
    previous: dict[str, Any] | None, current: dict[str, list[int]], now: float
) -> dict[str, float] | None:
    """Messages per second stored into and delivered out of the team's streams since the
    ``previous`` sample ``{"t": time, "counters": {...}}``; None without a usable one (none, or
    taken less than 2 s or more than 15 min ago). Streams created or deleted in between count for
    nothing; a counter that went back (a stream recreated) counts zero."""
    if not previous or not 2 <= now - previous["t"] <= 900:
        return None
    elapsed = now - previous["t"]
    stored = delivered = 0
    for key, (was_stored, was_delivered) in previous["counters"].items():
        if key in current:
            stored += max(0, current[key][0] - was_stored)
            delivered += max(0, current[key][1] - was_delivered)
    return {
        "inbound_rate": round(stored / elapsed, 2),
        "outbound_rate": round(delivered / elapsed, 2),
    }


def add(values: dict[str, float], config: dict[str, Any], state: dict[str, Any]) -> None:
    values["streams"] += 1
    values["consumers"] += state.get("consumer_count", 0)
    values["messages"] += state.get("messages", 0)
    if (config.get("max_bytes") or -1) > 0:
        values["storage_bytes"] += config["max_bytes"]
    values["max_msg_size"] = max(values["max_msg_size"], config.get("max_msg_size") or 0)
    values["max_replicas"] = max(values["max_replicas"], config.get("num_replicas") or 1)


def report(limit_by_name: dict[str, int], usage: Usage) -> list[dict[str, Any]]:
    """One line per quota: limit, usage, percentage (None when unlimited or not measured)."""
    out = []
    for name in QUOTA_RESOURCES:
        limit, used = limit_by_name.get(name), usage.values.get(name)
        pct = round(used / limit * 100, 1) if limit and used is not None else None
        out.append(
            {"resource": name, "label": LABELS[name], "limit": limit, "usage": used, "percent": pct}
        )
    return out
