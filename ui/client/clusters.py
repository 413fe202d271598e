"""Clusters: registration, health and server information."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from ui.client.base import BaseClient, _items, _seg

Environment = Literal["production", "staging", "development"]
HealthStatus = Literal["healthy", "degraded", "unreachable"]


@dataclass(frozen=True)
class Cluster:
    id: str
    name: str
    description: str
    environment: str
    server_urls: tuple[str, ...]
    jetstream_domain: str | None
    monitoring_url: str | None
    credentials_type: str
    tls_enabled: bool
    status: str | None
    version: str | None
    created_at: str | None
    updated_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cluster:
        return cls(
            str(data["id"]),
            str(data["name"]),
            data.get("description") or "",
            str(data.get("environment") or ""),
            tuple(data.get("server_urls") or ()),
            data.get("jetstream_domain"),
            data.get("monitoring_url"),
            str(data.get("credentials_type") or "none"),
            bool(data.get("tls_enabled")),
            data.get("status"),
            data.get("version"),
            data.get("created_at"),
            data.get("updated_at"),
        )


@dataclass(frozen=True)
class ClusterHealth:
    status: str
    connected: bool
    jetstream: bool
    rtt_ms: float | None
    error: str | None
    checked_at: str | None
    version: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClusterHealth:
        return cls(
            str(data.get("status") or "unreachable"),
            bool(data.get("connected")),
            bool(data.get("jetstream")),
            data.get("rtt_ms"),
            data.get("error"),
            data.get("checked_at"),
            data.get("version"),
        )


@dataclass(frozen=True)
class ClusterInfo:
    """What ``GET /clusters/{id}/info`` tells of the server that answered and of the account the
    console uses on it (JetStream's own field names: ``memory``, ``storage``, ``limits`` ...)."""

    server: dict[str, Any]
    account: dict[str, Any]

    @property
    def version(self) -> str | None:
        return self.server.get("version")

    @property
    def server_name(self) -> str | None:
        return self.server.get("server_name")

    @property
    def cluster(self) -> str | None:
        """The NATS cluster's name (None for a single server)."""
        return self.server.get("cluster") or None

    @property
    def jetstream_domain(self) -> str | None:
        return self.server.get("jetstream_domain") or self.account.get("domain")

    @property
    def streams(self) -> int:
        return int(self.account.get("streams") or 0)

    @property
    def consumers(self) -> int:
        return int(self.account.get("consumers") or 0)

    @property
    def limits(self) -> dict[str, Any]:
        """The account's JetStream limits (-1: none)."""
        return dict(self.account.get("limits") or {})

    @property
    def api_calls(self) -> tuple[int, int]:
        """JetStream API requests served to the account, and how many of them failed."""
        api = self.account.get("api") or {}
        return int(api.get("total") or 0), int(api.get("errors") or 0)


class CredentialsSpec(TypedDict, total=False):
    type: Literal["none", "user_password", "token", "creds"]
    username: str
    password: str
    token: str
    creds: str


class TlsSpec(TypedDict, total=False):
    ca_pem: str
    cert_pem: str
    key_pem: str
    insecure_skip_verify: bool


class ClusterSpec(TypedDict, total=False):
    name: str
    description: str
    environment: Environment
    server_urls: list[str]
    jetstream_domain: str | None
    monitoring_url: str | None
    credentials: CredentialsSpec


class ClusterChanges(ClusterSpec, total=False):
    """A ``PATCH /clusters/{id}`` body: only what changes. Credentials and TLS, when present,
    replace the stored ones as a whole (``tls: None`` removes them); absent, they are kept."""

    tls: TlsSpec | None


class ClustersApi(BaseClient):
    def list_clusters(self) -> list[Cluster]:
        return [Cluster.from_json(c) for c in _items(self._request("GET", "/clusters"))]

    def create_cluster(self, spec: ClusterSpec) -> Cluster:
        return Cluster.from_json(self._request("POST", "/clusters", json=dict(spec)))

    def cluster(self, cluster_id: str) -> Cluster:
        return Cluster.from_json(self._request("GET", f"/clusters/{_seg(cluster_id)}"))

    def update_cluster(self, cluster_id: str, changes: ClusterChanges) -> Cluster:
        return Cluster.from_json(
            self._request("PATCH", f"/clusters/{_seg(cluster_id)}", json=dict(changes))
        )

    def delete_cluster(self, cluster_id: str) -> None:
        self._request("DELETE", f"/clusters/{_seg(cluster_id)}")

    def cluster_health(self, cluster_id: str) -> ClusterHealth:
        return ClusterHealth.from_json(self._request("GET", f"/clusters/{_seg(cluster_id)}/health"))

    def cluster_info(self, cluster_id: str) -> ClusterInfo:
        data = self._request("GET", f"/clusters/{_seg(cluster_id)}/info")
        return ClusterInfo(dict(data.get("server") or {}), dict(data.get("account") or {}))
