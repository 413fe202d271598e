"""Operations: the PostgreSQL mirror of long-running workflows (what the API lists), and the
typed records workflows exchange with the activity that keeps that mirror current."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Operation

Status = Literal[
    "pending", "running", "paused", "waiting_approval", "completed", "failed", "cancelled"
]
FINISHED = ("completed", "failed", "cancelled")


class Progress(BaseModel):
    done: int = 0
    total: int | None = None
    unit: str = "messages"
    rate_per_s: float | None = None
    eta_s: float | None = None
    steps: list[dict[str, Any]] | None = Field(
        default=None,
        description="an operation made of named steps (a failover) lists them: "
        "{name, status, started_at, finished_at, detail}",
    )


def with_heartbeat(progress: dict[str, Any], heartbeat: dict[str, Any] | None) -> dict[str, Any]:
    """The workflow's progress moved up to what its running activity last heartbeated (``done``
    and ``rate_per_s``, as a replay checkpoint carries them; ``total`` too where the activity
    measures it, as a mirror's catch-up does): the workflow only learns of a chunk's progress
    when the chunk ends, its heartbeats say it within about a second."""
    if not isinstance(heartbeat, dict) or not isinstance(heartbeat.get("done"), int):
        return progress
    if heartbeat["done"] < (progress.get("done") or 0):
        return progress
    live = {**progress, "done": heartbeat["done"]}
    if isinstance(heartbeat.get("total"), int) and heartbeat["total"] >= heartbeat["done"]:
        live["total"] = heartbeat["total"]
    rate, total = heartbeat.get("rate_per_s"), live.get("total")
    if isinstance(rate, (int, float)) and rate > 0:
        live["rate_per_s"] = rate
        if total is not None:
            live["eta_s"] = round(max(total - live["done"], 0) / rate, 1)
    return live


class OperationContext(BaseModel):
    """Who started which operation: the first argument of every operation workflow."""

    operation_id: str
    org_id: str
    user_id: str | None = None
    user_email: str = ""
    type: str


class OperationUpdate(BaseModel):
    context: OperationContext
    status: Status
    progress: Progress | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    audit_action: str | None = Field(default=None, description="also write this audit event")
    audit_key: str | None = Field(
        default=None,
        description="tells apart repeated events of one "
        "action (an escalation tier); part of the event's stable id",
    )
    audit_details: dict[str, Any] | None = None


def workflow_id_for(operation_type: str, operation_id: uuid.UUID | str) -> str:
    return f"{operation_type}-{operation_id}"


def replay_operation_id(request_id: uuid.UUID | str) -> uuid.UUID:
    """The operation of the replay an approved change request starts: one per request."""
    return request_operation_id(request_id, "replay")


def request_operation_id(request_id: uuid.UUID | str, kind: str) -> uuid.UUID:
    """The operation an approved change request of ``kind`` (replay, mirror, failover) starts:
    one per request, whatever retries and races happen."""
    return uuid.uuid5(uuid.UUID(str(request_id)), kind)


async def apply_update(db: AsyncSession, change: OperationUpdate) -> None:
    """Idempotent: the same update applied twice leaves the same row."""
    values: dict[str, Any] = {"status": change.status}
    if change.progress is not None:
        values["progress"] = change.progress.model_dump()
    if change.result is not None:
        values["result"] = change.result
    if change.error is not None:
        values["error"] = change.error
    if change.status in FINISHED:
        values["finished_at"] = datetime.now(UTC)
    await db.execute(
        update(Operation)
        .where(Operation.id == uuid.UUID(change.context.operation_id))
        .values(**values)
    )
    await db.commit()


async def get_operation(
    db: AsyncSession, org_id: uuid.UUID, operation_id: uuid.UUID
) -> Operation | None:
    return await db.scalar(
        select(Operation).where(Operation.id == operation_id, Operation.org_id == org_id)
    )
