"""What the change gate says of a whole sync: every change of the plan is judged by the same
policy code as a person's change (``core.changes.judge``), then the verdicts are combined into
one for the commit.

- Any change a policy auto-rejects, or one over a team's quota: the sync is ``rejected``, with the
  reasons, and nothing is applied.
- Every change auto-approved and none a replace or a delete: ``apply`` at once.
- Otherwise ``approval``: ONE change request for the commit, whose approvers are the union of
  the groups the policies ask for (a replace or a delete, which git alone never decides, asks at
  least for a platform admin).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.changes.judge import QuotaExceeded, Requester, judge
from core.changes.models import ChangeSpec
from core.policy import Decision
from core.policy import risk_notes as make_risk_notes
from core.policy.decide import DEFAULT_GROUP
from core.policy.models import ApprovalGroup
from gitops.plan_doc import CHANGE_KINDS


@dataclass
class Verdict:
    outcome: str  # "apply" | "approval" | "rejected"
    reasons: list[str] = field(default_factory=list)
    decision: Decision | None = None  # the combined decision of an approval
    risk_notes: list[str] = field(default_factory=list)
    environment: str | None = None  # the strictest environment of the plan


def spec_of(change: dict, cluster_id: str) -> ChangeSpec:
    """The change request one planned change is judged as. A replace is judged as the update it
    stands for (and always needs approval)."""
    operation = {"replace": "update"}.get(change["action"], change["action"])
    kind = CHANGE_KINDS[change["kind"]]
    return ChangeSpec(
        kind=kind,
        operation=operation,
        cluster_id=cluster_id,
        name=change["name"],
        stream=change["stream"],
        config=change["config"],
    )


_RANK = {"development": 0, "staging": 1, "production": 2}


async def judge_plan(
    db,
    sessions,
    pool,
    cipher,
    price: float,
    requester: Requester,
    environments: dict[str, dict],
    clusters: dict,
) -> Verdict:
    """Judge every change of ``environments`` (the stored plan's); ``clusters``: env → cluster
    row. Raises UsageUnknown when a team's usage cannot be measured."""
    decisions: list[Decision] = []
    reasons: list[str] = []
    notes: list[str] = []
    destructive: list[str] = []
    strictest: str | None = None
    for env, planned in environments.items():
        cluster = clusters[env]
        environment = None
        for change in planned["changes"]:
            spec = spec_of(change, str(cluster.id))
            try:
                judged = await judge(
                    db,
                    sessions,
                    pool,
                    cipher,
                    price,
                    requester,
                    cluster,
                    spec,
                    before=change.get("before"),
                    environment=environment,
                )
            except QuotaExceeded as exc:
                return Verdict(
                    "rejected", [f"{env}: {change['resource']}: {exc} (team '{exc.team.name}')"]
                )
            environment = judged.environment
            if strictest is None or _RANK[environment] > _RANK[strictest]:
                strictest = environment
            decision = judged.decision
            label = f"{env}: {change['resource']}"
            if decision.outcome == "auto_rejected":
                return Verdict("rejected", [f"{label}: {r}" for r in decision.reasons])
            if decision.outcome == "needs_approval":
                decisions.append(decision)
                reasons += [f"{label}: {r}" for r in decision.reasons]
            notes += [f"{label}: {n}" for n in make_risk_notes(judged.change, [], price)]
            if change["action"] in ("replace", "delete"):
                destructive.append(
                    f"{label}: {change['action']}"
                    + (f" ({change['reason']})" if change["reason"] else "")
                )
    if not decisions and not destructive:
        return Verdict("apply", environment=strictest)
    if destructive:
        reasons.append(
            "The plan deletes or replaces resources, which git alone never decides: "
            + "; ".join(destructive)
        )
    return Verdict(
        "approval", reasons, _combined(decisions, bool(destructive), reasons), notes, strictest
    )


def _combined(decisions: list[Decision], destructive: bool, reasons: list[str]) -> Decision:
    """One decision for the request: every group any policy asks for (once each), the shortest
    SLA, the first policy's escalation."""
    groups: list[ApprovalGroup] = []
    seen: set[tuple] = set()
    for decision in decisions:
        for group in decision.groups:
            key = (group.name, tuple(group.roles), tuple(group.teams), tuple(group.users))
            if key not in seen:
                seen.add(key)
                groups.append(group)
    if destructive and not any("admin" in g.roles for g in groups):
        groups.append(DEFAULT_GROUP)  # a replace loses data; a prune deletes
    first = decisions[0] if decisions else None
    slas = [d.sla_hours for d in decisions if d.sla_hours]
    return Decision(
        outcome="needs_approval",
        policy=first.policy if first else None,
        groups=groups,
        reasons=reasons[:50],
        sla_hours=min(slas) if slas else None,
        escalation=list(first.escalation) if first else [],
    )
