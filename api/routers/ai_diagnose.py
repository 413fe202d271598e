"""``GET /api/v1/ai/diagnose``: the deterministic checks (``ai.diagnose``) over a consumer, a
stream, a cluster or everything the caller can read, answered as a ``Diagnosis`` (findings with
their evidence, what was checked, what could not be read).

Open to every signed-in member: it reads through this same API as the caller
(``api.ai_client.caller_api``), so what it finds is limited by the caller's own rights. A cluster,
stream or consumer the caller names and may not read answers what the API said for it (404 for
another organization's cluster, 403 outside the caller's namespaces). Nothing is written."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request

from ai.analyzers import Thresholds
from ai.diagnose import ScopeRefused, diagnose
from ai.findings import Diagnosis
from api.ai_client import caller_api
from api.deps import Principal, current_principal
from api.errors import ProblemError, problem_responses
from core.jetstream.config import NAME_PATTERN

router = APIRouter(prefix="/api/v1/ai", tags=["ai"])
RESPONSES = problem_responses(
    **{
        "401": "Not signed in.",
        "403": "The stream or consumer named is outside what the caller may read.",
        "404": "No such cluster in the caller's organization, or no such stream or consumer.",
        "422": "Invalid input, the field named (a consumer needs its stream).",
        "429": "Too many requests (Retry-After).",
    }
)


def _name(description: str):
    return Query(None, min_length=1, max_length=255, pattern=NAME_PATTERN, description=description)


def _printable(field: str, value: str | None) -> None:
    if value is not None and any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise ProblemError(
            422,
            f"Invalid input: {field}: must not contain control characters",
            errors=[{"field": field, "message": "must not contain control characters"}],
        )


def thresholds_of(request: Request) -> Thresholds:
    settings = request.app.state.services.settings
    return Thresholds(
        stalled_after_s=settings.ai_stalled_after_s,
        stalled_critical_after_s=max(
            Thresholds.stalled_critical_after_s, settings.ai_stalled_after_s
        ),
    )


@router.get("/diagnose", response_model=Diagnosis, responses=RESPONSES)
async def diagnose_scope(
    request: Request,
    cluster_id: uuid.UUID | None = Query(
        None, description="one cluster (default: every cluster you can read)"
    ),
    stream: str | None = _name("one stream and its consumers"),
    consumer: str | None = _name("one consumer (needs 'stream')"),
    principal: Principal = Depends(current_principal),
) -> Diagnosis:
    """Findings (lag growing, stalled consumer, redelivery storm, ack pending near
    max_ack_pending, storage near a limit, mirror behind or broken, idle stream, quota near its
    limit, filter matching nothing), the worst first."""
    _printable("stream", stream)
    _printable("consumer", consumer)
    if consumer and not stream:
        raise ProblemError(
            422,
            "Invalid input: stream: a consumer needs its stream: give 'stream' too.",
            errors=[{"field": "stream", "message": "required with 'consumer'"}],
        )
    async with caller_api(request) as api:
        try:
            return await diagnose(
                api,
                cluster_id=str(cluster_id) if cluster_id else None,
                stream=stream,
                consumer=consumer,
                thresholds=thresholds_of(request),
            )
        except ScopeRefused as exc:
            raise ProblemError(exc.status, exc.detail) from None
