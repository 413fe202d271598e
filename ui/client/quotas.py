"""Team quotas (``/teams/{tid}/quotas``): each limit beside the team's live usage, the team's
resources, the history of its limits; setting limits (admins) and asking for more
(``/quota-requests``: approved at once under policy thresholds, else an approval request)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ui.client.approvals import Approval, RequestSubmitted
from ui.client.base import BaseClient, _items, _seg

QUOTA_RESOURCES: tuple[str, ...] = (
    "streams",
    "consumers",
    "storage_bytes",
    "messages",
    "max_msg_size",
    "max_replicas",
    "inbound_rate",
    "outbound_rate",
)


@dataclass(frozen=True)
class QuotaItem:
    """One quota: ``limit`` None is unlimited, ``usage`` None is not measured."""

    resource: str
    label: str
    limit: int | None
    usage: float | None
    percent: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuotaItem:
        limit, usage, percent = data.get("limit"), data.get("usage"), data.get("percent")
        return cls(
            str(data["resource"]),
            str(data.get("label") or data["resource"]),
            None if limit is None else int(limit),
            None if usage is None else float(usage),
            None if percent is None else float(percent),
        )


@dataclass(frozen=True)
class TeamResource:
    """One stream (or bucket, or store) the team owns on one cluster."""

    cluster_id: str
    cluster: str
    name: str
    max_bytes: int | None
    bytes: int
    messages: int
    consumers: int
    num_replicas: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TeamResource:
        max_bytes = data.get("max_bytes")
        return cls(
            str(data.get("cluster_id") or ""),
            str(data.get("cluster") or ""),
            str(data.get("name") or ""),
            None if max_bytes is None else int(max_bytes),
            int(data.get("bytes") or 0),
            int(data.get("messages") or 0),
            int(data.get("consumers") or 0),
            int(data.get("num_replicas") or 1),
        )


@dataclass(frozen=True)
class TeamQuotas:
    team_id: str
    team_name: str
    items: tuple[QuotaItem, ...]
    resources: tuple[TeamResource, ...]
    unreachable: tuple[str, ...]  # clusters whose usage could not be read

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TeamQuotas:
        return cls(
            str(data.get("team_id") or ""),
            str(data.get("team_name") or ""),
            tuple(QuotaItem.from_json(i) for i in data.get("items") or ()),
            tuple(TeamResource.from_json(r) for r in data.get("resources") or ()),
            tuple(str(u) for u in data.get("unreachable") or ()),
        )

    def item(self, resource: str) -> QuotaItem | None:
        return next((i for i in self.items if i.resource == resource), None)


@dataclass(frozen=True)
class QuotaChange:
    resource: str
    before: int | None
    after: int | None
    reason: str
    request_id: str | None
    changed_by_email: str
    created_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuotaChange:
        before, after, request = data.get("before"), data.get("after"), data.get("request_id")
        return cls(
            str(data.get("resource") or ""),
            None if before is None else int(before),
            None if after is None else int(after),
            str(data.get("reason") or ""),
            None if request is None else str(request),
            str(data.get("changed_by_email") or ""),
            data.get("created_at"),
        )


class QuotasApi(BaseClient):
    def team_quotas(self, team_id: str) -> TeamQuotas:
        return TeamQuotas.from_json(self._request("GET", f"/teams/{_seg(team_id)}/quotas"))

    def set_team_quotas(self, team_id: str, limits: Mapping[str, int | None]) -> TeamQuotas:
        """Set limits (admins); None removes a limit (unlimited)."""
        data = self._request("PUT", f"/teams/{_seg(team_id)}/quotas", json={"limits": dict(limits)})
        return TeamQuotas.from_json(data)

    def quota_history(self, team_id: str) -> list[QuotaChange]:
        data = self._request("GET", f"/teams/{_seg(team_id)}/quota-history")
        return [QuotaChange.from_json(c) for c in _items(data)]

    def request_quota(
        self, team_id: str, resource: str, requested_limit: int, justification: str
    ) -> RequestSubmitted:
        """Ask for a new limit: approved at once under policy thresholds, else sent for
        approval (see the answer's ``status``)."""
        data = self._request(
            "POST",
            "/quota-requests",
            json={
                "team_id": team_id,
                "resource": resource,
                "requested_limit": requested_limit,
                "justification": justification,
            },
        )
        return RequestSubmitted.from_json(data)

    def quota_requests(self, team_id: str | None = None) -> list[Approval]:
        data = self._request("GET", "/quota-requests", params={"team_id": team_id})
        return [Approval.from_json(a) for a in _items(data)]
