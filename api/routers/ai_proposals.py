"""``POST /api/v1/ai/proposals``: a change the assistant proposes, filed as a change request that
waits for a person.

It goes through the same change gate as a person's change (DESIGN.md rule 4): the caller's own
permission and team namespace for that change, the same validation of the configuration, the
quotas (``409``), the policies (auto-rejected: ``403``). What differs: it is never applied at once.
Where policy would have applied it directly, the request waits for the approval of an admin or an
editor other than the requester (the assistant never changes a system by itself, and a proposal
is reviewed by a person before it is applied). The audit record names the assistant and the
conversation it came from.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api.change_gate import ApprovalPending, judge_change, open_and_start
from api.cluster_access import cluster_jetstream
from api.deps import (
    Db,
    Principal,
    Svc,
    _not_allowed,
    _team_like,
    authorize_stream,
    current_principal,
    deny,
)
from api.errors import ProblemError, field_errors
from core.audit import config_diff
from core.changes.judge import team_history
from core.changes.models import ChangeSpec
from core.jetstream.api import JetStreamError
from core.jetstream.config import ConsumerConfig, Name, StreamConfig
from core.policy import ApprovalGroup, Decision
from core.policy import risk_notes as make_risk_notes

router = APIRouter(prefix="/api/v1/ai", tags=["ai"])
REVIEWERS = ApprovalGroup(name="review of the assistant's proposal", roles=["admin", "editor"])


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cluster_id: uuid.UUID
    kind: Literal["stream", "consumer"]
    operation: Literal["create", "update"]
    stream: Name
    consumer: Name | None = None
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="JetStream fields: the whole configuration to create, or the fields to change",
    )
    reason: str = Field(min_length=1, max_length=2000)
    conversation_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _consumer_named(self) -> ProposalIn:
        if self.kind == "consumer" and not self.consumer:
            raise ValueError("a consumer proposal names the consumer: give 'consumer'")
        if self.kind == "stream" and self.consumer:
            raise ValueError("a stream proposal has no 'consumer'")
        return self


def _validated(model: type[StreamConfig] | type[ConsumerConfig], config: dict) -> dict:
    try:
        return model.model_validate(config).to_api()
    except ValidationError as exc:
        errors = field_errors(exc.errors())
        raise ProblemError(
            422,
            "Invalid input: " + "; ".join(f"config.{e['field']}: {e['message']}" for e in errors),
            errors=[{**e, "field": f"config.{e['field']}"} for e in errors],
        ) from None


async def _exists(info: Awaitable[dict]) -> bool:
    try:
        await info
    except JetStreamError as exc:
        if not exc.not_found:
            raise
        return False
    return True


async def _spec(body: ProposalIn, cluster_id: uuid.UUID, js: Any) -> tuple[ChangeSpec, dict | None]:
    """The full change (a configuration validated as the API validates it) and what it replaces."""
    if body.kind == "stream":
        if body.operation == "update":
            before = (await js.stream_info(body.stream))["config"]
            config = _validated(StreamConfig, {**before, **body.config, "name": body.stream})
            return ChangeSpec(
                kind="stream",
                operation="update",
                cluster_id=cluster_id,
                name=body.stream,
                config=config,
            ), before
        if await _exists(js.stream_info(body.stream)):
            raise ProblemError(
                409, f"The stream '{body.stream}' already exists; propose an update instead."
            )
        config = _validated(StreamConfig, {**body.config, "name": body.stream})
        return ChangeSpec(
            kind="stream",
            operation="create",
            cluster_id=cluster_id,
            name=body.stream,
            config=config,
        ), None
    await js.stream_info(body.stream)  # 404 for a stream that does not exist
    name = body.consumer or ""
    if body.operation == "update":
        before = (await js.consumer_info(body.stream, name))["config"]
        config = _validated(ConsumerConfig, {**before, **body.config})
        return ChangeSpec(
            kind="consumer",
            operation="update",
            cluster_id=cluster_id,
            name=name,
            stream=body.stream,
            config=config,
        ), before
    if await _exists(js.consumer_info(body.stream, name)):
        raise ProblemError(409, f"The consumer '{name}' already exists; propose an update instead.")
    given = {k: v for k, v in body.config.items() if k not in ("name", "durable_name")}
    config = _validated(ConsumerConfig, {**given, "durable_name": name})
    return ChangeSpec(
        kind="consumer",
        operation="create",
        cluster_id=cluster_id,
        name=name,
        stream=body.stream,
        config=config,
    ), None


@router.post("/proposals", status_code=202, response_model=ApprovalPending)
async def propose(
    body: ProposalIn,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(current_principal),
):
    """File the assistant's proposal as a change request waiting for approval."""
    permission = f"{'streams' if body.kind == 'stream' else 'consumers'}:{body.operation}"
    if not _team_like(principal.scopes(permission)):
        await deny(request, principal, permission, _not_allowed(principal, permission))
    await authorize_stream(request, principal, permission, body.cluster_id, body.stream)
    cluster, js = await cluster_jetstream(db, svc, principal, body.cluster_id)
    spec, before = await _spec(body, cluster.id, js)
    change, decision, team, environment = await judge_change(
        db, svc, principal, cluster, spec, permission=permission, before=before
    )
    if decision.outcome == "auto_rejected":
        await deny(request, principal, permission, " ".join(decision.reasons))
    if decision.outcome == "auto_approved":
        decision = Decision(
            outcome="needs_approval",
            policy=decision.policy,
            groups=[REVIEWERS],
            reasons=[
                *decision.reasons,
                "Proposed by the assistant: an admin or an editor reviews it before it is applied.",
            ],
        )
    notes = make_risk_notes(
        change, await team_history(db, team.id if team else None), svc.settings.storage_price_per_gb
    )
    diff = config_diff(before, spec.config) if before is not None else {}
    via = {
        "requested_via": "assistant",
        "on_behalf_of": principal.email,
        "conversation_id": str(body.conversation_id) if body.conversation_id else None,
    }
    return await open_and_start(
        request,
        db,
        svc,
        principal,
        spec,
        decision,
        notes,
        diff,
        environment=environment,
        team_id=team.id if team else None,
        justification=f"Proposed by the assistant for {principal.email}: {body.reason}",
        audit_extra=via,
    )
