"""The CLI's HTTP client of the console's API (the only thing the CLI talks to).

``Api.from_config()`` authenticates with ``JSC_API_KEY`` (``X-API-Key``) when set, else with the
stored session; on a ``401`` it refreshes the session once (``POST /auth/refresh``, rotating the
single-use refresh token under a lock shared by every ``jsc`` process) and retries. Every failure
becomes a ``CliError`` holding a sentence: the API's ``application/problem+json`` ``detail`` with
its per-field ``errors``, or what went wrong reaching the API. A management call may answer
``202`` with a change request waiting for approval instead of making the change: that answer is
returned like any other (``delete`` returns it too, where a ``204`` gives None); see
``cli.output.announce_pending``.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from httpx_sse import EventSource

from cli import config
from cli.config import ConfigError, Credentials

PREFIX = "/api/v1"
TIMEOUT_S = 30.0
STREAM_TIMEOUT_S = 300.0  # the longest silence of a streamed answer (a slow tool, a slow model)
LOGIN_HINT = "Run `jsc login` (or set JSC_API_KEY)."


class CliError(Exception):
    """A failure to tell the user in a sentence (and exit 1); never a traceback."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        fields: list[dict[str, str]] | None = None,
        status: int | None = None,
        body: dict | None = None,
    ):
        super().__init__(message)
        self.message, self.hint, self.fields, self.status = message, hint, fields or [], status
        self.body = body or {}  # the problem document, for its extra members


def problem_error(response: httpx.Response) -> CliError:
    """The API's problem document as a CliError (or a sentence for anything else)."""
    status = response.status_code
    detail, fields = None, []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = body.get("detail") if isinstance(body.get("detail"), str) else None
        if isinstance(body.get("detail"), list):  # FastAPI's default shape, in case
            fields = [
                {
                    "field": ".".join(str(p) for p in e.get("loc", [])[1:]) or "body",
                    "message": e.get("msg", "is invalid"),
                }
                for e in body["detail"]
            ]
        for err in body.get("errors") or []:
            if isinstance(err, dict):
                fields.append(
                    {"field": str(err.get("field", "")), "message": str(err.get("message", ""))}
                )
    if not detail:
        detail = f"The API answered {status} {response.reason_phrase or ''}".rstrip() + "."
    hint = LOGIN_HINT if status == 401 else None
    if status == 429 and (retry := response.headers.get("Retry-After")):
        hint = f"Retry in {retry} s."
    return CliError(
        detail,
        fields=fields,
        status=status,
        hint=hint,
        body=body if isinstance(body, dict) else None,
    )


class Api:
    """A synchronous client of ``<url>/api/v1``."""

    def __init__(
        self,
        url: str,
        *,
        creds: Credentials | None = None,
        key: str | None = None,
        timeout: float = TIMEOUT_S,
        persist: bool = True,
    ):
        self.url = config.normalize_url(url)
        self.creds = creds or Credentials(url=self.url)
        self.key = key
        self.persist = persist  # write rotated tokens back to the credentials file
        self._http = httpx.Client(
            base_url=self.url, timeout=timeout, headers={"User-Agent": "jsc-cli"}
        )

    @classmethod
    def from_config(cls) -> Api:
        try:
            creds = config.load()
        except ConfigError as exc:
            raise CliError(str(exc)) from None
        url = config.api_url(creds)
        if config.normalize_url(creds.url or "") != url:
            # tokens of another API must not be sent here
            creds = Credentials(url=url)
        return cls(url, creds=creds, key=config.api_key())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests ------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        if self.key:
            return {"X-API-Key": self.key}
        if self.creds.access_token:
            return {"Authorization": f"Bearer {self.creds.access_token}"}
        return {}

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None

    def _transport_error(self, exc: httpx.HTTPError, read_s: float | None = None) -> CliError:
        """What went wrong reaching the API, as a sentence."""
        if isinstance(exc, httpx.ConnectError):
            return CliError(
                f"Cannot reach the JetStream Console API at {self.url}: the "
                "connection was refused or the host is unknown.",
                hint="Is it running (`jsc up`)? Point the CLI at it with "
                "`jsc login --url URL` or JSC_API_URL.",
            )
        if isinstance(exc, httpx.TimeoutException):
            return CliError(
                f"The JetStream Console API at {self.url} did not answer within "
                f"{read_s or self._http.timeout.read or TIMEOUT_S:g} s."
            )
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
            return CliError(f"'{self.url}' is not a valid API URL (e.g. http://127.0.0.1:8000).")
        return CliError(f"The request to {self.url} failed: {exc or type(exc).__name__}.")

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        headers: dict | None = None,
        auth: bool = True,
    ) -> Any:
        """The decoded JSON answer (None for an empty one); CliError for any failure."""
        if auth and not self.key and not self.creds.access_token:
            raise CliError(f"Not signed in to {self.url}.", hint=LOGIN_HINT)
        full = path if path.startswith(PREFIX) else PREFIX + path
        params = {k: v for k, v in (params or {}).items() if v is not None}
        kwargs: dict[str, Any] = {"params": params}
        if json is not None:
            kwargs["json"] = json

        def send() -> httpx.Response:
            return self._send(
                method,
                full,
                headers={**(headers or {}), **(self._auth_headers() if auth else {})},
                **kwargs,
            )

        response = send()
        if response.status_code == 401 and auth and not self.key and self.refresh():
            response = send()
        if response.status_code == 401 and auth and not self.key:
            error = problem_error(response)
            if self.creds.refresh_token:
                error.message = (
                    f"Your session with {self.url} has ended ({error.message.rstrip('.')})."
                )
            error.hint = "Run `jsc login` to sign in again."
            raise error
        if response.status_code >= 400:
            error = problem_error(response)
            if error.status == 401 and self.key:
                error.hint = "Check JSC_API_KEY: the key may be wrong, revoked or expired."
            raise error
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise CliError(
                f"The API at {self.url} answered something that is not JSON ({kind})."
            ) from None

    def events(
        self, path: str, body: Any, *, read_timeout: float = STREAM_TIMEOUT_S
    ) -> Iterator[tuple[str, Any]]:
        """``POST`` ``body`` and read the answer's server-sent events as they arrive:
        ``(event, decoded data)`` pairs. A refusal (``4xx``/``5xx`` before the stream starts)
        is a CliError, as for ``request``; so is a stream cut short."""
        if not self.key and not self.creds.access_token:
            raise CliError(f"Not signed in to {self.url}.", hint=LOGIN_HINT)
        full = path if path.startswith(PREFIX) else PREFIX + path
        timeout = httpx.Timeout(TIMEOUT_S, read=read_timeout)
        for attempt in (1, 2):
            headers = {"Accept": "text/event-stream", **self._auth_headers()}
            try:
                with self._http.stream(
                    "POST", full, json=body, headers=headers, timeout=timeout
                ) as response:
                    if (
                        response.status_code == 401
                        and attempt == 1
                        and not self.key
                        and self.refresh()
                    ):
                        continue
                    if response.status_code >= 400:
                        response.read()
                        raise self._refusal(response)
                    yield from sse_events(response)
                    return
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, read_timeout) from None

    def _refusal(self, response: httpx.Response) -> CliError:
        error = problem_error(response)
        if error.status == 401:
            error.hint = (
                "Check JSC_API_KEY: the key may be wrong, revoked or expired."
                if self.key
                else "Run `jsc login` to sign in again."
            )
        return error

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json=body, **kw)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def delete(self, path: str, **params: Any) -> Any:
        """None once deleted (``204``); the answer's body otherwise (``202``: sent for
        approval)."""
        return self.request("DELETE", path, params=params)

    # -- session -------------------------------------------------------------------------------

    def login(self, email: str, password: str, code: str | None = None) -> dict:
        body = {"email": email, "password": password, **({"code": code} if code else {})}
        pair = self.request("POST", "/auth/login", json=body, auth=False)
        self._store(pair, email=email)
        return pair

    def refresh(self) -> bool:
        """Rotate the session's tokens once; False when there is no session to refresh."""
        if not self.creds.refresh_token:
            return False
        spent = self.creds.refresh_token
        with config.refresh_lock() if self.persist else contextlib.nullcontext():
            if self.persist:
                try:
                    current = config.load()
                except ConfigError:
                    current = None
                if (
                    current
                    and current.refresh_token
                    and current.refresh_token != spent
                    and config.normalize_url(current.url) == self.url
                ):
                    self.creds = current  # another jsc process rotated them meanwhile
                    return True
            response = self._send("POST", PREFIX + "/auth/refresh", json={"refresh_token": spent})
            if response.status_code != 200:
                return False
            self._store(response.json())
        return True

    def _store(self, pair: dict, email: str | None = None) -> None:
        self.creds.url = self.url
        self.creds.email = email or self.creds.email
        self.creds.access_token = pair["access_token"]
        self.creds.refresh_token = pair.get("refresh_token")
        self.creds.expires_at = time.time() + float(pair.get("expires_in") or 0)
        if self.persist:
            try:
                config.save(self.creds)
            except ConfigError as exc:
                raise CliError(str(exc)) from None

    # -- lookups shared by the commands --------------------------------------------------------

    def clusters(self) -> list[dict]:
        return self.get("/clusters")["items"]

    def cluster(self, ref: str | None) -> dict:
        """A cluster by id or name; without one, the only cluster there is."""
        ref = (ref or "").strip()
        if ref and _is_uuid(ref):
            return self.get(f"/clusters/{ref}")
        clusters = self.clusters()
        if not ref:
            if len(clusters) == 1:
                return clusters[0]
            names = ", ".join(c["name"] for c in clusters) or "none registered"
            raise CliError(
                f"Which cluster? Give --cluster/-c NAME (or set JSC_CLUSTER); clusters: {names}."
            )
        for match in (lambda c: c["name"] == ref, lambda c: c["name"].lower() == ref.lower()):
            found = [c for c in clusters if match(c)]
            if len(found) == 1:
                return found[0]
        names = ", ".join(c["name"] for c in clusters) or "none registered"
        raise CliError(f"No cluster named '{ref}' in your organization (clusters: {names}).")

    def dr_pair(self, ref: str) -> dict:
        """A DR pair by id, name (exact, else ignoring case) or a unique id prefix."""
        ref = ref.strip()
        if _is_uuid(ref):
            return self.get(f"/dr/pairs/{ref}")
        pairs = self.get("/dr/pairs")["items"]
        for match in (
            lambda p: p["name"] == ref,
            lambda p: p["name"].lower() == ref.lower(),
            lambda p: len(ref) >= 4 and str(p["id"]).startswith(ref.lower()),
        ):
            found = [p for p in pairs if match(p)]
            if len(found) == 1:
                return found[0]
        names = ", ".join(p["name"] for p in pairs) or "none"
        raise CliError(f"No DR pair named '{ref}' in your organization (pairs: {names}).")

    def cluster_names(self) -> dict[str, str]:
        """Cluster id -> name, to print names where the API gives ids."""
        return {str(c["id"]): c["name"] for c in self.clusters()}

    def team(self, ref: str) -> dict:
        """A team by id or name (exact, else ignoring case)."""
        ref = ref.strip()
        if _is_uuid(ref):
            return self.get(f"/teams/{ref}")
        teams = self.get("/teams")["items"]
        for match in (lambda t: t["name"] == ref, lambda t: t["name"].lower() == ref.lower()):
            found = [t for t in teams if match(t)]
            if len(found) == 1:
                return found[0]
        names = ", ".join(t["name"] for t in teams) or "none"
        raise CliError(f"No team named '{ref}' in your organization (teams: {names}).")


def sse_events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """Server-sent events of a streamed response as they arrive: ``(event, data)``, the data
    decoded from JSON (kept as text when it is not JSON); events without data are skipped."""
    for sse in EventSource(response).iter_sse():
        if not sse.data:
            continue
        try:
            yield sse.event, json.loads(sse.data)
        except ValueError:
            yield sse.event, sse.data


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
