"""Deterministic risk notes shown to approvers: percentage increase, cost impact per month, size
against the team's history, and other quotas the team already nears (>= 80%). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from core.policy import measures as m
from core.policy import wording as w
from core.policy.models import ChangeRequest, HistoryEntry

NEAR_LIMIT = 0.8


def _fmt(resource: str, value: float | None) -> str:
    return w.limit_text(resource, value)


def _subject(request: ChangeRequest) -> tuple[str, float] | None:
    """The quota the change grows and by how much, or None (a quota request from an unlimited
    limit grows nothing)."""
    if request.kind == "quota" and request.quota_resource and request.requested_limit is not None:
        if request.current_limit is None:
            return None
        return request.quota_resource, request.requested_limit - request.current_limit
    added = m.storage_increase(request)
    return (m.STORAGE_QUOTA, added) if added else None


def _quota_note(res: str, old: float | None, new: float) -> str:
    if old is None:
        return (
            f"The {res} limit is unlimited today: a limit of {_fmt(res, new)} would lower it, "
            "not raise it."
        )
    ratios = [t for t in (w.change_text(new, old), w.times_text(new, old)) if t]
    detail = f" ({ratios[0]}, {ratios[1]} the current limit)" if ratios else ""
    verb = "rises" if new > old else "goes"
    return f"The {res} limit {verb} from {_fmt(res, old)} to {_fmt(res, new)}{detail}."


def _increase_note(request: ChangeRequest) -> str | None:
    if request.kind == "quota" and request.quota_resource and request.requested_limit is not None:
        return _quota_note(request.quota_resource, request.current_limit, request.requested_limit)
    old, new = m.max_bytes(request.before), m.max_bytes(request.after)
    if request.operation == "update" and old and new and old != new:
        return (
            f"max_bytes changes from {m.fmt_bytes(old)} to {m.fmt_bytes(new)} "
            f"({(new - old) / old * 100:+.0f}%)."
        )
    limit = request.quota.get(m.STORAGE_QUOTA)
    if request.operation == "create" and new and limit and limit > 0:
        return (
            f"The new {request.kind.replace('_', ' ')} reserves {m.fmt_bytes(new)}, "
            f"{new / limit * 100:.0f}% of the team's storage quota ({m.fmt_bytes(limit)})."
        )
    return None


def _cost_note(request: ChangeRequest, price_per_gb: float) -> str | None:
    added = m.storage_increase(request)
    if not added:
        return None
    cost = m.monthly_cost(request, price_per_gb)
    sign = "+" if cost >= 0 else "-"
    return (
        f"Cost impact: {sign}${abs(cost):,.2f}/month ({m.fmt_bytes(added)} at "
        f"${price_per_gb:g} per GB-month)."
    )


def _history_note(request: ChangeRequest, history: Sequence[HistoryEntry]) -> str | None:
    subject = _subject(request)
    if subject is None:
        return None
    resource, size = subject
    sizes = [
        abs(h.after - h.before) for h in history if h.resource == resource and h.after != h.before
    ]
    if not sizes:
        return f"The team has no earlier {resource} changes to compare with."
    largest = max(sizes)
    factor = w.times_text(abs(size), largest)
    if abs(size) > largest and factor:
        return (
            f"This change of {_fmt(resource, abs(size))} is {factor} the "
            f"team's largest earlier {resource} change ({_fmt(resource, largest)})."
        )
    return (
        f"This change of {_fmt(resource, abs(size))} is within the team's earlier {resource} "
        f"changes (largest: {_fmt(resource, largest)})."
    )


def _near_limit_notes(request: ChangeRequest) -> list[str]:
    subject = _subject(request)
    own = subject[0] if subject else None
    out = []
    for name in sorted(request.quota):
        limit, used = request.quota[name], request.usage.get(name)
        if name == own or used is None or limit is None or limit <= 0:
            continue
        if used / limit >= NEAR_LIMIT:
            out.append(
                f"The team already uses {used / limit * 100:.0f}% of its {name} quota "
                f"({_fmt(name, used)} of {_fmt(name, limit)})."
            )
    return out


def risk_notes(
    request: ChangeRequest, history: Sequence[HistoryEntry], price_per_gb: float
) -> list[str]:
    """The notes in a fixed order: increase, cost, history, nearing limits."""
    notes = [
        _increase_note(request),
        _cost_note(request, price_per_gb),
        _history_note(request, history),
    ]
    return [n for n in notes if n] + _near_limit_notes(request)
