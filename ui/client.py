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

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StreamInfo:
        return cls(dict(data.get("config") or {}), dict(data.get("state") or {}),
                   data.get("created"))

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

    # ---- plumbing

    def _send(self, method: str, path: str, *, json: Any = None,
              token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            return self._http.request(method, path, json=json, headers=headers)
        except httpx.TimeoutException:
            raise ApiUnavailable(0, f"The API at {self.base_url} did not answer in time.") from None
        except httpx.HTTPError as exc:
            raise ApiUnavailable(
                0, f"The API at {self.base_url} cannot be reached ({_reason(exc)}).") from None

    def _request(self, method: str, path: str, *, json: Any = None) -> Any:
        tokens = self._tokens
        if tokens is None:
            raise AuthenticationRequired(401, "Please log in.")
        response = self._send(method, path, json=json, token=tokens.access_token)
        if response.status_code == 401:
            fresh = self._refresh_after(tokens)
            response = self._send(method, path, json=json, token=fresh.access_token)
            if response.status_code == 401:
                self.forget()
                raise AuthenticationRequired(401, "Your session has expired. Please log in again.")
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


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    return text.rstrip(".")
