"""AlertEvaluationWorkflow: one evaluation pass of the alert rules, started by the
``jsc-alerts-evaluate`` schedule (every ``JSC_ALERT_INTERVAL_S``) or directly.

The pass (``alerts_evaluate``) runs on ``<task queue>-analytics``, which the API process serves
(only it may open chdb); it answers the events pending delivery. Each is then recorded and put in
the in-app inboxes (``alert_publish``), POSTed to each of its webhooks (``deliver_alert_webhook``:
one that keeps failing is reported, not retried forever, and does not hold the others back), and
taken out of pending (``alert_delivered``). Every activity is idempotent.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from core.alerts.events import AlertEvent, EvaluationInput, EvaluationResult, WebhookDelivery

ANALYTICS_SUFFIX = "-analytics"
QUICK = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=5,
)


@workflow.defn(name="AlertEvaluationWorkflow")
class AlertEvaluationWorkflow:
    def __init__(self) -> None:
        self._status = "pending"

    @workflow.run
    async def run(self, data: EvaluationInput) -> EvaluationResult:
        self._status = "evaluating"
        pending = await workflow.execute_activity(
            "alerts_evaluate",
            data,
            result_type=list[AlertEvent],
            task_queue=workflow.info().task_queue + ANALYTICS_SUFFIX,
            schedule_to_close_timeout=timedelta(minutes=5),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=QUICK,
        )
        result = EvaluationResult()
        self._status = "delivering"
        for event in pending:
            hooks = await workflow.execute_activity(
                "alert_publish",
                event,
                result_type=list[str],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=QUICK,
            )
            for hook in hooks:
                try:
                    await workflow.execute_activity(
                        "deliver_alert_webhook",
                        WebhookDelivery(
                            webhook_id=hook, event=event, chosen=f"webhook:{hook}" in event.channels
                        ),
                        start_to_close_timeout=timedelta(seconds=30),
                        retry_policy=QUICK,
                    )
                except ActivityError as exc:
                    cause = str(exc.cause or exc)
                    result.failed_deliveries.append(f"{event.id} -> {hook}: {cause}")
            await workflow.execute_activity(
                "alert_delivered",
                event,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=QUICK,
            )
            result.events.append(str(event.id))
        self._status = "completed"
        return result

    @workflow.query
    def status(self) -> str:
        return self._status
