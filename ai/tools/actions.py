"""The two tools that are more than a read: ``diagnose`` (the deterministic analyzers, whose
findings the chat shows) and ``propose_change``, which files a change request through the same
change gate as a person's and never applies anything: the request waits for a person's approval
(``POST /api/v1/ai/proposals``). A proposal is refused unless the person asked for a change in
this turn and named what it touches (``ai.guard``)."""

from __future__ import annotations

from typing import Any

from ai.findings import Diagnosis
from ai.tools.base import (
    CLUSTER_ID,
    CONSUMER,
    STREAM,
    Tool,
    ToolContext,
    ToolInputError,
    ToolOutcome,
    cluster_of,
    data,
    get,
    post,
    schema,
    text,
)


async def diagnose(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    stream = text(given.get("stream") or ctx.context.stream, "stream")
    consumer = text(
        given.get("consumer") or (ctx.context.consumer if not given.get("stream") else None),
        "consumer",
    )
    if consumer and not stream:
        raise ToolInputError("a consumer needs its 'stream'")
    found = Diagnosis.model_validate(
        await get(
            ctx,
            "/api/v1/ai/diagnose",
            cluster_id=cluster_of(ctx, given, required=False),
            stream=stream,
            consumer=consumer,
        )
    ).sorted()
    worst = found.findings[0].severity if found.findings else None
    summary = f"{len(found.findings)} finding(s) over {len(found.checked)} checked" + (
        f", worst {worst}" if worst else ""
    )
    return data("findings", found.model_dump(mode="json"), summary, findings=found.findings)


async def propose_change(ctx: ToolContext, given: dict[str, Any]) -> ToolOutcome:
    body = {
        "cluster_id": cluster_of(ctx, given),
        "kind": given.get("kind"),
        "operation": given.get("operation"),
        "stream": text(given.get("stream"), "stream"),
        "consumer": text(given.get("consumer"), "consumer"),
        "config": given.get("config") or {},
        "reason": str(given.get("reason") or "")[:2000],
        "conversation_id": ctx.conversation_id,
    }
    if (why := ctx.may_propose(body)) is not None:
        return ToolOutcome(
            summary=f"refused: {why}",
            is_error=True,
            refused=why,
            content=f"Refused: {why} Do not retry; tell the person what you would "
            f"propose and let them ask for it.",
        )
    status, reply = await post(ctx, "/api/v1/ai/proposals", body)
    proposal = {**reply, "link": f"/api/v1/approvals/{reply['request_id']}"}
    return ToolOutcome(
        summary=f"filed change request '{reply['title']}' ({reply['status']})",
        content=data("proposal", proposal, "").content + "\nThe request waits for a person's "
        "approval; give the person its link.",
        proposal=proposal,
    )


def tools() -> list[Tool]:
    return [
        Tool(
            "diagnose",
            "Run the deterministic checks (lag growing, stalled consumer, "
            "redelivery storm, ack pending near max_ack_pending, storage near a limit, mirror "
            "behind or broken, idle stream, quota near its limit, filter matching nothing) over "
            "a consumer, a stream, a cluster or everything the person can see. Start here.",
            schema(cluster_id=CLUSTER_ID, stream=STREAM, consumer=CONSUMER),
            diagnose,
        ),
        Tool(
            "propose_change",
            "File a change request for a stream or a consumer (create or update; never delete "
            "or purge). It is NOT applied: it waits for a person's approval, and quotas and "
            "policies apply. Only when the person asked for a change in their last message. "
            "For an update, 'config' holds only the fields to change (JetStream names: "
            "max_bytes, num_replicas, max_ack_pending, ...).",
            schema(
                ["kind", "operation", "stream", "config", "reason"],
                cluster_id=CLUSTER_ID,
                kind={"type": "string", "enum": ["stream", "consumer"]},
                operation={"type": "string", "enum": ["create", "update"]},
                stream=STREAM,
                consumer=CONSUMER,
                config={"type": "object", "description": "JetStream configuration fields"},
                reason={"type": "string", "description": "why, in one or two sentences"},
            ),
            propose_change,
        ),
    ]
