"""The organization's outgoing webhooks (``/webhooks``, admins): list, create (the signing secret
in that answer only), send a test event, rotate the secret (the new one in that answer only; the
replaced one keeps signing until ``previous_valid_until``), delete."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from ui.client.base import BaseClient, _items, _seg

# The events a webhook may hear, in the API's order, with what a person reads (none: every event).
WEBHOOK_EVENTS: dict[str, str] = {
    "created": "Request created",
    "approved": "Request approved",
    "rejected": "Request rejected",
    "withdrawn": "Request withdrawn",
    "changes_requested": "Changes requested",
    "escalated": "Request escalated",
    "executed": "Request executed",
    "failed": "Request failed",
    "dr.failover": "DR failover",
    "alert": "Alert fired or resolved",
}


@dataclass(frozen=True)
class Webhook:
    id: str
    name: str
    url: str
    events: tuple[str, ...]  # empty: every event
    enabled: bool
    created_at: str | None
    previous_valid_until: str | None = None  # the replaced secret also signs until then

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Webhook:
        return cls(
            str(data["id"]),
            str(data.get("name") or ""),
            str(data.get("url") or ""),
            tuple(str(e) for e in data.get("events") or ()),
            bool(data.get("enabled")),
            data.get("created_at"),
            data.get("previous_valid_until"),
        )


@dataclass(frozen=True)
class WebhookSecret:
    """A signing secret just made (a creation or a rotation): shown once."""

    id: str
    secret: str
    previous_valid_until: str | None = None


@dataclass(frozen=True)
class WebhookTestResult:
    ok: bool
    status_code: int | None  # None: the receiver could not be reached
    delivery_id: str
    error: str | None


class WebhookSpec(TypedDict, total=False):
    name: str
    url: str
    events: list[str]
    secret: str
    enabled: bool


class WebhooksApi(BaseClient):
    def webhooks(self) -> list[Webhook]:
        return [Webhook.from_json(h) for h in _items(self._request("GET", "/webhooks"))]

    def create_webhook(self, spec: WebhookSpec) -> tuple[Webhook, WebhookSecret]:
        """The new webhook and its secret (in this answer only)."""
        data = self._request("POST", "/webhooks", json=dict(spec))
        return Webhook.from_json(data), WebhookSecret(str(data["id"]), str(data["secret"]))

    def test_webhook(self, webhook_id: str) -> WebhookTestResult:
        data = self._request("POST", f"/webhooks/{_seg(webhook_id)}/test")
        return WebhookTestResult(
            bool(data.get("ok")),
            data.get("status_code"),
            str(data.get("delivery_id") or ""),
            data.get("error"),
        )

    def rotate_webhook_secret(self, webhook_id: str) -> WebhookSecret:
        data = self._request("POST", f"/webhooks/{_seg(webhook_id)}/rotate-secret")
        return WebhookSecret(str(data["id"]), str(data["secret"]), data.get("previous_valid_until"))

    def delete_webhook(self, webhook_id: str) -> None:
        self._request("DELETE", f"/webhooks/{_seg(webhook_id)}")
