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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote

import httpx

from ui.client.errors import ApiError, ApiUnavailable, AuthenticationRequired

DEFAULT_API_URL = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tokens:
        return cls(
            str(data["access_token"]),
            str(data["refresh_token"]),
            str(data.get("token_type") or "bearer"),
            data.get("expires_in"),
        )


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
    permissions: tuple[str, ...] = ()  # ``resource:action:scope``, as the API grants them

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Me:
        org = data.get("organization") or {}
        return cls(
            str(data["id"]),
            str(data["email"]),
            data.get("first_name") or "",
            data.get("last_name") or "",
            Organization(str(org.get("id", "")), org.get("name") or "", org.get("slug") or ""),
            str(data.get("role") or ""),
            tuple(str(p) for p in data.get("permissions") or ()),
        )

    def can(self, needed: str) -> bool:
        """Whether this person may do ``resource:action`` on everything of the organization (a
        ``*`` resource or action, or ``manage``, covers it). Only to hide buttons: the API
        decides."""
        resource, action = needed.split(":")[:2]
        for perm in self.permissions:
            g_res, g_act, g_scope = (perm.split(":", 2) + ["*", "*"])[:3]
            if g_res in ("*", resource) and g_act in ("*", action, "manage") and g_scope == "*":
                return True
        return False

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email


# --------------------------------------------------------------------------- client


class BaseClient:
    """The HTTP core: one person's tokens, login and logout, and the plumbing every area uses
    (a ``401`` refreshed once, errors read into :class:`ApiError`)."""

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
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json"},
        )

    # ---- lifecycle

    @property
    def tokens(self) -> Tokens | None:
        return self._tokens

    @property
    def logged_in(self) -> bool:
        return self._tokens is not None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- auth

    def login(self, email: str, password: str) -> Tokens:
        """Exchange an email and password for tokens (kept by the client and returned)."""
        data = self._decode(
            self._send("POST", "/auth/login", json={"email": email, "password": password})
        )
        tokens = Tokens.from_json(data)
        with self._lock:
            self._tokens = tokens
        return tokens

    def forgot_password(self, email: str) -> str:
        """Ask for a password reset link by mail; the API's sentence (the same whether or not an
        account uses the address)."""
        data = self._decode(self._send("POST", "/auth/forgot-password", json={"email": email}))
        return str(data["detail"])

    def reset_password(self, token: str, password: str) -> None:
        """Set a new password with the token of a mailed link (every session of the account
        ends; log in again)."""
        self._decode(
            self._send("POST", "/auth/reset-password", json={"token": token, "password": password})
        )

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

    # ---- plumbing

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""} or None
        try:
            return self._http.request(
                method, path, json=json, params=query, content=content, headers=sent or None
            )
        except httpx.TimeoutException:
            raise ApiUnavailable(0, f"The API at {self.base_url} did not answer in time.") from None
        except httpx.HTTPError as exc:
            raise ApiUnavailable(
                0, f"The API at {self.base_url} cannot be reached ({_reason(exc)})."
            ) from None

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """Send with the access token (refreshed once on a 401). The decoded JSON, or with
        ``raw`` the body's bytes."""
        response = self._response(
            method, path, json=json, params=params, content=content, headers=headers
        )
        if raw:
            if response.status_code >= 400:
                raise ApiError.from_response(response)
            return response.content
        return self._decode(response)

    def _response(self, method: str, path: str, **options: Any) -> httpx.Response:
        """The API's response, sent with the access token (refreshed once on a 401)."""
        tokens = self._tokens
        if tokens is None:
            raise AuthenticationRequired(401, "Please log in.")
        response = self._send(method, path, token=tokens.access_token, **options)
        if response.status_code == 401:
            fresh = self._refresh_after(tokens)
            response = self._send(method, path, token=fresh.access_token, **options)
            if response.status_code == 401:
                self.forget()
                raise AuthenticationRequired(401, "Your session has expired. Please log in again.")
        return response

    def _refresh_after(self, stale: Tokens) -> Tokens:
        """Refresh once for everyone who saw ``stale`` refused; later callers reuse the result."""
        with self._lock:
            current = self._tokens
            if current is None:
                raise AuthenticationRequired(401, "Your session has expired. Please log in again.")
            if current.access_token != stale.access_token:
                return current
            response = self._send(
                "POST", "/auth/refresh", json={"refresh_token": current.refresh_token}
            )
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
            raise ApiError(
                response.status_code, "The API answered with something that is not JSON."
            ) from None


def _items(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return list(data.get("items") or [])
    return list(data or [])


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
