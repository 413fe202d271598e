"""In-app notifications (``/notifications``): what happened to the requests a person made or has
to decide (created, approved, rejected, escalated, executed, ...), and marking them read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ui.client.base import BaseClient


@dataclass(frozen=True)
class Notification:
    id: str
    type: str
    event: str
    request_id: str | None
    title: str
    actor_email: str
    comment: str
    target: str | None
    created_at: str | None
    read: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Notification:
        request, target = data.get("request_id"), data.get("target")
        return cls(
            str(data["id"]),
            str(data.get("type") or ""),
            str(data.get("event") or ""),
            None if request is None else str(request),
            str(data.get("title") or ""),
            str(data.get("actor_email") or ""),
            str(data.get("comment") or ""),
            None if target is None else str(target),
            data.get("created_at"),
            bool(data.get("read")),
        )


@dataclass(frozen=True)
class Notifications:
    items: tuple[Notification, ...]
    unread: int


class NotificationsApi(BaseClient):
    def notifications(self, *, limit: int = 50, unread_only: bool = False) -> Notifications:
        data = (
            self._request(
                "GET",
                "/notifications",
                params={"limit": limit, "unread_only": "true" if unread_only else None},
            )
            or {}
        )
        return Notifications(
            tuple(Notification.from_json(n) for n in data.get("items") or ()),
            int(data.get("unread") or 0),
        )

    def mark_notifications_read(self) -> None:
        self._request("POST", "/notifications/read")
