"""Alerts: rules (``/alerts/rules``) with their state, a dry run (``/alerts/test``), events
(``/alerts/events``), acknowledging and snoozing; the organization's webhooks as channels.

Answers are the API's JSON (documented in ``api/alert_schemas.py``), kept as dictionaries."""

from __future__ import annotations

from typing import Any

from ui.client.base import BaseClient, _items, _seg


class AlertsApi(BaseClient):
    def list_alert_rules(self) -> list[dict[str, Any]]:
        return _items(self._request("GET", "/alerts/rules"))

    def create_alert_rule(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/alerts/rules", json=spec)

    def update_alert_rule(self, rule_id: str, change: dict[str, Any]) -> dict[str, Any]:
        return self._request("PATCH", f"/alerts/rules/{_seg(rule_id)}", json=change)

    def delete_alert_rule(self, rule_id: str) -> None:
        self._request("DELETE", f"/alerts/rules/{_seg(rule_id)}")

    def test_alert_rule(
        self, spec: dict[str, Any] | None = None, rule_id: str | None = None
    ) -> dict[str, Any]:
        return self._request(
            "POST", "/alerts/test", json={"rule_id": rule_id} if rule_id else {"rule": spec}
        )

    def alert_events(
        self, *, status: str | None = None, rule_id: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        return _items(
            self._request(
                "GET",
                "/alerts/events",
                params={"status": status, "rule_id": rule_id, "limit": limit},
            )
        )

    def acknowledge_alert(self, event_id: str) -> dict[str, Any]:
        return self._request("POST", f"/alerts/events/{_seg(event_id)}/acknowledge")

    def snooze_alert_rule(self, rule_id: str, for_: str) -> dict[str, Any]:
        return self._request("POST", f"/alerts/rules/{_seg(rule_id)}/snooze", json={"for": for_})

    def list_webhooks(self) -> list[dict[str, Any]]:
        return _items(self._request("GET", "/webhooks"))
