"""Quota findings from a team's quota report (``GET /api/v1/teams/{id}/quotas``: each line's
limit, live usage and percent). Only quotas that usage fills count: the number of streams and
consumers, storage, messages, the inbound and outbound rates. ``max_msg_size`` and
``max_replicas`` are ceilings one stream's config is checked against, not amounts used up."""

from __future__ import annotations

from ai.analyzers.figures import count, percent, size
from ai.analyzers.thresholds import Thresholds
from ai.findings import Finding

DEFAULT = Thresholds()
FILLED = ("streams", "consumers", "storage_bytes", "messages", "inbound_rate", "outbound_rate")
WHAT = {
    "streams": "streams",
    "consumers": "consumers",
    "storage_bytes": "storage",
    "messages": "messages",
    "inbound_rate": "inbound messages per second",
    "outbound_rate": "outbound messages per second",
}


def _shown(resource: str, value: float) -> str:
    return size(value) if resource == "storage_bytes" else count(value)


def analyze_quotas(report: dict, t: Thresholds = DEFAULT) -> list[Finding]:
    team, name = str(report.get("team_id") or ""), report.get("team_name") or "?"
    found = []
    for line in report.get("items") or []:
        resource, limit, usage = line.get("resource"), line.get("limit"), line.get("usage")
        if resource not in FILLED or not limit or usage is None or limit <= 0:
            continue
        ratio = usage / limit
        if ratio < t.quota_warning:
            continue
        full = ratio >= t.quota_critical
        found.append(
            Finding(
                code="quota_near_limit",
                severity="critical" if full else "warning",
                title=f"Team {name} has used {percent(ratio)} of its {WHAT[resource]} quota",
                summary=(
                    f"It uses {_shown(resource, usage)} of {_shown(resource, limit)} "
                    f"{WHAT[resource]} ({percent(ratio)})"
                    + (
                        "; changes that need more are refused."
                        if full
                        else "; the next changes may be refused at the limit."
                    )
                ),
                evidence={
                    "resource": resource,
                    "limit": limit,
                    "usage": usage,
                    "ratio": round(ratio, 3),
                    "team_name": name,
                },
                suggestion=(
                    "Free some (remove unused streams or consumers, shorten max_age) or ask "
                    "for more: POST /api/v1/quota-requests, approved under policy."
                ),
                team_id=team or None,
            )
        )
    return found
