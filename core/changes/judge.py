"""What policy says of one change, whoever asks (a person through the API, a git push through a
sync activity): the typed request a policy judges, built the same way for everyone.

``judge`` builds it — the strictest environment of every registration of the cluster's server,
the team that owns the name, the requester's namespaces (unless their grant is organization-wide),
the team's live usage and limits — checks the team's quotas, and asks ``core.policy.decide``. It
opens nothing and applies nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import quotas
from core.changes.models import ChangeSpec
from core.cluster_identity import effective_environment
from core.db.models import ApprovalPolicyVersion, NatsCluster, Team, TeamNamespace
from core.policy import ApprovalPolicy, ChangeRequest, Decision, HistoryEntry, decide, quota_check
from core.policy.models import QuotaViolation, stored_policy

if TYPE_CHECKING:
    from core.jetstream.pool import ClusterPool
    from core.security import Cipher


class QuotaExceeded(Exception):
    """The change would take the owning team over a quota."""

    def __init__(self, team: Team, violations: list[QuotaViolation]):
        super().__init__(" ".join(v.sentence() for v in violations))
        self.team, self.violations = team, violations


class UsageUnknown(Exception):
    """The team has quotas and its usage cannot be measured now."""


@dataclass(frozen=True)
class Requester:
    """Who asks: a user (``user_id`` their id) or a repository (a non-user id). ``exempt``: the
    grant is organization-wide, so namespaces do not narrow it."""

    org_id: uuid.UUID
    user_id: str
    roles: list[str] = field(default_factory=list)
    exempt: bool = False


@dataclass(frozen=True)
class Judged:
    change: ChangeRequest
    decision: Decision
    team: Team | None
    environment: str


def governing_name(spec: ChangeSpec) -> str:
    return spec.stream if spec.kind == "consumer" and spec.stream else spec.name


async def current_policies(db: AsyncSession, org_id: uuid.UUID) -> list[ApprovalPolicy]:
    rows = await db.scalars(
        select(ApprovalPolicyVersion.definition).where(
            ApprovalPolicyVersion.org_id == org_id, ApprovalPolicyVersion.is_current
        )
    )
    return [ApprovalPolicy.model_validate(stored_policy(d)) for d in rows]


async def team_history(db: AsyncSession, team_id: uuid.UUID | None) -> list[HistoryEntry]:
    if team_id is None:
        return []
    return [
        HistoryEntry(resource=h.resource, before=h.before or 0, after=h.after or 0)
        for h in await quotas.history(db, team_id)
    ]


async def team_state(
    db: AsyncSession, pool: ClusterPool, cipher: Cipher, team: Team | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(usage, limits) of the team, usage read live only when the team has limits."""
    if team is None:
        return {}, {}
    limits = await quotas.limits(db, team.id)
    if not limits:
        return {}, {}
    usage = await quotas.live_usage(db, pool, cipher, team.id)
    if usage.unreachable:
        raise UsageUnknown(
            "The team's usage cannot be measured to check its quotas: "
            + "; ".join(usage.unreachable)
        )
    return {k: v for k, v in usage.values.items() if v is not None}, limits


async def environment_of(
    sessions: async_sessionmaker[AsyncSession],
    pool: ClusterPool,
    cipher: Cipher,
    cluster: NatsCluster,
) -> str:
    """The strictest environment of the cluster's server, in a session of its own that keeps the
    identities it learnt whatever the change's own transaction does."""
    async with sessions() as own:
        mine = await own.get(NatsCluster, cluster.id)
        if mine is None:
            raise LookupError(f"the cluster {cluster.id} is gone")
        environment = await effective_environment(own, pool, cipher, mine)
        await own.commit()
    return environment


async def prefixes(db: AsyncSession, team_id: uuid.UUID, cluster_id: uuid.UUID) -> list[str]:
    return list(
        await db.scalars(
            select(TeamNamespace.prefix).where(
                TeamNamespace.team_id == team_id, TeamNamespace.cluster_id == cluster_id
            )
        )
    )


async def judge(
    db: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    pool: ClusterPool,
    cipher: Cipher,
    price: float,
    requester: Requester,
    cluster: NatsCluster,
    spec: ChangeSpec,
    *,
    before: dict[str, Any] | None = None,
    environment: str | None = None,
) -> Judged:
    """What policy says of ``spec`` on ``cluster``. Raises QuotaExceeded or UsageUnknown.
    ``environment``, when the caller knows it already, saves probing the cluster again."""
    name = governing_name(spec)
    team = await quotas.owning_team(db, requester.org_id, cluster.id, quotas.owned_name(name))
    own = (
        await prefixes(db, team.id, cluster.id) if team is not None and not requester.exempt else []
    )
    usage, limits = await team_state(db, pool, cipher, team)
    if environment is None:
        environment = await environment_of(sessions, pool, cipher, cluster)
    change = ChangeRequest(
        kind=spec.kind,
        operation=spec.operation,
        environment=environment,
        team_prefixes=own,
        namespace_exempt=requester.exempt,
        resource_name=name if spec.kind != "consumer" else spec.name,
        stream_name=spec.stream if spec.kind == "consumer" else None,
        requester_id=requester.user_id,
        requester_roles=list(requester.roles),
        before=before,
        after=spec.config,
        usage=usage,
        quota=limits,
    )
    violations = quota_check(usage, limits, change)
    if violations:
        assert team is not None  # only a team has limits
        raise QuotaExceeded(team, violations)
    decision = decide(change, await current_policies(db, requester.org_id), True, price)
    return Judged(change, decision, team, environment)
