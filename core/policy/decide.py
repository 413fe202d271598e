"""The approval decision: which policy matches a change request and what it asks (pure).

``decide`` sorts the enabled policies by (priority, name); the first whose triggers match decides.
Within it an auto-reject rule beats an auto-approve rule; otherwise the change needs the policy's
approval groups (those whose cost condition holds), in order. When no policy matches, the default
is: auto-approved when within quota, else one approval from a platform admin (``DEFAULT_GROUP``).
A matching policy that neither auto-decides nor lists a group also falls back to ``DEFAULT_GROUP``.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.policy import measures as m
from core.policy import wording as w
from core.policy.models import (
    ApprovalGroup,
    ApprovalPolicy,
    AutoApprove,
    AutoReject,
    ChangeRequest,
    Decision,
    PolicyRef,
    Triggers,
)

DEFAULT_GROUP = ApprovalGroup(name="Platform admins", count=1, roles=["admin"])


def trigger_reasons(
    triggers: Triggers, request: ChangeRequest, price_per_gb: float
) -> list[str] | None:
    """None when the triggers do not match, else the threshold sentences that matched (may be
    empty when the policy has no thresholds)."""
    if triggers.environments and request.environment not in triggers.environments:
        return None
    if triggers.kinds and request.kind not in triggers.kinds:
        return None
    if triggers.operations and request.operation not in triggers.operations:
        return None
    if not triggers.has_thresholds():
        return []
    hits = []
    added = m.storage_increase(request)
    if (
        triggers.storage_increase_gt_bytes is not None
        and added > triggers.storage_increase_gt_bytes
    ):
        hits.append(
            f"Storage grows by {m.fmt_bytes(added)}, more than "
            f"{m.fmt_bytes(triggers.storage_increase_gt_bytes)}."
        )
    if triggers.quota_multiplier_gt is not None and m.quota_multiplier_above(
        request, triggers.quota_multiplier_gt
    ):
        hits.append(
            w.multiplier_reason(
                request.quota_resource or "",
                request.requested_limit or 0,
                request.current_limit,
                triggers.quota_multiplier_gt,
            )
        )
    if triggers.replicas_changed and m.replicas_changed(request):
        hits.append(
            f"Replicas change from {m.replicas(request.before)} to {m.replicas(request.after)}."
        )
    cost = m.monthly_cost(request, price_per_gb)
    if triggers.monthly_cost_gt is not None and cost > triggers.monthly_cost_gt:
        hits.append(
            f"The cost impact of ${cost:,.2f}/month is above "
            f"${triggers.monthly_cost_gt:,.2f}/month."
        )
    return hits or None


def reject_reasons(rule: AutoReject, request: ChangeRequest) -> list[str]:
    if rule.environments and request.environment not in rule.environments:
        return []
    if rule.kinds and request.kind not in rule.kinds:
        return []
    out = []
    if (
        rule.min_replicas is not None
        and request.after is not None
        and request.operation in ("create", "update")
        and m.replicas(request.after) < rule.min_replicas
    ):
        out.append(
            f"A {request.environment} {request.kind.replace('_', ' ')} needs at least "
            f"{rule.min_replicas} replicas; this one has {m.replicas(request.after)}."
        )
    if (
        rule.outside_namespace
        and request.kind != "quota"
        and not request.namespace_exempt
        and not m.inside_namespace(request)
    ):
        prefixes = ", ".join(f"'{p}'" for p in request.team_prefixes) or "none"
        out.append(
            f"The name '{m.governing_name(request)}' is outside the team's namespaces "
            f"(prefixes: {prefixes})."
        )
    return out


def approve_reason(rule: AutoApprove, request: ChangeRequest, quota_ok: bool) -> str | None:
    """The sentence of an auto-approve rule that holds, else None."""
    parts = []
    if rule.environments:
        if request.environment not in rule.environments:
            return None
        parts.append(f"the change is in {request.environment}")
    if rule.within_quota:
        if not quota_ok:
            return None
        parts.append("it stays within the team's quota")
    if rule.change_under_pct is not None:
        pct = m.change_pct(request)
        if pct is None or pct >= rule.change_under_pct:
            return None
        parts.append(
            f"it changes the current limits by {pct:.1f}%, under {rule.change_under_pct:g}%"
        )
    if rule.requested_limit_below_bytes is not None:
        if (
            request.kind != "quota"
            or request.quota_resource != m.STORAGE_QUOTA
            or request.requested_limit is None
            or request.requested_limit >= rule.requested_limit_below_bytes
        ):
            return None
        parts.append(
            f"the requested storage of {m.fmt_bytes(request.requested_limit)} is under "
            f"{m.fmt_bytes(rule.requested_limit_below_bytes)}"
        )
    if not parts:
        return None
    text = ", ".join(parts)
    return f"Auto-approved: {text[0].upper()}{text[1:]}."


def required_groups(
    policy: ApprovalPolicy, request: ChangeRequest, price_per_gb: float
) -> list[ApprovalGroup]:
    cost = m.monthly_cost(request, price_per_gb)
    return [
        g for g in policy.groups if g.when_monthly_cost_gt is None or cost > g.when_monthly_cost_gt
    ]


def describe_group(group: ApprovalGroup) -> str:
    who = (
        [f"role {r}" for r in group.roles]
        + [f"team {t}" for t in group.teams]
        + [f"user {u}" for u in group.users]
    )
    return f"{group.count} approval(s) from {' or '.join(who) or 'anyone'} ({group.name})"


def decide(
    request: ChangeRequest, policies: Iterable[ApprovalPolicy], quota_ok: bool, price_per_gb: float
) -> Decision:
    ordered = sorted((p for p in policies if p.enabled), key=lambda p: (p.priority, p.name))
    for policy in ordered:
        hits = trigger_reasons(policy.triggers, request, price_per_gb)
        if hits is None:
            continue
        ref = PolicyRef(name=policy.name, version=policy.version)
        matched = [f"Policy '{policy.name}' (v{policy.version}) applies.", *hits]
        rejects = [r for rule in policy.auto_reject for r in reject_reasons(rule, request)]
        if rejects:
            return Decision(outcome="auto_rejected", policy=ref, reasons=[*matched, *rejects])
        for rule in policy.auto_approve:
            reason = approve_reason(rule, request, quota_ok)
            if reason:
                return Decision(outcome="auto_approved", policy=ref, reasons=[*matched, reason])
        groups = required_groups(policy, request, price_per_gb) or [DEFAULT_GROUP]
        if not quota_ok:
            matched.append("The change exceeds the team's quota.")
        steps = "; then ".join(describe_group(g) for g in groups)
        return Decision(
            outcome="needs_approval",
            policy=ref,
            groups=groups,
            reasons=[*matched, f"Needs {steps}."],
            sla_hours=policy.sla_hours,
            escalation=policy.escalation,
        )
    if quota_ok:
        return Decision(
            outcome="auto_approved",
            reasons=[
                "No approval policy matches this change and it stays within the team's quota."
            ],
        )
    return Decision(
        outcome="needs_approval",
        groups=[DEFAULT_GROUP],
        reasons=[
            "No approval policy matches this change, but it exceeds the team's quota.",
            f"Needs {describe_group(DEFAULT_GROUP)}.",
        ],
    )
