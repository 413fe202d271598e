"""Approval policies (``/approval-policies``): which changes need approval, from whom, what is
approved or rejected automatically, the SLA and the escalation. Versioned: a change adds a version
and makes it current; a policy's ``id`` is the same for all its versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ui.client.base import BaseClient, _items, _seg


@dataclass(frozen=True)
class ApprovalPolicy:
    """One version of a policy; ``definition`` is the policy itself (name, priority, enabled,
    triggers, groups, auto_approve, auto_reject, sla_hours, escalation, ...)."""

    id: str
    version_id: str
    name: str
    version: int
    is_current: bool
    priority: int
    enabled: bool
    definition: dict[str, Any]
    created_by: str | None
    created_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApprovalPolicy:
        by = data.get("created_by")
        return cls(
            str(data["id"]),
            str(data.get("version_id") or ""),
            str(data.get("name") or ""),
            int(data.get("version") or 1),
            bool(data.get("is_current", True)),
            int(data.get("priority") or 0),
            bool(data.get("enabled", True)),
            dict(data.get("definition") or {}),
            None if by is None else str(by),
            data.get("created_at"),
        )


class PoliciesApi(BaseClient):
    def list_policies(self) -> list[ApprovalPolicy]:
        """The current version of each policy, in the order they are evaluated."""
        return [
            ApprovalPolicy.from_json(p) for p in _items(self._request("GET", "/approval-policies"))
        ]

    def policy(self, policy_id: str) -> ApprovalPolicy:
        return ApprovalPolicy.from_json(
            self._request("GET", f"/approval-policies/{_seg(policy_id)}")
        )

    def policy_versions(self, policy_id: str) -> list[ApprovalPolicy]:
        """Every version of the policy, newest first."""
        data = self._request("GET", f"/approval-policies/{_seg(policy_id)}/versions")
        return [ApprovalPolicy.from_json(p) for p in _items(data)]

    def create_policy(self, definition: Mapping[str, Any]) -> ApprovalPolicy:
        return ApprovalPolicy.from_json(
            self._request("POST", "/approval-policies", json=dict(definition))
        )

    def update_policy(self, policy_id: str, changes: Mapping[str, Any]) -> ApprovalPolicy:
        """Merge ``changes`` over the current definition (objects key by key); the result is a new
        version."""
        return ApprovalPolicy.from_json(
            self._request("PATCH", f"/approval-policies/{_seg(policy_id)}", json=dict(changes))
        )

    def delete_policy(self, policy_id: str) -> None:
        """Delete the policy with all its versions."""
        self._request("DELETE", f"/approval-policies/{_seg(policy_id)}")
