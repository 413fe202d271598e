"""Real-time push: metric samples, alerts and operations' progress as they happen, read from the
internal ``JSC_LIVE`` stream (``core.live``), so that any API replica serves any client.

- ``POST /api/v1/stream/token``: a realtime token (read-only, 5 min, real-time endpoints only) for a
  browser's ``EventSource``, which cannot send headers (``api.realtime_auth``).
- ``GET /api/v1/stream/metrics``: server-sent events of ``?channels=`` (default ``metrics``); the
  event id is the stream sequence: ``Last-Event-ID`` (or ``?last_event_id=``) resumes exactly
  after it; without it, the latest message of each subject first, then live.
- ``/ws/v1/realtime``: the WebSocket of the source design §3.2 (``api.realtime_ws``).

Which channels a caller may read: ``api.realtime_access``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, WebSocket
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from api import deps, realtime_auth
from api.deps import CurrentPrincipal, Svc, audit
from api.errors import ProblemError, ServiceUnavailable, problem_responses
from api.realtime_access import Scope, authorize, parse
from api.realtime_sse import EventStream
from api.realtime_ws import serve_websocket
from core.live.reader import LiveReader

router = APIRouter(tags=["realtime"])
SSE_ERRORS = problem_responses(
    **{
        "401": "No credentials, or an invalid, expired or signed-out one.",
        "403": "Your role does not allow reading one of the channels (audited).",
        "404": "A channel's cluster or operation is not one of your organization's.",
        "422": "A channel name that is not one of the known forms, or a bad Last-Event-ID.",
        "429": "Too many requests.",
        "503": "The internal event stream cannot be reached.",
    }
)


class RealtimeToken(BaseModel):
    token: str = Field(
        description="send it as ?token= to the real-time endpoints (or in the "
        "WebSocket's auth message); refused by every other route"
    )
    expires_at: int = Field(description="unix time")
    expires_in: int = Field(description="seconds")


@router.post("/api/v1/stream/token", response_model=RealtimeToken, status_code=200)
async def create_stream_token(
    request: Request, principal: CurrentPrincipal, svc: Svc
) -> RealtimeToken:
    """A short-lived, read-only token for the real-time endpoints (``EventSource`` cannot send an
    ``Authorization`` header). It stops working when the session ends (or its API key is
    revoked)."""
    token, expires_at = realtime_auth.issue(svc, principal)
    await audit(
        request,
        principal,
        action="realtime.token",
        resource_type="realtime",
        resource_name="stream token",
        changes={"expires_at": expires_at},
    )
    return RealtimeToken(
        token=token, expires_at=expires_at, expires_in=svc.settings.realtime_token_ttl_s
    )


def _resume_point(header: str | None, query: int | None) -> int | None:
    if header is None or not header.strip():
        return query
    try:
        value = int(header.strip())
    except ValueError:
        value = -1
    if value < 0:
        message = "Last-Event-ID must be an event id (a non-negative integer)."
        raise ProblemError(
            422,
            f"Invalid input: {message}",
            errors=[{"field": "Last-Event-ID", "message": message}],
        )
    return value


@router.get(
    "/api/v1/stream/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "server-sent events: `id:` the event id, `event:` cluster_metrics, "
            "stream_metrics, consumer_metrics, alert or operation, `data:` JSON",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **SSE_ERRORS,
    },
)
async def stream_metrics(
    request: Request,
    svc: Svc,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(deps._bearer)],
    x_api_key: Annotated[str | None, Depends(deps._api_key)],
    channels: Annotated[
        str,
        Query(
            max_length=8000,
            description="comma-separated channel names: "
            "metrics, metrics:cluster:{id}, metrics:stream:{id}:{stream}, "
            "metrics:consumer:{id}:{stream}:{consumer}, alerts, "
            "operations, operations:{id}",
        ),
    ] = "metrics",
    token: Annotated[str | None, Query(max_length=4096, description="a realtime token")] = None,
    last_event_id: Annotated[
        int | None,
        Query(ge=0, description="resume after this event id (the Last-Event-ID header wins)"),
    ] = None,
    last_event_header: Annotated[
        str | None, Header(alias="Last-Event-ID", include_in_schema=False)
    ] = None,
) -> Response:
    """Server-sent events of the channels. Resume with ``Last-Event-ID``: every event after it."""
    after = _resume_point(last_event_header, last_event_id)
    header = x_api_key or (credentials.credentials if credentials else None)
    principal = await realtime_auth.resolve(request, svc, header or token, in_query=header is None)
    names = [name.strip() for name in channels.split(",") if name.strip()]
    wanted = parse(principal, names)
    scope = Scope(svc, principal)
    await authorize(request, svc, principal, wanted, scope)
    nc = svc.events.nc
    if not nc.is_connected:
        raise ServiceUnavailable("The internal event stream", "not connected")
    reader = LiveReader(
        nc,
        [ch.filter for ch in wanted],
        after=after,
        queue_size=svc.settings.realtime_queue_size,
        slow_after_s=svc.settings.realtime_slow_client_s,
    )
    try:
        await reader.start()
    except Exception as exc:
        await reader.close()
        raise ServiceUnavailable(
            "The internal event stream", str(exc) or type(exc).__name__
        ) from exc
    return EventStream(reader, wanted, scope, svc.settings.realtime_heartbeat_s)


@router.options("/api/v1/stream/metrics", include_in_schema=False)
async def stream_metrics_preflight() -> Response:
    """CORS preflight of a client that sends ``Last-Event-ID`` or ``Authorization``."""
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "GET",
            "Access-Control-Allow-Headers": (
                "Authorization, X-API-Key, Last-Event-ID, Cache-Control"
            ),
            "Access-Control-Max-Age": "600",
        },
    )


@router.websocket("/ws/v1/realtime")
async def realtime_websocket(websocket: WebSocket) -> None:
    await serve_websocket(websocket)
