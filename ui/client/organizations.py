"""Organizations: the ones the person belongs to, and the settings of the one signed in to
(its name and the request limit per user; only an admin changes them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from ui.client.base import BaseClient, _items, _seg


@dataclass(frozen=True)
class OrganizationSettings:
    """``GET /organizations/{id}``: ``rate_limit_per_minute`` None is the console's default."""

    id: str
    name: str
    slug: str
    plan: str
    role: str | None
    rate_limit_per_minute: int | None
    created_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrganizationSettings:
        limit = data.get("rate_limit_per_minute")
        return cls(
            str(data["id"]),
            str(data.get("name") or ""),
            str(data.get("slug") or ""),
            str(data.get("plan") or ""),
            data.get("role"),
            int(limit) if limit else None,
            data.get("created_at"),
        )


class OrganizationChanges(TypedDict, total=False):
    """A ``PATCH /organizations/{id}`` body; ``rate_limit_per_minute`` 0 goes back to the
    console's default."""

    name: str
    rate_limit_per_minute: int


class OrganizationsApi(BaseClient):
    def list_organizations(self) -> list[OrganizationSettings]:
        """Every organization the person belongs to, with their role in each."""
        return [
            OrganizationSettings.from_json(o)
            for o in _items(self._request("GET", "/organizations"))
        ]

    def organization(self, org_id: str) -> OrganizationSettings:
        return OrganizationSettings.from_json(
            self._request("GET", f"/organizations/{_seg(org_id)}")
        )

    def update_organization(
        self, org_id: str, changes: OrganizationChanges
    ) -> OrganizationSettings:
        return OrganizationSettings.from_json(
            self._request("PATCH", f"/organizations/{_seg(org_id)}", json=dict(changes))
        )
