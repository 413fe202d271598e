"""Approvals, quotas and approval policies written for people (pure functions, no Streamlit).

- :func:`policy_summary`: a policy definition as the source design's policy screen words it
  (triggers, approval requirements, auto-approve, auto-reject, SLA, escalation).
- :func:`usage_label` and :func:`limit_text`: a quota's usage against its limit, e.g.
  "8 / 15 (53%)", storage in GB, "unlimited" without a limit, "not measured" without a usage.
- :func:`change_rows`, :func:`group_text`, :func:`vote_text`: the parts of an approval request.
- :func:`plain`: text a model wrote, escaped so Markdown shows it as written (no links, images or
  formatting of its own).
- :func:`check_quota_request`, :func:`check_limits`: the quota forms' checks, ``(payload,
  problems)`` like ``ui.forms``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

GB = 1024**3
"""One GB is 2**30 bytes, as JetStream reports sizes and the policies count them."""

KIND_NAMES = {
    "stream": "stream",
    "consumer": "consumer",
    "kv_bucket": "KV bucket",
    "object_store": "object store",
    "purge": "purge",
    "replay": "replay",
    "quota": "quota",
    "mirror": "mirror",
    "failover": "failover",
    "restore": "restore",
}
APPROVAL_BADGES = {
    "waiting_approval": "◔ Waiting for approval",
    "executing": "▶ Executing",
    "executed": "✔ Executed",
    "failed": "✖ Failed",
    "rejected": "⛔ Rejected",
    "withdrawn": "↩ Withdrawn",
    "changes_requested": "✎ Changes requested",
    "auto_approved": "✔ Auto-approved",
    "auto_rejected": "⛔ Auto-rejected",
}
MARKDOWN_SPECIAL = "\\`*_{}[]()<>#+-.!|~$"


def plain(value: str) -> str:
    """``value`` as literal text inside Markdown: every character Markdown could read as syntax
    is escaped, and lines stay one paragraph."""
    escaped = "".join(f"\\{c}" if c in MARKDOWN_SPECIAL else c for c in value)
    return " ".join(escaped.split())


VOTE_WORDS = {
    "approve": "approved",
    "reject": "rejected",
    "request_changes": "requested changes",
    "request-changes": "requested changes",
    "withdraw": "withdrew the request",
}
# how each quota is entered and shown: (unit word, bytes or units per entered unit)
QUOTA_UNITS: dict[str, tuple[str, int]] = {
    "storage_bytes": ("GB", GB),
    "max_msg_size": ("bytes", 1),
    "inbound_rate": ("msg/s", 1),
    "outbound_rate": ("msg/s", 1),
}
MAX_LIMIT = 2**63 - 1
UNLIMITED_ALREADY = (
    "This quota is already unlimited: a request raises a limit, and there is none to raise."
)


# --------------------------------------------------------------------------- numbers


def gb(n: float | None) -> str:
    """Bytes as GB (2**30): 48_318_382_080 → "45 GB"; small amounts keep two decimals."""
    if n is None or not math.isfinite(float(n)):
        return "—"
    value = float(n) / GB
    if 0 < value < 0.01:
        return "< 0.01 GB"
    return f"{round(value, 2):,.12g} GB"


def amount(resource: str, value: float | None) -> str:
    """A quota's figure in its unit: storage in GB, sizes in bytes, counts as "125M"; "—" for
    none, or for a value that is not a finite number (never "inf" or "nan")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    if resource == "storage_bytes":
        return gb(value)
    if resource == "max_msg_size":
        return _bytes(value)
    text = _count(value)
    return f"{text}/s" if resource.endswith("_rate") else text


def _bytes(n: float) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{int(value)} B" if unit == "B" else f"{round(value, 1):g} {unit}"
        value /= 1024
    return f"{round(value, 1):g} TiB"


def _count(n: float) -> str:
    n = float(n)
    for at_least, unit, suffix in (
        (1e12, 1e12, "T"),
        (1e9, 1e9, "B"),
        (1e6, 1e6, "M"),
        (1e4, 1e3, "K"),
    ):
        if abs(n) >= at_least:
            return f"{round(n / unit, 1):g}{suffix}"
    return f"{n:,.0f}" if n == int(n) else f"{n:,.1f}"


def limit_text(resource: str, limit: float | None) -> str:
    """A quota's limit: "unlimited" without one (an infinite one too), "—" when not a number."""
    if limit is None or limit == math.inf:
        return "unlimited"
    return amount(resource, limit)


def usage_label(
    resource: str, usage: float | None, limit: float | None, percent: float | None
) -> str:
    """ "8 / 15 (53%)", "45 GB / 100 GB (45%)", "3 / unlimited", "not measured / 10K/s"."""
    used = "not measured" if usage is None else amount(resource, usage)
    text = f"{used} / {limit_text(resource, limit)}"
    if percent is not None and limit is not None and usage is not None:
        text += f" ({percent:.0f}%)"
    return text


def usage_fraction(percent: float | None) -> float:
    """The bar's fill, 0..1 (a quota already exceeded shows full)."""
    if percent is None:
        return 0.0
    return max(0.0, min(1.0, float(percent) / 100))


def quota_status(percent: float | None, limit: float | None, usage: float | None) -> str:
    if limit is None:
        return "● No limit"
    if usage is None or percent is None:
        return "○ Not measured"
    if percent > 100:
        return "✖ Over quota"
    if percent >= 80:
        return "◐ Near the limit"
    return "● OK"


def to_entered(resource: str, limit: int | None) -> float | int | None:
    """A stored limit in the unit it is entered in (storage: GB, a float; others whole)."""
    if limit is None:
        return None
    factor = QUOTA_UNITS.get(resource, ("", 1))[1]
    return round(limit / factor, 3) if factor != 1 else int(limit)


def unit_of(resource: str) -> str:
    return QUOTA_UNITS.get(resource, ("", 1))[0]


# --------------------------------------------------------------------------- quota forms


def check_quota_request(
    *,
    team_id: str | None,
    resource: str | None,
    requested: float | None,
    justification: str,
    current: int | None = None,
    unlimited: bool = False,
) -> tuple[dict[str, Any] | None, list[str]]:
    """The body of ``POST /quota-requests``; ``requested`` in the resource's entered unit.
    ``current`` is the limit in force (None: not known), ``unlimited`` says there is none: a
    request must raise a limit, and an unlimited one cannot be raised."""
    problems = []
    if not team_id:
        problems.append("Choose the team the quota is for.")
    if not resource:
        problems.append("Choose the quota to raise.")
    limit = None
    if unlimited:
        problems.append(UNLIMITED_ALREADY)
    elif requested is None:
        problems.append("Enter the limit you need.")
    else:
        limit = int(round(float(requested) * QUOTA_UNITS.get(resource or "", ("", 1))[1]))
        if limit <= 0:
            problems.append("The requested limit must be more than 0.")
        elif limit > MAX_LIMIT:
            problems.append("The requested limit is too large.")
        elif current is not None and limit <= current:
            problems.append(
                f"The requested limit must be above the current one "
                f"({limit_text(resource or '', current)})."
            )
    if not justification.strip():
        problems.append("Say why the team needs it: a justification is required.")
    elif len(justification) > 4000:
        problems.append("Keep the justification under 4,000 characters.")
    if problems:
        return None, problems
    return {
        "team_id": team_id,
        "resource": resource,
        "requested_limit": limit,
        "justification": justification.strip(),
    }, []


def check_limits(
    entered: Mapping[str, float | None],
) -> tuple[dict[str, int | None] | None, list[str]]:
    """``{"limits": ...}`` of ``PUT /teams/{tid}/quotas`` from values in their entered units
    (None or empty: unlimited)."""
    limits: dict[str, int | None] = {}
    problems = []
    for resource, value in entered.items():
        if value is None:
            limits[resource] = None
            continue
        limit = int(round(float(value) * QUOTA_UNITS.get(resource, ("", 1))[1]))
        if limit < 0 or limit > MAX_LIMIT:
            problems.append(f"The limit of {resource} must be 0 or more.")
        limits[resource] = limit
    return (None, problems) if problems else (limits, [])


# --------------------------------------------------------------------------- policies


def _kinds(kinds: Iterable[str]) -> str:
    return "/".join(KIND_NAMES.get(k, k.replace("_", " ")) for k in kinds)


def _or(items: Iterable[str]) -> str:
    items = list(items)
    return " or ".join(items)


def _hours(hours: float) -> str:
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def trigger_lines(triggers: Mapping[str, Any]) -> list[str]:
    """ "Any stream/consumer operation in production clusters", then the thresholds (any of)."""
    kinds, ops, envs = (
        list(triggers.get(k) or ()) for k in ("kinds", "operations", "environments")
    )
    what = "Any " + (_kinds(kinds) + " " if kinds else "")
    what += "/".join(ops) if ops else ("operation" if kinds else "change")
    if envs:
        what += f" in {_or(envs)} clusters"
    lines = [what]
    thresholds = []
    if triggers.get("quota_multiplier_gt") is not None:
        thresholds.append(f"Quota increase > {triggers['quota_multiplier_gt']:g}x current limit")
    if triggers.get("storage_increase_gt_bytes") is not None:
        thresholds.append(f"Storage increase > {gb(triggers['storage_increase_gt_bytes'])}")
    if triggers.get("monthly_cost_gt") is not None:
        thresholds.append(f"Cost impact > ${triggers['monthly_cost_gt']:,g}/month")
    if triggers.get("replicas_changed"):
        thresholds.append("The number of replicas changes")
    if thresholds:
        lines[0] += ", when any of:"
        lines += thresholds
    return lines


def group_text(group: Mapping[str, Any]) -> str:
    """ "1 approval from: role admin or role team_lead or team platform (if cost > $500/month)"."""
    count = int(group.get("count") or 1)
    who = [f"role {r}" for r in group.get("roles") or ()]
    who += [f"team {t}" for t in group.get("teams") or ()]
    who += [f"user {u}" for u in group.get("users") or ()]
    text = f"{count} approval{'' if count == 1 else 's'} from: {_or(who) or 'anyone'}"
    name = group.get("name")
    if name:
        text = f"{name}: {text}"
    if group.get("when_monthly_cost_gt") is not None:
        text += f" (if cost > ${group['when_monthly_cost_gt']:,g}/month)"
    return text


def auto_approve_text(rule: Mapping[str, Any]) -> str:
    parts = []
    if rule.get("environments"):
        parts.append(f"in {_or(rule['environments'])}")
    if rule.get("change_under_pct") is not None:
        parts.append(f"change is < {rule['change_under_pct']:g}% of current limits")
    if rule.get("requested_limit_below_bytes") is not None:
        parts.append(f"requested limit < {gb(rule['requested_limit_below_bytes'])}")
    if rule.get("within_quota"):
        parts.append("within team quota")
    return " and ".join(parts) or "always"


def auto_reject_text(rule: Mapping[str, Any]) -> str:
    scope = []
    if rule.get("kinds"):
        scope.append(f"a {_kinds(rule['kinds'])}")
    if rule.get("environments"):
        scope.append(f"in {_or(rule['environments'])}")
    checks = []
    if rule.get("min_replicas") is not None:
        checks.append(f"fewer than {rule['min_replicas']} replicas")
    if rule.get("outside_namespace"):
        checks.append("a name outside the team's namespaces")
    text = " or ".join(checks) or "never"
    return f"{' '.join(scope)} with {text}" if scope else text


def sla_text(hours: float | None) -> str:
    if hours is None:
        return "none"
    return "Immediate" if hours == 0 else _hours(hours)


def escalation_text(step: Mapping[str, Any]) -> str:
    return f"After {_hours(float(step.get('after_hours') or 0))} → notify {step.get('notify')}"


def policy_summary(definition: Mapping[str, Any]) -> dict[str, list[str]]:
    """The sections of a policy's card, each a list of lines (empty sections are left out)."""
    out = {
        "Triggers": trigger_lines(definition.get("triggers") or {}),
        "Approval requirements": [group_text(g) for g in definition.get("groups") or ()],
        "Auto-approve if": [auto_approve_text(r) for r in definition.get("auto_approve") or ()],
        "Auto-reject if": [auto_reject_text(r) for r in definition.get("auto_reject") or ()],
        "SLA": [sla_text(definition.get("sla_hours"))],
        "Escalation": [escalation_text(e) for e in definition.get("escalation") or ()],
    }
    return {name: lines for name, lines in out.items() if lines}


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """The top-level fields that differ between two versions of a definition."""
    if before is None:
        return []
    keys = sorted(set(before) | set(after))
    return [k for k in keys if k != "version" and before.get(k) != after.get(k)]


# --------------------------------------------------------------------------- requests


def status_badge(status: str | None) -> str:
    return APPROVAL_BADGES.get(status or "", (status or "unknown").replace("_", " ").capitalize())


def value_text(value: Any) -> str:
    """A config value in a diff cell: absent is "—", structures as compact JSON, a number that is
    not finite "—" too (never "inf" or "nan")."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(", ", ": "))
    return str(value)


def diff_rows(diff: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """One row per field: before → after."""
    return [
        {
            "Field": name,
            "Before": value_text(change.get("before")),
            "After": value_text(change.get("after")),
        }
        for name, change in sorted(diff.items())
    ]


def change_rows(
    diff: Mapping[str, Mapping[str, Any]], spec: Mapping[str, Any]
) -> list[dict[str, str]]:
    """What a request changes, field by field: its diff (an update, a quota), else the config it
    would create (every field from nothing) or the purge it would run."""
    if diff and spec.get("kind") == "quota":  # a limit: None is no limit at all
        return [
            {
                "Field": name,
                "Before": limit_text(name, change.get("before")),
                "After": limit_text(name, change.get("after")),
            }
            for name, change in sorted(diff.items())
        ]
    if diff:
        return diff_rows(diff)
    new = spec.get("config") or spec.get("purge")
    if not isinstance(new, Mapping):
        return []
    return [
        {"Field": name, "Before": "—", "After": value_text(value)}
        for name, value in sorted(new.items())
        if value not in (None, "", [], {})
    ]


def vote_text(email: str, role: str, action: str, group: str | None, comment: str) -> str:
    text = f"{email or 'someone'} ({role}) {VOTE_WORDS.get(action, action)}"
    if group:
        text += f" for {group}"
    if comment:
        text += f": “{comment}”"
    return text
