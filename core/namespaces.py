"""Team namespaces: stream-name prefixes a team owns on a cluster of its organization.

A permission granted with scope ``team`` covers the streams (and their consumers) whose names start
with a prefix of one of the caller's teams on that cluster; ``team:{id}`` covers one team's
prefixes; ``cluster:{id}`` every stream of one cluster; ``*`` everything. Two teams never own
overlapping prefixes on one cluster, so a stream belongs to at most one team.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import NatsCluster, Team, TeamMember, TeamNamespace
from core.tenancy import Conflict, NotFound

PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


@dataclass(frozen=True)
class Namespace:
    cluster_id: uuid.UUID
    prefix: str


async def check_namespaces(
    db: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID | None, namespaces: list[Namespace]
) -> list[Namespace]:
    """Every cluster must be the organization's (else NotFound) and no prefix may overlap one of
    another team on the same cluster (else Conflict)."""
    wanted = sorted(set(namespaces), key=lambda n: (str(n.cluster_id), n.prefix))
    for ns in wanted:
        if (
            await db.scalar(
                select(NatsCluster.id).where(
                    NatsCluster.id == ns.cluster_id, NatsCluster.org_id == org_id
                )
            )
            is None
        ):
            raise NotFound(f"No cluster with id {ns.cluster_id} in your organization.")
        others = await db.execute(
            select(Team.name, TeamNamespace.prefix)
            .join(Team, Team.id == TeamNamespace.team_id)
            .where(
                Team.org_id == org_id,
                TeamNamespace.cluster_id == ns.cluster_id,
                Team.id != team_id if team_id else true(),
            )
        )
        for team_name, prefix in others:
            if prefix.startswith(ns.prefix) or ns.prefix.startswith(prefix):
                raise Conflict(
                    f"The prefix '{ns.prefix}' overlaps '{prefix}' of team "
                    f"'{team_name}' on this cluster; a stream belongs to one team."
                )
    return wanted


async def team_namespaces(
    db: AsyncSession, team_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Namespace]]:
    out: dict[uuid.UUID, list[Namespace]] = {t: [] for t in team_ids}
    if team_ids:
        rows = await db.execute(
            select(TeamNamespace.team_id, TeamNamespace.cluster_id, TeamNamespace.prefix)
            .where(TeamNamespace.team_id.in_(team_ids))
            .order_by(TeamNamespace.prefix)
        )
        for team_id, cluster_id, prefix in rows:
            out[team_id].append(Namespace(cluster_id, prefix))
    return out


async def set_namespaces(db: AsyncSession, team: Team, namespaces: list[Namespace]) -> None:
    for row in await db.scalars(select(TeamNamespace).where(TeamNamespace.team_id == team.id)):
        await db.delete(row)
    await db.flush()
    for ns in namespaces:
        db.add(TeamNamespace(team_id=team.id, cluster_id=ns.cluster_id, prefix=ns.prefix))
    await db.flush()


async def prefixes_in_scope(
    db: AsyncSession,
    *,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    scopes: set[str],
    cluster_id: uuid.UUID,
) -> list[str] | None:
    """The stream-name prefixes ``scopes`` cover on the cluster: None means every stream."""
    if "*" in scopes or f"cluster:{cluster_id}" in scopes:
        return None
    teams = []
    if "team" in scopes:
        teams.append(Team.id.in_(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))
    named = [uuid.UUID(s[5:]) for s in scopes if s.startswith("team:")]
    if named:
        teams.append(Team.id.in_(named))
    if not teams:
        return []
    rows = await db.scalars(
        select(TeamNamespace.prefix)
        .join(Team, Team.id == TeamNamespace.team_id)
        .where(Team.org_id == org_id, TeamNamespace.cluster_id == cluster_id, or_(*teams))
        .order_by(TeamNamespace.prefix)
    )
    return sorted(set(rows))


def covers(prefixes: list[str] | None, stream: str) -> bool:
    return prefixes is None or any(stream.startswith(p) for p in prefixes)
