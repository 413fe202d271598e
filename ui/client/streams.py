"""Streams: list, create, read, change, delete, purge (with its dry run) (JetStream's own config
field names).

A create, change, delete or purge that policy sends for approval is answered with the request
(:class:`~ui.client.approvals.RequestSubmitted`, a ``202``) instead of the stream."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from ui.client.approvals import RequestSubmitted, submitted
from ui.client.base import BaseClient, _items, _seg


@dataclass(frozen=True)
class StreamInfo:
    """JetStream's own ``STREAM.INFO`` document, with the few fields the screens show."""

    config: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)
    created: str | None = None
    cluster: dict[str, Any] = field(default_factory=dict)  # leader and replicas, when clustered
    mirror: dict[str, Any] | None = None  # a mirror's or sources' sync state
    sources: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StreamInfo:
        return cls(
            dict(data.get("config") or {}),
            dict(data.get("state") or {}),
            data.get("created"),
            dict(data.get("cluster") or {}),
            data.get("mirror"),
            list(data.get("sources") or []),
        )

    @property
    def name(self) -> str:
        return str(self.config.get("name", ""))

    @property
    def subjects(self) -> list[str]:
        return list(self.config.get("subjects") or [])

    @property
    def messages(self) -> int:
        return int(self.state.get("messages") or 0)

    @property
    def bytes(self) -> int:
        return int(self.state.get("bytes") or 0)

    @property
    def consumer_count(self) -> int:
        return int(self.state.get("consumer_count") or 0)


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed (``purged``), or with ``dry_run`` what it would remove: messages, and
    bytes (estimated, from the average size, unless the whole stream is purged)."""

    purged: int
    dry_run: bool = False
    messages: int = 0
    bytes: int = 0
    bytes_estimated: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PurgeResult:
        would = data.get("would_purge") or {}
        return cls(
            int(data.get("purged") or 0),
            bool(data.get("dry_run")),
            int(would.get("messages") or 0),
            int(would.get("bytes") or 0),
            bool(would.get("bytes_estimated")),
        )


class PurgeSpec(TypedDict, total=False):
    """What to purge (the API's names): a ``subject``, below a ``sequence``, or all but ``keep``."""

    subject: str
    sequence: int
    keep: int


class StreamConfig(TypedDict, total=False):
    name: str
    subjects: list[str]
    storage: Literal["file", "memory"]
    retention: Literal["limits", "interest", "workqueue"]
    max_msgs: int
    max_bytes: int
    max_age: int | str
    num_replicas: int
    discard: Literal["old", "new"]


class StreamsApi(BaseClient):
    def list_streams(self, cluster_id: str) -> list[StreamInfo]:
        data = self._request("GET", f"/clusters/{_seg(cluster_id)}/streams")
        return [StreamInfo.from_json(s) for s in _items(data)]

    def create_stream(self, cluster_id: str, config: StreamConfig) -> StreamInfo | RequestSubmitted:
        data = self._request("POST", f"/clusters/{_seg(cluster_id)}/streams", json=dict(config))
        return submitted(data) or StreamInfo.from_json(data)

    def delete_stream(self, cluster_id: str, name: str) -> RequestSubmitted | None:
        """None once deleted; the request when it waits for approval."""
        return submitted(
            self._request("DELETE", f"/clusters/{_seg(cluster_id)}/streams/{_seg(name)}")
        )

    def stream_info(self, cluster_id: str, name: str) -> StreamInfo:
        return StreamInfo.from_json(self._request("GET", _stream_path(cluster_id, name)))

    def stream_subjects(self, cluster_id: str, name: str, filter: str = ">") -> dict[str, int]:
        """Messages per subject (JetStream's ``subjects_filter``), for the subject tree."""
        data = self._request(
            "GET", _stream_path(cluster_id, name), params={"subjects_filter": filter}
        )
        return dict((data.get("state") or {}).get("subjects") or {})

    def update_stream(
        self, cluster_id: str, name: str, changes: Mapping[str, Any]
    ) -> StreamInfo | RequestSubmitted:
        """Change a stream: ``changes`` is merged over its current config by the API."""
        data = self._request("PATCH", _stream_path(cluster_id, name), json=dict(changes))
        return submitted(data) or StreamInfo.from_json(data)

    def purge_stream(
        self, cluster_id: str, name: str, spec: PurgeSpec, *, dry_run: bool = False
    ) -> PurgeResult | RequestSubmitted:
        """Purge (with ``dry_run``, only say what would go). The result, or the request when
        policy sends the purge for approval (``202``; a dry run never waits)."""
        data = self._request(
            "POST", f"{_stream_path(cluster_id, name)}/purge", json={**spec, "dry_run": dry_run}
        )
        return submitted(data) or PurgeResult.from_json(data)


def _stream_path(cluster_id: str, name: str) -> str:
    return f"/clusters/{_seg(cluster_id)}/streams/{_seg(name)}"
