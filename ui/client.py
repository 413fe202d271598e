"""A small, typed, synchronous client of the JetStream Console HTTP API (``/api/v1``).

Every failure is an :class:`ApiError` whose ``message`` is the API's own human sentence (the
``detail`` of its ``application/problem+json`` body) and whose ``field_errors`` name the fields a
``422`` refused. A ``401`` on an authenticated call is answered by one ``POST /auth/refresh`` and
one retry; when that does not help, :class:`AuthenticationRequired` tells the caller to log in.

The client is thread-safe: pages fetch the health of several clusters at once, and a refresh is
done by one thread while the others wait and reuse the new tokens.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, TypedDict
from urllib.parse import quote

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"

Environment = Literal["production", "staging", "development"]
HealthStatus = Literal["healthy", "degraded", "unreachable"]


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ApiError(Exception):
    """The API refused or could not serve a request. ``message`` is a sentence for a person."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        title: str = "",
        type_: str = "about:blank",
        field_errors: tuple[FieldError, ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title
        self.type = type_
        self.field_errors = field_errors

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """Read a problem+json body (or FastAPI's plain ``{"detail": ...}``) into an error."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        title = str(body.get("title") or "")
        detail = body.get("detail")
        errors = _field_errors(body.get("errors"))
        if isinstance(detail, list):  # FastAPI's default validation shape
            errors = errors or _field_errors(detail)
            detail = None
        message = str(detail or title or _default_message(response))
        kind = AuthenticationRequired if status == 401 else cls
        return kind(status, message, title=title, type_=str(body.get("type") or "about:blank"),
                    field_errors=errors)

    def __str__(self) -> str:
        return self.message


class AuthenticationRequired(ApiError):
    """No valid session any more: the person has to log in again."""


class ApiUnavailable(ApiError):
    """The API could not be reached at all (status 0)."""


def _field_errors(raw: Any) -> tuple[FieldError, ...]:
    if not isinstance(raw, list):
        return ()
    found = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        name = item.get("field")
        if name is None and isinstance(item.get("loc"), list):
            loc = [str(p) for p in item["loc"]]
            name = ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path") else loc)
        message = item.get("message") or item.get("msg") or ""
        found.append(FieldError(str(name or ""), str(message)))
    return tuple(found)


def _default_message(response: httpx.Response) -> str:
    status = response.status_code
    if status == 401:
        return "You are not logged in, or your session has expired."
    if status == 403:
        return "You are not allowed to do this."
    if status == 404:
        return "That does not exist (any more)."
    reason = response.reason_phrase or httpx.codes.get_reason_phrase(status)
    return f"The API answered {status} {reason}."


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tokens:
        return cls(str(data["access_token"]), str(data["refresh_token"]),
                   str(data.get("token_type") or "bearer"), data.get("expires_in"))


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    slug: str


@dataclass(frozen=True)
class Me:
    id: str
    email: str
    first_name: str
    last_name: str
    organization: Organization
    role: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Me:
        org = data.get("organization") or {}
        return cls(str(data["id"]), str(data["email"]), data.get("first_name") or "",
                   data.get("last_name") or "",
                   Organization(str(org.get("id", "")), org.get("name") or "", org.get("slug") or ""),
                   str(data.get("role") or ""))

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email


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
        return cls(str(data["id"]), str(data["name"]), data.get("description") or "",
                   str(data.get("environment") or ""), tuple(data.get("server_urls") or ()),
                   data.get("jetstream_domain"), data.get("monitoring_url"),
                   str(data.get("credentials_type") or "none"), bool(data.get("tls_enabled")),
                   data.get("status"), data.get("version"), data.get("created_at"),
                   data.get("updated_at"))


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
        return cls(str(data.get("status") or "unreachable"), bool(data.get("connected")),
                   bool(data.get("jetstream")), data.get("rtt_ms"), data.get("error"),
                   data.get("checked_at"), data.get("version"))


@dataclass(frozen=True)
class ClusterInfo:
    server: dict[str, Any]
    account: dict[str, Any]

    @property
    def version(self) -> str | None:
        return self.server.get("version")

    @property
    def streams(self) -> int:
        return int(self.account.get("streams") or 0)

    @property
    def consumers(self) -> int:
        return int(self.account.get("consumers") or 0)


@dataclass(frozen=True)
class StreamInfo:
    """JetStream's own ``STREAM.INFO`` document, with the few fields the screens show."""

    config: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)
    created: str | None = None
    cluster: dict[str, Any] = field(default_factory=dict)  # leader and replicas, when clustered
    mirror: dict[str, Any] | None = None                   # a mirror's or sources' sync state
    sources: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StreamInfo:
        return cls(dict(data.get("config") or {}), dict(data.get("state") or {}),
                   data.get("created"), dict(data.get("cluster") or {}), data.get("mirror"),
                   list(data.get("sources") or []))

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


class CredentialsSpec(TypedDict, total=False):
    type: Literal["none", "user_password", "token", "creds"]
    username: str
    password: str
    token: str
    creds: str


class ClusterSpec(TypedDict, total=False):
    name: str
    description: str
    environment: Environment
    server_urls: list[str]
    jetstream_domain: str | None
    monitoring_url: str | None
    credentials: CredentialsSpec


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



# ---- operations

OperationStatus = Literal["pending", "running", "paused", "waiting_approval", "completed", "failed",
                          "cancelled"]
OPERATION_STATUSES: tuple[str, ...] = ("pending", "running", "paused", "waiting_approval",
                                       "completed", "failed", "cancelled")
FINISHED_STATUSES: tuple[str, ...] = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Progress:
    done: int = 0
    total: int | None = None
    unit: str = "messages"
    rate_per_s: float | None = None
    eta_s: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Progress:
        data = data or {}
        total = data.get("total")
        return cls(int(data.get("done") or 0), None if total is None else int(total),
                   str(data.get("unit") or "messages"), data.get("rate_per_s"), data.get("eta_s"))

    @property
    def fraction(self) -> float | None:
        """Share done, 0..1; None while the total is unknown."""
        if self.total is None:
            return None
        if self.total <= 0:
            return 1.0
        return max(0.0, min(1.0, self.done / self.total))


@dataclass(frozen=True)
class Operation:
    id: str
    type: str
    status: str
    progress: Progress
    input: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    cluster_id: str | None
    workflow_id: str
    started_by: str | None
    started_at: str | None
    finished_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Operation:
        return cls(str(data["id"]), str(data.get("type") or ""), str(data.get("status") or ""),
                   Progress.from_json(data.get("progress")), dict(data.get("input") or {}),
                   data.get("result"), data.get("error"),
                   None if data.get("cluster_id") is None else str(data["cluster_id"]),
                   str(data.get("workflow_id") or ""),
                   None if data.get("started_by") is None else str(data["started_by"]),
                   data.get("started_at"), data.get("finished_at"))

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def dry_run(self) -> bool:
        return bool(self.input.get("dry_run"))


@dataclass(frozen=True)
class OperationStarted:
    id: str
    workflow_id: str
    status: str


class ReplayDestinationSpec(TypedDict, total=False):
    cluster_id: str
    stream: str
    subject: str
    subject_prefix: str


class RedriveSpec(TypedDict):
    header: str


class ReplaySpec(TypedDict, total=False):
    """The body of ``POST /operations/replay`` (times are ISO 8601; ``end_time`` is exclusive)."""

    cluster_id: str
    stream: str
    subjects: list[str]
    start_seq: int
    end_seq: int
    start_time: str
    end_time: str
    destination: ReplayDestinationSpec
    rate_limit: float
    add_source_header: bool
    keep_original_time: bool
    dry_run: bool
    redrive: RedriveSpec


# ---- messages and consumers

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
        headers = {str(k): list(v) if isinstance(v, (list, tuple)) else [str(v)]
                   for k, v in (data.get("headers") or {}).items()}
        return cls(int(data["seq"]), str(data.get("subject") or ""), data.get("time"), headers,
                   int(data.get("size") or 0), data.get("payload"),
                   str(data.get("encoding") or "text"), bool(data.get("truncated")))


@dataclass(frozen=True)
class MessagePage:
    items: list[Message]
    has_more: bool
    next_cursor: str | None
    first_seq: int
    last_seq: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MessagePage:
        return cls([Message.from_json(m) for m in data.get("items") or []],
                   bool(data.get("has_more")), data.get("next_cursor"),
                   int(data.get("first_seq") or 0), int(data.get("last_seq") or 0))


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
        return cls(str(data.get("name") or config.get("durable_name") or config.get("name") or ""),
                   config, int(data.get("num_pending") or 0), int(data.get("num_ack_pending") or 0),
                   int(data.get("num_redelivered") or 0), int(data.get("num_waiting") or 0),
                   data.get("created"), dict(data.get("delivered") or {}),
                   dict(data.get("ack_floor") or {}), bool(data.get("paused")))


class ConsumerSpec(TypedDict, total=False):
    durable_name: str
    description: str
    deliver_policy: Literal["all", "last", "new", "by_start_sequence", "by_start_time",
                            "last_per_subject"]
    opt_start_seq: int
    opt_start_time: str
    ack_policy: Literal["none", "all", "explicit"]
    ack_wait: int
    max_deliver: int
    max_ack_pending: int
    filter_subject: str
    filter_subjects: list[str]


# ---- key-value and object stores

Storage = Literal["file", "memory"]


class KvBucketSpec(TypedDict, total=False):
    bucket: str
    description: str
    history: int
    ttl: int
    max_value_size: int
    replicas: int
    storage: Storage


@dataclass(frozen=True)
class KvBucket:
    bucket: str
    description: str
    history: int
    ttl: int
    max_value_size: int
    max_bytes: int
    replicas: int
    storage: str
    values: int
    bytes: int
    keys: int
    created: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KvBucket:
        return cls(str(data["bucket"]), data.get("description") or "",
                   int(data.get("history") or 1), int(data.get("ttl") or 0),
                   int(data.get("max_value_size") if data.get("max_value_size") is not None else -1),
                   int(data.get("max_bytes") if data.get("max_bytes") is not None else -1),
                   int(data.get("replicas") or 1), str(data.get("storage") or ""),
                   int(data.get("values") or 0), int(data.get("bytes") or 0),
                   int(data.get("keys") or 0), data.get("created"))


@dataclass(frozen=True)
class KvEntry:
    bucket: str
    key: str
    revision: int
    created: str | None
    operation: str
    value: Any
    encoding: str
    size: int
    truncated: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KvEntry:
        return cls(str(data.get("bucket") or ""), str(data.get("key") or ""),
                   int(data.get("revision") or 0), data.get("created"),
                   str(data.get("operation") or "PUT"), data.get("value"),
                   str(data.get("encoding") or "text"), int(data.get("size") or 0),
                   bool(data.get("truncated")))


@dataclass(frozen=True)
class KeyList:
    items: list[str]
    truncated: bool


class ObjectStoreSpec(TypedDict, total=False):
    bucket: str
    description: str
    ttl: int
    max_bytes: int
    replicas: int
    storage: Storage


@dataclass(frozen=True)
class ObjectStore:
    bucket: str
    description: str
    ttl: int
    max_bytes: int
    replicas: int
    storage: str
    sealed: bool
    size: int
    created: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ObjectStore:
        return cls(str(data["bucket"]), data.get("description") or "", int(data.get("ttl") or 0),
                   int(data.get("max_bytes") if data.get("max_bytes") is not None else -1),
                   int(data.get("replicas") or 1), str(data.get("storage") or ""),
                   bool(data.get("sealed")), int(data.get("size") or 0), data.get("created"))


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    size: int
    mtime: str | None
    digest: str | None
    chunks: int
    description: str
    headers: dict[str, list[str]]
    deleted: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ObjectInfo:
        headers = {str(k): list(v) if isinstance(v, (list, tuple)) else [str(v)]
                   for k, v in (data.get("headers") or {}).items()}
        return cls(str(data.get("name") or ""), int(data.get("size") or 0), data.get("mtime"),
                   data.get("digest"), int(data.get("chunks") or 0),
                   data.get("description") or "", headers, bool(data.get("deleted")))

    @property
    def content_type(self) -> str | None:
        values = self.headers.get("Content-Type") or []
        return values[0] if values else None


# ---- audit

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
        return cls(str(data.get("id") or ""), data.get("timestamp"),
                   str(data.get("user_email") or ""), str(data.get("action") or ""),
                   str(data.get("resource_type") or ""), str(data.get("resource_name") or ""),
                   str(data.get("status") or ""), changes if isinstance(changes, dict) else {},
                   data.get("ip_address"), data.get("error_message") or None)


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    limit: int
    offset: int


# --------------------------------------------------------------------------- client


class ApiClient:
    """One person's connection to the API. Holds that person's tokens once logged in."""

    def __init__(
        self,
        base_url: str = DEFAULT_API_URL,
        tokens: Tokens | None = None,
        *,
        timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=self.base_url + API_PREFIX, timeout=timeout,
                                  transport=transport, headers={"Accept": "application/json"})

    # ---- lifecycle

    @property
    def tokens(self) -> Tokens | None:
        return self._tokens

    @property
    def logged_in(self) -> bool:
        return self._tokens is not None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- auth

    def login(self, email: str, password: str) -> Tokens:
        """Exchange an email and password for tokens (kept by the client and returned)."""
        data = self._decode(self._send("POST", "/auth/login",
                                       json={"email": email, "password": password}))
        tokens = Tokens.from_json(data)
        with self._lock:
            self._tokens = tokens
        return tokens

    def logout(self) -> None:
        """Revoke this session on the server, then forget the tokens (even if that failed)."""
        tokens = self._tokens
        if tokens is None:
            return
        try:
            self._request("POST", "/auth/logout", json={"refresh_token": tokens.refresh_token})
        except AuthenticationRequired:
            pass  # already dead on the server
        finally:
            self.forget()

    def forget(self) -> None:
        """Drop the tokens locally, without telling the server."""
        with self._lock:
            self._tokens = None

    def me(self) -> Me:
        return Me.from_json(self._request("GET", "/auth/me"))

    # ---- clusters

    def list_clusters(self) -> list[Cluster]:
        return [Cluster.from_json(c) for c in _items(self._request("GET", "/clusters"))]

    def create_cluster(self, spec: ClusterSpec) -> Cluster:
        return Cluster.from_json(self._request("POST", "/clusters", json=dict(spec)))

    def delete_cluster(self, cluster_id: str) -> None:
        self._request("DELETE", f"/clusters/{_seg(cluster_id)}")

    def cluster_health(self, cluster_id: str) -> ClusterHealth:
        return ClusterHealth.from_json(self._request("GET", f"/clusters/{_seg(cluster_id)}/health"))

    def cluster_info(self, cluster_id: str) -> ClusterInfo:
        data = self._request("GET", f"/clusters/{_seg(cluster_id)}/info")
        return ClusterInfo(dict(data.get("server") or {}), dict(data.get("account") or {}))

    # ---- streams

    def list_streams(self, cluster_id: str) -> list[StreamInfo]:
        data = self._request("GET", f"/clusters/{_seg(cluster_id)}/streams")
        return [StreamInfo.from_json(s) for s in _items(data)]

    def create_stream(self, cluster_id: str, config: StreamConfig) -> StreamInfo:
        data = self._request("POST", f"/clusters/{_seg(cluster_id)}/streams", json=dict(config))
        return StreamInfo.from_json(data)

    def delete_stream(self, cluster_id: str, name: str) -> None:
        self._request("DELETE", f"/clusters/{_seg(cluster_id)}/streams/{_seg(name)}")

    def stream_info(self, cluster_id: str, name: str) -> StreamInfo:
        return StreamInfo.from_json(self._request("GET", _stream_path(cluster_id, name)))

    def update_stream(self, cluster_id: str, name: str, changes: Mapping[str, Any]) -> StreamInfo:
        """Change a stream: ``changes`` is merged over its current config by the API."""
        data = self._request("PATCH", _stream_path(cluster_id, name), json=dict(changes))
        return StreamInfo.from_json(data)

    # ---- messages

    def browse_messages(self, cluster_id: str, stream: str, *, start_seq: int | None = None,
                        start_time: str | None = None, direction: Direction | None = None,
                        subject: str | None = None, limit: int = 50,
                        cursor: str | None = None) -> MessagePage:
        """A page of a stream's messages; ``cursor`` (a page's ``next_cursor``) continues it."""
        params = {"start_seq": start_seq, "start_time": start_time, "direction": direction,
                  "subject": subject, "limit": limit, "cursor": cursor}
        data = self._request("GET", f"{_stream_path(cluster_id, stream)}/messages", params=params)
        return MessagePage.from_json(data)

    def publish_message(self, cluster_id: str, stream: str, subject: str, payload: Any, *,
                        headers: Mapping[str, str] | None = None,
                        msg_id: str | None = None) -> PublishAck:
        """Publish into the stream: a string is sent as text, anything else as JSON."""
        body: dict[str, Any] = {"subject": subject, "payload": payload}
        if headers:
            body["headers"] = dict(headers)
        if msg_id:
            body["msg_id"] = msg_id
        data = self._request("POST", f"{_stream_path(cluster_id, stream)}/messages", json=body)
        return PublishAck(str(data.get("stream") or stream), int(data["seq"]),
                          bool(data.get("duplicate")))

    def delete_message(self, cluster_id: str, stream: str, seq: int) -> None:
        self._request("DELETE", f"{_stream_path(cluster_id, stream)}/messages/{int(seq)}")

    def export_messages(self, cluster_id: str, stream: str, *, format: Literal["jsonl", "csv"],
                        subject: str | None = None, start_seq: int | None = None) -> bytes:
        """The stream's messages (from ``start_seq``, optionally filtered) as JSON lines or CSV."""
        return self._request("GET", f"{_stream_path(cluster_id, stream)}/messages/export",
                             params={"format": format, "subject": subject, "start_seq": start_seq},
                             raw=True)

    # ---- consumers

    def list_consumers(self, cluster_id: str, stream: str) -> list[ConsumerInfo]:
        data = self._request("GET", f"{_stream_path(cluster_id, stream)}/consumers")
        return [ConsumerInfo.from_json(c) for c in _items(data)]

    def consumer_info(self, cluster_id: str, stream: str, name: str) -> ConsumerInfo:
        data = self._request("GET", f"{_stream_path(cluster_id, stream)}/consumers/{_seg(name)}")
        return ConsumerInfo.from_json(data)

    def create_consumer(self, cluster_id: str, stream: str, spec: ConsumerSpec) -> ConsumerInfo:
        data = self._request("POST", f"{_stream_path(cluster_id, stream)}/consumers",
                             json=dict(spec))
        return ConsumerInfo.from_json(data)

    def delete_consumer(self, cluster_id: str, stream: str, name: str) -> None:
        self._request("DELETE", f"{_stream_path(cluster_id, stream)}/consumers/{_seg(name)}")

    # ---- operations

    def list_operations(self, *, type: str | None = None, status: str | None = None,
                        cluster_id: str | None = None, started_by: str | None = None,
                        limit: int = 50, offset: int = 0) -> list[Operation]:
        data = self._request("GET", "/operations", params={
            "type": type, "status": status, "cluster_id": cluster_id, "started_by": started_by,
            "limit": limit, "offset": offset})
        return [Operation.from_json(o) for o in _items(data)]

    def get_operation(self, operation_id: str) -> Operation:
        return Operation.from_json(self._request("GET", f"/operations/{_seg(operation_id)}"))

    def start_replay(self, spec: ReplaySpec, *, idempotency_key: str | None = None) -> OperationStarted:
        """Start a replay (``202``). The same ``idempotency_key`` returns the same operation."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        data = self._request("POST", "/operations/replay", json=dict(spec), headers=headers)
        return OperationStarted(str(data["id"]), str(data.get("workflow_id") or ""),
                                str(data.get("status") or "pending"))

    def pause_operation(self, operation_id: str) -> Operation:
        return self._control(operation_id, "pause")

    def resume_operation(self, operation_id: str) -> Operation:
        return self._control(operation_id, "resume")

    def cancel_operation(self, operation_id: str) -> Operation:
        return self._control(operation_id, "cancel")

    def _control(self, operation_id: str, action: str) -> Operation:
        return Operation.from_json(
            self._request("POST", f"/operations/{_seg(operation_id)}/{action}"))

    # ---- key-value stores

    def list_kv_buckets(self, cluster_id: str) -> list[KvBucket]:
        return [KvBucket.from_json(b) for b in _items(self._request("GET", _kv_path(cluster_id)))]

    def create_kv_bucket(self, cluster_id: str, spec: KvBucketSpec) -> KvBucket:
        return KvBucket.from_json(self._request("POST", _kv_path(cluster_id), json=dict(spec)))

    def kv_bucket(self, cluster_id: str, bucket: str) -> KvBucket:
        return KvBucket.from_json(self._request("GET", _kv_path(cluster_id, bucket)))

    def delete_kv_bucket(self, cluster_id: str, bucket: str) -> None:
        self._request("DELETE", _kv_path(cluster_id, bucket))

    def kv_keys(self, cluster_id: str, bucket: str, filter: str | None = None,
                limit: int = 1000) -> KeyList:
        data = self._request("GET", f"{_kv_path(cluster_id, bucket)}/keys",
                             params={"filter": filter, "limit": limit})
        return KeyList([str(k) for k in data.get("items") or []], bool(data.get("truncated")))

    def kv_get(self, cluster_id: str, bucket: str, key: str) -> KvEntry:
        return KvEntry.from_json(
            self._request("GET", f"{_kv_path(cluster_id, bucket)}/keys/{_key(key)}"))

    def kv_put(self, cluster_id: str, bucket: str, key: str, value: Any) -> int:
        """Store a value (a string as text, anything else as JSON); the new revision."""
        data = self._request("PUT", f"{_kv_path(cluster_id, bucket)}/keys/{_key(key)}",
                             json={"value": value})
        return int(data["revision"])

    def kv_delete(self, cluster_id: str, bucket: str, key: str) -> None:
        self._request("DELETE", f"{_kv_path(cluster_id, bucket)}/keys/{_key(key)}")

    def kv_history(self, cluster_id: str, bucket: str, key: str) -> list[KvEntry]:
        data = self._request("GET", f"{_kv_path(cluster_id, bucket)}/history/{_key(key)}")
        return [KvEntry.from_json(e) for e in _items(data)]

    # ---- object stores

    def list_object_stores(self, cluster_id: str) -> list[ObjectStore]:
        return [ObjectStore.from_json(b)
                for b in _items(self._request("GET", _objects_path(cluster_id)))]

    def create_object_store(self, cluster_id: str, spec: ObjectStoreSpec) -> ObjectStore:
        return ObjectStore.from_json(
            self._request("POST", _objects_path(cluster_id), json=dict(spec)))

    def delete_object_store(self, cluster_id: str, bucket: str) -> None:
        self._request("DELETE", _objects_path(cluster_id, bucket))

    def list_objects(self, cluster_id: str, bucket: str) -> list[ObjectInfo]:
        data = self._request("GET", f"{_objects_path(cluster_id, bucket)}/files")
        return [ObjectInfo.from_json(o) for o in _items(data)]

    def upload_object(self, cluster_id: str, bucket: str, name: str, data: bytes, *,
                      content_type: str | None = None) -> ObjectInfo:
        headers = {"Content-Type": content_type or "application/octet-stream"}
        info = self._request("PUT", f"{_objects_path(cluster_id, bucket)}/files/{_key(name)}",
                             content=data, headers=headers)
        return ObjectInfo.from_json(info or {"name": name, "size": len(data)})

    def download_object(self, cluster_id: str, bucket: str, name: str) -> bytes:
        return self._request("GET", f"{_objects_path(cluster_id, bucket)}/files/{_key(name)}",
                             raw=True)

    def delete_object(self, cluster_id: str, bucket: str, name: str) -> None:
        self._request("DELETE", f"{_objects_path(cluster_id, bucket)}/files/{_key(name)}")

    # ---- audit

    def audit_logs(self, *, action: str | None = None, resource_type: str | None = None,
                   status: AuditStatus | None = None, limit: int = 50,
                   offset: int = 0) -> AuditPage:
        data = self._request("GET", "/audit/logs", params={
            "action": action, "resource_type": resource_type, "status": status, "limit": limit,
            "offset": offset})
        return AuditPage([AuditEvent.from_json(e) for e in _items(data)],
                         int(data.get("limit") or limit), int(data.get("offset") or offset))

    # ---- plumbing

    def _send(self, method: str, path: str, *, json: Any = None, token: str | None = None,
              params: Mapping[str, Any] | None = None, content: bytes | None = None,
              headers: Mapping[str, str] | None = None) -> httpx.Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""} or None
        try:
            return self._http.request(method, path, json=json, params=query, content=content,
                                      headers=sent or None)
        except httpx.TimeoutException:
            raise ApiUnavailable(0, f"The API at {self.base_url} did not answer in time.") from None
        except httpx.HTTPError as exc:
            raise ApiUnavailable(
                0, f"The API at {self.base_url} cannot be reached ({_reason(exc)}).") from None

    def _request(self, method: str, path: str, *, json: Any = None,
                 params: Mapping[str, Any] | None = None, content: bytes | None = None,
                 headers: Mapping[str, str] | None = None, raw: bool = False) -> Any:
        """Send with the access token (refreshed once on a 401). The decoded JSON, or with
        ``raw`` the body's bytes."""
        tokens = self._tokens
        if tokens is None:
            raise AuthenticationRequired(401, "Please log in.")
        options = {"json": json, "params": params, "content": content, "headers": headers}
        response = self._send(method, path, token=tokens.access_token, **options)
        if response.status_code == 401:
            fresh = self._refresh_after(tokens)
            response = self._send(method, path, token=fresh.access_token, **options)
            if response.status_code == 401:
                self.forget()
                raise AuthenticationRequired(401, "Your session has expired. Please log in again.")
        if raw:
            if response.status_code >= 400:
                raise ApiError.from_response(response)
            return response.content
        return self._decode(response)

    def _refresh_after(self, stale: Tokens) -> Tokens:
        """Refresh once for everyone who saw ``stale`` refused; later callers reuse the result."""
        with self._lock:
            current = self._tokens
            if current is None:
                raise AuthenticationRequired(401, "Your session has expired. Please log in again.")
            if current.access_token != stale.access_token:
                return current
            response = self._send("POST", "/auth/refresh",
                                  json={"refresh_token": current.refresh_token})
            if response.status_code >= 400:
                if response.status_code >= 500:
                    raise ApiError.from_response(response)
                self._tokens = None
                raise AuthenticationRequired(401, "Your session has expired. Please log in again.")
            self._tokens = Tokens.from_json(response.json())
            return self._tokens

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, "The API answered with something that is not JSON.") \
                from None


def _items(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return list(data.get("items") or [])
    return list(data or [])


def _stream_path(cluster_id: str, name: str) -> str:
    return f"/clusters/{_seg(cluster_id)}/streams/{_seg(name)}"


def _kv_path(cluster_id: str, bucket: str | None = None) -> str:
    base = f"/clusters/{_seg(cluster_id)}/kv"
    return base if bucket is None else f"{base}/{_seg(bucket)}"


def _objects_path(cluster_id: str, bucket: str | None = None) -> str:
    base = f"/clusters/{_seg(cluster_id)}/objects"
    return base if bucket is None else f"{base}/{_seg(bucket)}"


def _key(value: str) -> str:
    """A key or object name at the end of a path (the API takes it with its slashes)."""
    return quote(str(value), safe="/")


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    return text.rstrip(".")
