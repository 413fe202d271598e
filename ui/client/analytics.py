"""Metrics history (``/analytics``), dashboards (``/dashboards``), and the short-lived read-only
token the browser's live component opens the server-sent events with (``/stream/token``).

Answers are the API's JSON (documented in ``api/routers/analytics.py``), kept as dictionaries."""

from __future__ import annotations

from typing import Any

from ui.client.base import BaseClient, _items, _seg


class AnalyticsApi(BaseClient):
    def analytics_overview(
        self, cluster_id: str | None = None, range_: str = "1h"
    ) -> dict[str, Any]:
        params = {"range": range_, **({"cluster_id": cluster_id} if cluster_id else {})}
        return self._request("GET", "/analytics/cluster/overview", params=params)

    def stream_throughput(self, cluster_id: str, stream: str, range_: str = "1h") -> dict[str, Any]:
        return self._request(
            "GET",
            f"/analytics/streams/{_seg(stream)}/throughput",
            params={"cluster_id": cluster_id, "range": range_},
        )

    def consumer_lag(
        self, cluster_id: str, stream: str, consumer: str, range_: str = "1h"
    ) -> dict[str, Any]:
        return self._request(
            "GET",
            f"/analytics/consumers/{_seg(consumer)}/lag",
            params={
                "cluster_id": cluster_id,
                "stream": stream,
                "range": range_,
                "aggregate": "max",
            },
        )

    def analytics_query(self, query: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/analytics/query", json=query)

    def realtime_token(self) -> dict[str, Any]:
        """``{token, expires_at, expires_in}``: read-only, for the real-time endpoints only."""
        return self._request("POST", "/stream/token")

    def list_dashboards(self) -> list[dict[str, Any]]:
        return _items(self._request("GET", "/dashboards"))
