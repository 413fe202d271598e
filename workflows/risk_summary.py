"""RiskSummaryWorkflow: the assistant writes the short risk summary of a change request that waits
for approval (its start is owed with the request when a model is configured:
``core.changes.summaries``).

One activity, ``write_risk_summary``, does it all idempotently: it skips a request that has a
summary or a worker without a model, and stores one only where none is. The model's failures are
retried a few times with backoff; after that the request simply has no summary: the workflow ends
"failed to summarise" and the approval goes on without it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from core.changes.summaries import RISK_SUMMARY_WORKFLOW
    from workflows.types import RiskSummaryInput

FAILED = "failed to summarise"
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=4,
)


@workflow.defn(name=RISK_SUMMARY_WORKFLOW)
class RiskSummaryWorkflow:
    def __init__(self) -> None:
        self._status = "pending"

    @workflow.run
    async def run(self, data: RiskSummaryInput) -> str:
        """``written``, ``exists``, ``skipped`` (no model), ``missing`` (no such request) or
        ``failed to summarise``."""
        self._status = "writing"
        outcome: str
        try:
            outcome = await workflow.execute_activity(
                "write_risk_summary",
                data,
                result_type=str,
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=RETRY,
            )
        except ActivityError as exc:
            workflow.logger.warning("no risk summary for %s: %s", data.request_id, exc.cause or exc)
            outcome = FAILED
        self._status = outcome
        return outcome

    @workflow.query
    def status(self) -> str:
        return self._status
