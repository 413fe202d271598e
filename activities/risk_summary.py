"""``write_risk_summary``: the one activity of ``RiskSummaryWorkflow``. It reads the change
request, skips it when it has a summary already or when this worker has no model
(``ANTHROPIC_API_KEY``), asks the model (``ai.risk``), and stores
``change_requests.risk_summary = {text, model, at}`` only where it is still empty, so a retry or a
second run never replaces a summary. A refusal of the model's service (a bad key, a bad request)
ends at once; anything else (unreachable, overloaded) is raised for Temporal to retry.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute
from temporalio import activity
from temporalio.exceptions import ApplicationError

from ai.model import Model, ModelUnavailable
from ai.risk import write_risk_summary
from core.db.models import ChangeRequestRow
from core.settings import Settings
from workflows.types import RiskSummaryInput

FIELDS = (
    "title",
    "kind",
    "operation",
    "environment",
    "spec",
    "diff",
    "decision",
    "risk_notes",
    "justification",
)


def _empty(column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """SQL NULL or a JSON ``null``."""
    return or_(column.is_(None), func.jsonb_typeof(column) == "null")


def request_of(row: ChangeRequestRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


class RiskSummaryActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        model: Model | None = None,
    ):
        self.sessions = sessions
        self.model = model or Model(settings)

    async def close(self) -> None:
        await self.model.close()

    @activity.defn(name="write_risk_summary")
    async def write_risk_summary(self, data: RiskSummaryInput) -> str:
        """``written``, ``exists``, ``skipped`` (no model) or ``missing``."""
        request_id, org_id = uuid.UUID(data.request_id), uuid.UUID(data.org_id)
        async with self.sessions() as db:
            row = await db.scalar(
                select(ChangeRequestRow).where(
                    ChangeRequestRow.id == request_id, ChangeRequestRow.org_id == org_id
                )
            )
            if row is None:
                return "missing"
            if row.risk_summary:
                return "exists"
            request = request_of(row)
        if not self.model.available:
            return "skipped"
        try:
            text = await write_risk_summary(self.model, request)
        except ModelUnavailable as exc:
            if exc.reason == "no_api_key":
                return "skipped"
            if exc.reason == "refused":
                raise ApplicationError(str(exc), type="ModelRefused", non_retryable=True) from exc
            raise ApplicationError(str(exc), type="ModelUnavailable") from exc
        summary = {"text": text, "model": self.model.name, "at": datetime.now(UTC).isoformat()}
        async with self.sessions() as db:
            stored = await db.execute(
                update(ChangeRequestRow)
                .where(
                    ChangeRequestRow.id == request_id,
                    ChangeRequestRow.org_id == org_id,
                    _empty(ChangeRequestRow.risk_summary),
                )
                .values(risk_summary=summary)
            )
            await db.commit()
        # an UPDATE's result is a cursor result, which counts the rows it changed
        return "written" if cast(CursorResult[Any], stored).rowcount else "exists"
