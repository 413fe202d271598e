"""``POST /api/v1/ai/configure``: "describe what you need" → a stream (and consumer)
configuration, validated by the same models as the API and shown as a diff against the stream of
that name when it exists. It creates nothing: the person creates it through the normal routes
(``create`` lists the calls)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ai.configure import draft
from ai.model import ModelUnavailable
from api import ai_store
from api.ai_client import caller_api
from api.deps import Principal, Svc, audit, current_principal
from api.errors import ProblemError, problem_responses
from api.routers.ai import _printable, model_of
from core.audit import config_diff

router = APIRouter(prefix="/api/v1/ai", tags=["ai"])
RESPONSES = problem_responses(
    **{
        "401": "Not signed in.",
        "403": "The caller may not read the cluster's streams.",
        "404": "No such cluster.",
        "422": "Invalid input, the field named.",
        "429": "The daily token budget is used, or too many requests (Retry-After).",
        "503": "No model is configured, or it cannot be reached.",
    }
)


class ConfigureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(
        min_length=1, max_length=4000, description="what the stream (and consumer) should do"
    )
    cluster_id: uuid.UUID | None = Field(None, description="compare with this cluster's streams")

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return _printable(value, newlines=True)


def _seconds_to_midnight() -> int:
    now = datetime.now(UTC)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


async def _existing(request: Request, cluster_id: uuid.UUID) -> dict[str, dict]:
    async with caller_api(request) as api:
        reply = await api.get(f"/api/v1/clusters/{cluster_id}/streams")
    if reply.status_code >= 400:
        body = reply.json()
        raise ProblemError(reply.status_code, body.get("detail", "the streams cannot be read"))
    return {s["config"]["name"]: s["config"] for s in reply.json()["items"]}


@router.post("/configure", responses=RESPONSES)
async def configure(
    body: ConfigureIn, request: Request, svc: Svc, principal: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Draft a configuration from a description; nothing is created."""
    model = model_of(request)
    if (
        await ai_store.tokens_used(svc.redis, principal.user_id)
        >= svc.settings.ai_daily_tokens_per_user
    ):
        raise ProblemError(
            429,
            "Your daily token budget for the assistant is used up; it renews at 00:00 UTC.",
            headers={"Retry-After": str(_seconds_to_midnight())},
        )
    existing = await _existing(request, body.cluster_id) if body.cluster_id else {}
    try:
        drafted, usage = await draft(model, body.description, sorted(existing))
    except ModelUnavailable as exc:
        raise ProblemError(
            503,
            f"The assistant cannot draft a configuration: {exc}.",
            service="assistant model",
            reason=exc.reason,
        ) from None
    await ai_store.spend_tokens(svc.redis, principal.user_id, usage.total)
    stream = drafted["stream"]
    name = stream["config"].get("name") if isinstance(stream["config"], dict) else None
    before = existing.get(name) if name else None
    create = []
    if body.cluster_id and name and before is None and stream["valid"]:
        base = f"/api/v1/clusters/{body.cluster_id}/streams"
        create.append({"method": "POST", "path": base, "body": stream["config"]})
        if drafted["consumer"] and drafted["consumer"]["valid"]:
            create.append(
                {
                    "method": "POST",
                    "path": f"{base}/{name}/consumers",
                    "body": drafted["consumer"]["config"],
                }
            )
    await audit(
        request,
        principal,
        action="ai.configure",
        resource_type="stream",
        resource_name=name or "",
        cluster_id=body.cluster_id,
        changes={"valid": stream["valid"], "usage": usage.as_dict()},
    )
    return {
        **drafted,
        "exists": before is not None,
        # only what the draft sets to another value (what it leaves out stays as it is)
        "diff": config_diff(before, {**before, **stream["config"]})
        if before is not None and isinstance(stream["config"], dict)
        else {},
        "create": create,
        "usage": usage.as_dict(),
        "model": model.name,
    }
