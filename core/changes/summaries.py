"""The assistant's written risk summary of a change request is owed with the request: when a model
is configured (``ANTHROPIC_API_KEY``), opening a request also owes, through the outbox and in the
same transaction, the start of its ``RiskSummaryWorkflow`` (``workflows.risk_summary``) under the
id ``risk-summary-<request id>``. The API's change gate and the GitOps activity that opens a sync's
request both owe it here."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox import OutboxEntry, owe_workflow_start
from core.settings import Settings

RISK_SUMMARY_WORKFLOW = "RiskSummaryWorkflow"


def risk_summary_workflow_id(request_id: uuid.UUID | str) -> str:
    return f"risk-summary-{request_id}"


def owe_risk_summary(
    db: AsyncSession, settings: Settings, request_id: uuid.UUID, org_id: uuid.UUID
) -> OutboxEntry | None:
    """Owe the summary's workflow start (``None``: no model is configured, nothing owed)."""
    if not settings.anthropic_api_key:
        return None
    return owe_workflow_start(
        db,
        RISK_SUMMARY_WORKFLOW,
        risk_summary_workflow_id(request_id),
        [{"request_id": str(request_id), "org_id": str(org_id)}],
        settings.task_queue,
    )
