"""The audit log: who did what, when, and how it ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ui.client.base import BaseClient, _items

AuditStatus = Literal["success", "failure", "denied"]


@dataclass(frozen=True)
class AuditEvent:
    id: str
    timestamp: str | None
    user_email: str
    action: str
    resource_type: str
    resource_name: str
    status: str
    changes: dict[str, Any]
    ip_address: str | None
    error_message: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEvent:
        changes = data.get("changes")
        return cls(
            str(data.get("id") or ""),
            data.get("timestamp"),
            str(data.get("user_email") or ""),
            str(data.get("action") or ""),
            str(data.get("resource_type") or ""),
            str(data.get("resource_name") or ""),
            str(data.get("status") or ""),
            changes if isinstance(changes, dict) else {},
            data.get("ip_address"),
            data.get("error_message") or None,
        )


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    limit: int
    offset: int


class AuditApi(BaseClient):
    def audit_logs(
        self,
        *,
        action: str | None = None,
        resource_type: str | None = None,
        status: AuditStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> AuditPage:
        data = self._request(
            "GET",
            "/audit/logs",
            params={
                "action": action,
                "resource_type": resource_type,
                "status": status,
                "limit": limit,
                "offset": offset,
            },
        )
        return AuditPage(
            [AuditEvent.from_json(e) for e in _items(data)],
            int(data.get("limit") or limit),
            int(data.get("offset") or offset),
        )
