"""A stream's messages (browse, publish, delete, export) and its consumers (list, read, create,
change, delete, pause until a time, resume)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from ui.client.approvals import RequestSubmitted, submitted
from ui.client.base import BaseClient, _items, _seg
from ui.client.errors import ApiError
from ui.client.operations import OperationStarted
from ui.client.streams import _stream_path

Direction = Literal["forward", "backward"]


@dataclass(frozen=True)
class Message:
    seq: int
    subject: str
    time: str | None
    headers: dict[str, list[str]]
    size: int
    payload: Any
    encoding: str
    truncated: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        headers = {
            str(k): list(v) if isinstance(v, (list, tuple)) else [str(v)]
            for k, v in (data.get("headers") or {}).items()
        }
        return cls(
            int(data["seq"]),
            str(data.get("subject") or ""),
            data.get("time"),
            headers,
            int(data.get("size") or 0),
            data.get("payload"),
            str(data.get("encoding") or "text"),
            bool(data.get("truncated")),
        )


@dataclass(frozen=True)
class MessagePage:
    items: list[Message]
    has_more: bool
    next_cursor: str | None
    first_seq: int
    last_seq: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MessagePage:
        return cls(
            [Message.from_json(m) for m in data.get("items") or []],
            bool(data.get("has_more")),
            data.get("next_cursor"),
            int(data.get("first_seq") or 0),
            int(data.get("last_seq") or 0),
        )


@dataclass(frozen=True)
class PublishAck:
    stream: str
    seq: int
    duplicate: bool


@dataclass(frozen=True)
class ConsumerInfo:
    """JetStream's own ``CONSUMER.INFO`` document, with the figures the screens show."""

    name: str
    config: dict[str, Any]
    num_pending: int
    num_ack_pending: int
    num_redelivered: int
    num_waiting: int
    created: str | None
    delivered: dict[str, Any]
    ack_floor: dict[str, Any]
    paused: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConsumerInfo:
        config = dict(data.get("config") or {})
        return cls(
            str(data.get("name") or config.get("durable_name") or config.get("name") or ""),
            config,
            int(data.get("num_pending") or 0),
            int(data.get("num_ack_pending") or 0),
            int(data.get("num_redelivered") or 0),
            int(data.get("num_waiting") or 0),
            data.get("created"),
            dict(data.get("delivered") or {}),
            dict(data.get("ack_floor") or {}),
            bool(data.get("paused")),
        )


@dataclass(frozen=True)
class PauseState:
    """What ``.../pause`` and ``.../resume`` answer: whether the consumer is paused, until when."""

    paused: bool
    pause_until: str | None = None
    pause_remaining: int | None = None  # nanoseconds

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PauseState:
        remaining = data.get("pause_remaining")
        return cls(
            bool(data.get("paused")),
            data.get("pause_until"),
            None if remaining is None else int(remaining),
        )


class ConsumerSpec(TypedDict, total=False):
    durable_name: str
    description: str
    deliver_policy: Literal[
        "all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"
    ]
    opt_start_seq: int
    opt_start_time: str
    ack_policy: Literal["none", "all", "explicit"]
    ack_wait: int
    max_deliver: int
    max_ack_pending: int
    filter_subject: str
    filter_subjects: list[str]


class MessagesApi(BaseClient):
    def browse_messages(
        self,
        cluster_id: str,
        stream: str,
        *,
        start_seq: int | None = None,
        start_time: str | None = None,
        direction: Direction | None = None,
        subject: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> MessagePage:
        """A page of a stream's messages; ``cursor`` (a page's ``next_cursor``) continues it."""
        params = {
            "start_seq": start_seq,
            "start_time": start_time,
            "direction": direction,
            "subject": subject,
            "limit": limit,
            "cursor": cursor,
        }
        data = self._request("GET", f"{_stream_path(cluster_id, stream)}/messages", params=params)
        return MessagePage.from_json(data)

    def publish_message(
        self,
        cluster_id: str,
        stream: str,
        subject: str,
        payload: Any,
        *,
        headers: Mapping[str, str] | None = None,
        msg_id: str | None = None,
    ) -> PublishAck:
        """Publish into the stream: a string is sent as text, anything else as JSON."""
        body: dict[str, Any] = {"subject": subject, "payload": payload}
        if headers:
            body["headers"] = dict(headers)
        if msg_id:
            body["msg_id"] = msg_id
        data = self._request("POST", f"{_stream_path(cluster_id, stream)}/messages", json=body)
        return PublishAck(
            str(data.get("stream") or stream), int(data["seq"]), bool(data.get("duplicate"))
        )

    def delete_message(self, cluster_id: str, stream: str, seq: int) -> None:
        self._request("DELETE", f"{_stream_path(cluster_id, stream)}/messages/{int(seq)}")

    def export_messages(
        self,
        cluster_id: str,
        stream: str,
        *,
        format: Literal["jsonl", "csv"],
        subject: str | None = None,
        start_seq: int | None = None,
        as_operation: bool = False,
    ) -> bytes | OperationStarted:
        """The stream's messages (from ``start_seq``, optionally filtered) as JSON lines or CSV;
        or, for a range over the API's inline limit (or ``as_operation``), the operation that
        writes the file (``download_export`` fetches it once completed)."""
        response = self._response(
            "GET",
            f"{_stream_path(cluster_id, stream)}/messages/export",
            params={
                "format": format,
                "subject": subject,
                "start_seq": start_seq,
                "as_operation": "true" if as_operation else None,
            },
        )
        if response.status_code == 202:
            data = response.json()
            return OperationStarted(str(data["id"]), data["workflow_id"], data["status"])
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        return response.content

    # ---- consumers

    def list_consumers(self, cluster_id: str, stream: str) -> list[ConsumerInfo]:
        data = self._request("GET", f"{_stream_path(cluster_id, stream)}/consumers")
        return [ConsumerInfo.from_json(c) for c in _items(data)]

    def consumer_info(self, cluster_id: str, stream: str, name: str) -> ConsumerInfo:
        data = self._request("GET", f"{_stream_path(cluster_id, stream)}/consumers/{_seg(name)}")
        return ConsumerInfo.from_json(data)

    def create_consumer(
        self, cluster_id: str, stream: str, spec: ConsumerSpec
    ) -> ConsumerInfo | RequestSubmitted:
        """The consumer, or the request when policy sends it for approval (``202``)."""
        data = self._request(
            "POST", f"{_stream_path(cluster_id, stream)}/consumers", json=dict(spec)
        )
        return submitted(data) or ConsumerInfo.from_json(data)

    def delete_consumer(self, cluster_id: str, stream: str, name: str) -> RequestSubmitted | None:
        """None once deleted; the request when it waits for approval."""
        return submitted(
            self._request("DELETE", f"{_stream_path(cluster_id, stream)}/consumers/{_seg(name)}")
        )

    def update_consumer(
        self, cluster_id: str, stream: str, name: str, changes: Mapping[str, Any]
    ) -> ConsumerInfo | RequestSubmitted:
        """Change a consumer: ``changes`` is merged over its current config by the API. The
        consumer, or the request when policy sends the change for approval (``202``)."""
        data = self._request(
            "PATCH",
            f"{_stream_path(cluster_id, stream)}/consumers/{_seg(name)}",
            json=dict(changes),
        )
        return submitted(data) or ConsumerInfo.from_json(data)

    def pause_consumer(self, cluster_id: str, stream: str, name: str, until: str) -> PauseState:
        """Stop deliveries until ``until`` (RFC 3339, in the future)."""
        return PauseState.from_json(
            self._request(
                "POST",
                f"{_stream_path(cluster_id, stream)}/consumers/{_seg(name)}/pause",
                json={"until": until},
            )
        )

    def resume_consumer(self, cluster_id: str, stream: str, name: str) -> PauseState:
        return PauseState.from_json(
            self._request(
                "POST", f"{_stream_path(cluster_id, stream)}/consumers/{_seg(name)}/resume"
            )
        )
