"""What policy says of one change, for whoever asks: the API's change gate (a person's request) and
the GitOps sync (a repository's commit) judge through this one function (DESIGN.md rule 4).

``judge`` builds the typed ``ChangeRequest`` a policy decides on: the strictest environment of any
registration of the cluster's server (``core.cluster_identity``), the team whose namespace owns
the name, the requester's namespaces (unless its grant is organization-wide), the team's live usage
and limits. A quota excess raises ``QuotaExceeded``; usage that cannot be measured (a cluster of
the team down) ``UsageUnknown``. Nothing is opened or stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import quotas
from core.changes.models import ChangeSpec
from core.cluster_identity import effective_environment
from core.db.models import ApprovalPolicyVersion, NatsCluster, Team, TeamNamespace
from core.policy import ApprovalPolicy, ChangeRequest, Decision, HistoryEntry, decide, quota_check
from core.policy.models import QuotaViolation


class QuotaExceeded(Exception):
    def __init__(self, team: Team, violations: list[QuotaViolation]):
        super().__init__(" ".join(v.sentence() for v in violations))
        self.team, self.violations = team, violations


class UsageUnknown(Exception):
    """The team's usage cannot be measured now, so its quotas cannot be checked."""


@dataclass
class Judgement:
    change: ChangeRequest
    decision: Decision
    team: Team | None
    environment: str


@dataclass
class JudgeCache:
    """What a batch of judgements (a sync's plan) reads once: environments per cluster, team
    state per team, the organization's policies."""

    environments: dict[uuid.UUID, str] = field(default_factory=dict)
    teams: dict[uuid.UUID, tuple[dict, dict]] = field(default_factory=dict)
    policies: list[ApprovalPolicy] | None = None


def governing_name(spec: ChangeSpec) -> str:
    return spec.stream if spec.kind == "consumer" and spec.stream else spec.name


async def current_policies(db: AsyncSession, org_id: uuid.UUID) -> list[ApprovalPolicy]:
    rows = await db.scalars(select(ApprovalPolicyVersion.definition).where(
        ApprovalPolicyVersion.org_id == org_id, ApprovalPolicyVersion.is_current))
    return [ApprovalPolicy.model_validate(d) for d in rows]


async def team_history(db: AsyncSession, team_id: uuid.UUID | None) -> list[HistoryEntry]:
    if team_id is None:
        return []
    return [HistoryEntry(resource=h.resource, before=h.before or 0, after=h.after or 0)
            for h in await quotas.history(db, team_id)]


async def team_prefixes(db: AsyncSession, team_id: uuid.UUID, cluster_id: uuid.UUID) -> list[str]:
    return list(await db.scalars(select(TeamNamespace.prefix).where(
        TeamNamespace.team_id == team_id, TeamNamespace.cluster_id == cluster_id)))


async def team_state(db: AsyncSession, pool, cipher, team: Team | None) -> tuple[dict, dict]:
    """(usage, limits) of the team, usage read live only when the team has limits."""
    if team is None:
        return {}, {}
    limits = await quotas.limits(db, team.id)
    if not limits:
        return {}, {}
    usage = await quotas.live_usage(db, pool, cipher, team.id)
    if usage.unreachable:
        raise UsageUnknown("The team's usage cannot be measured to check its quotas: "
                           + "; ".join(usage.unreachable))
    return {k: v for k, v in usage.values.items() if v is not None}, limits


async def strictest_environment(sessions: async_sessionmaker, pool, cipher,
                                cluster_id: uuid.UUID) -> str:
    """The strictest environment of the cluster's server, in a session of its own that keeps the
    identities it learnt whatever the caller's own transaction does."""
    async with sessions() as own:
        mine = await own.get(NatsCluster, cluster_id)
        environment = await effective_environment(own, pool, cipher, mine)
        await own.commit()
    return environment


async def judge(db: AsyncSession, sessions: async_sessionmaker, pool, cipher, *,
                org_id: uuid.UUID, cluster: NatsCluster, spec: ChangeSpec, requester_id: str,
                requester_roles: list[str], namespace_exempt: bool, price_per_gb: float,
                before: dict[str, Any] | None = None,
                cache: JudgeCache | None = None) -> Judgement:
    """Policy's decision on ``spec`` (see the module docstring). ``namespace_exempt``: the
    requester acts organization-wide (its grant is ``*``), so a team's namespaces do not bind it."""
    cache = cache or JudgeCache()
    name = governing_name(spec)
    team = await quotas.owning_team(db, org_id, cluster.id, quotas.owned_name(name))
    prefixes = (await team_prefixes(db, team.id, cluster.id)
                if team is not None and not namespace_exempt else [])
    if team is not None and team.id in cache.teams:
        usage, limits = cache.teams[team.id]
    else:
        usage, limits = await team_state(db, pool, cipher, team)
        if team is not None:
            cache.teams[team.id] = (usage, limits)
    if cluster.id not in cache.environments:
        cache.environments[cluster.id] = await strictest_environment(sessions, pool, cipher,
                                                                     cluster.id)
    environment = cache.environments[cluster.id]
    change = ChangeRequest(
        kind=spec.kind, operation=spec.operation, environment=environment,
        team_prefixes=prefixes, namespace_exempt=namespace_exempt,
        resource_name=name if spec.kind != "consumer" else spec.name,
        stream_name=spec.stream if spec.kind == "consumer" else None,
        requester_id=requester_id, requester_roles=requester_roles,
        before=before, after=spec.config, usage=usage, quota=limits)
    violations = quota_check(usage, limits, change)
    if violations:
        raise QuotaExceeded(team, violations)
    if cache.policies is None:
        cache.policies = await current_policies(db, org_id)
    decision = decide(change, cache.policies, True, price_per_gb)
    return Judgement(change, decision, team, environment)
