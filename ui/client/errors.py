"""The errors of the API client: :class:`ApiError` carries the API's own sentence (the ``detail``
of its ``application/problem+json`` body) and the fields a ``422`` refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


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
        return kind(
            status,
            message,
            title=title,
            type_=str(body.get("type") or "about:blank"),
            field_errors=errors,
        )

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
