"""Every error leaves the API as ``application/problem+json`` (RFC 9457) with a sentence a person
can act on; validation errors also list each field with its message. No stack trace ever."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.contract import allowed_methods
from core.events import EventsUnavailable
from core.jetstream.api import JetStreamError, JetStreamUnavailable
from core.jetstream.pool import ClusterUnreachable
from core.labels import control_message

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


UNPARSABLE_BODY = "There was an error parsing the body"  # FastAPI's 400 for a body it cannot read


class ProblemError(Exception):
    """Raise anywhere in a request to answer with this status and sentence."""

    def __init__(self, status: int, detail: str, **extra: Any):
        super().__init__(detail)
        self.status, self.detail, self.extra = status, detail, extra


class ServiceUnavailable(ProblemError):
    def __init__(self, service: str, reason: str):
        super().__init__(503, f"{service} is unavailable: {reason}", service=service)


def problem_responses(**described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems a route can answer, e.g.
    ``problem_responses(**{"409": "...", "503": "..."})``."""
    schema = {
        "type": "object",
        "required": ["title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
        "additionalProperties": True,
    }
    return {
        int(code): {"description": text, "content": {PROBLEM: {"schema": schema}}}
        for code, text in described.items()
    }


def problem(status: int, detail: str, headers: dict | None = None, **extra: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def field_errors(errors: list[dict]) -> list[dict[str, str]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]  # where it came from, not a field (a field may be named "path")
        field = ".".join(loc) or "body"
        message = err.get("msg", "is invalid").removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            field = "body"
            error = (err.get("ctx") or {}).get("error")
            message = err.get("msg", "") if not error else f"is not valid JSON: {error}"
        elif err.get("type") == "extra_forbidden":
            message = "is not a known field"
        elif err.get("type") == "missing":
            message = "is required"
        elif control_message(err):
            message = control_message(err) or message
        out.append({"field": field, "message": message})
    return out


def _field_of(detail: str) -> dict[str, str]:
    """The field of a sentence such as "Invalid input: url: not a URL" ("body" when none)."""
    text = detail.removeprefix("Invalid input: ")
    field, sep, message = text.partition(": ")
    if sep and field and " " not in field:
        return {"field": field, "message": message}
    return {"field": "body", "message": text}


def validation_problem(errors: list[dict]) -> JSONResponse:
    fields = field_errors(errors)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in fields)
    return problem(422, f"Invalid input: {detail}", errors=fields)


def not_allowed(request: Request, allowed: list[str]) -> JSONResponse:
    methods = ", ".join(allowed)
    return problem(
        405,
        f"{request.method} is not allowed here; the methods allowed are {methods}.",
        headers={"Allow": methods},
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError):
        if exc.status == 422 and "errors" not in exc.extra:  # every 422 lists its fields
            return problem(422, exc.detail, errors=[_field_of(exc.detail)], **exc.extra)
        return problem(exc.status, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        if any(err.get("loc", ("",))[0] == "path" for err in exc.errors()):
            # a literal path (``/users/invitations``) read as a malformed id of another template
            allowed = allowed_methods(request.app, request.scope)
            if allowed and request.method not in allowed:
                return not_allowed(request, allowed)
        return validation_problem(exc.errors())

    @app.exception_handler(ValidationError)
    async def _model_validation(_: Request, exc: ValidationError):
        return validation_problem(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = (
            exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        )
        headers = getattr(exc, "headers", None)
        if exc.status_code == 400 and exc.detail == UNPARSABLE_BODY:  # e.g. not UTF-8
            return validation_problem(
                [
                    {
                        "loc": ("body",),
                        "type": "json_invalid",
                        "msg": "is not JSON (it must be UTF-8 encoded JSON)",
                    }
                ]
            )
        if exc.status_code == 405:  # every method of the path, not only the first route's
            return not_allowed(request, allowed_methods(request.app, request.scope))
        return problem(exc.status_code, detail, headers=headers)

    @app.exception_handler(JetStreamError)
    async def _jetstream(_: Request, exc: JetStreamError):
        if exc.not_found:
            return problem(
                404, f"{exc.description[:1].upper()}{exc.description[1:]}.", err_code=exc.err_code
            )
        return problem(400, f"NATS refused the request: {exc.description}", err_code=exc.err_code)

    @app.exception_handler(ClusterUnreachable)
    async def _unreachable(_: Request, exc: ClusterUnreachable):
        return problem(503, str(exc), service="nats")

    @app.exception_handler(JetStreamUnavailable)
    async def _js_unavailable(_: Request, exc: JetStreamUnavailable):
        return problem(503, str(exc), service="nats")

    @app.exception_handler(redis_errors.ConnectionError)
    @app.exception_handler(redis_errors.TimeoutError)
    async def _redis_down(_: Request, exc: Exception):
        return problem(503, f"redis is unavailable: {exc}", service="redis")

    @app.exception_handler(sa_exc.DBAPIError)
    async def _database_refused(request: Request, exc: sa_exc.DBAPIError):
        # PostgreSQL's class 22 is "data exception": the input, not the server, is at fault.
        cause = getattr(exc.orig, "__cause__", None)
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(cause, "sqlstate", None) or ""
        if str(sqlstate).startswith("22"):
            return await _unstorable(request, exc)
        log.exception("database error on %s %s", request.method, request.url.path)
        return problem(500, "An unexpected error occurred; it has been logged.")

    @app.exception_handler(sa_exc.DataError)
    async def _unstorable(_: Request, exc: Exception):
        # e.g. a NUL character, which PostgreSQL text cannot hold
        return problem(
            422,
            "Invalid input: a value contains characters that cannot be stored "
            "(such as NUL); remove them and try again.",
        )

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.InterfaceError)
    @app.exception_handler(ConnectionRefusedError)
    async def _postgres_down(_: Request, exc: Exception):
        log.warning("postgres unavailable: %s", exc)
        return problem(
            503, "postgres is unavailable: cannot reach the database", service="postgres"
        )

    @app.exception_handler(EventsUnavailable)
    async def _events_down(_: Request, exc: Exception):
        log.error("internal event stream unavailable: %s", exc)
        return problem(
            503,
            "nats is unavailable: the internal event stream (audit) cannot be "
            "reached; retry when it is back.",
            service="nats",
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "An unexpected error occurred; it has been logged.")
