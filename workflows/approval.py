"""ApprovalWorkflow: a change request waits for people, then the change is applied once.

Decisions arrive as the ``vote`` update (approve, reject, request changes, withdraw). Its validator
applies the rules of ``core.changes.voting`` before anything is recorded, so the API answers at
once and a refused vote leaves no trace in the history: no self-approval, a required role, one vote
per person, no decision on a closed request. Approval groups pass in sequence, each with its N of M.

While it waits, the policy's SLA and escalation tiers are timers: each tier that passes notifies
its target and the workflow keeps waiting. On approval the change is applied by the
``apply_change`` activity (the same code as the API's direct path) exactly once, however many
approvals race; the result is recorded and the requester notified. A rejection, a request for
changes or a withdrawal changes nothing. A request that policy auto-approved (a small quota
request) skips the waiting.

The ``QuotaRequestWorkflow`` is the same workflow under its own name, so quota requests are listed
and counted apart.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from core.changes.models import (
        ApplyRequest,
        ApprovalTicket,
        ChangeResult,
        RequestEvent,
        RequestUpdate,
        Vote,
        WebhookDelivery,
    )
    from core.changes.voting import Tally, VoteRefused, cast, check
    from core.operations import OperationContext
    from core.replay.models import ReplayRequest
    from workflows.inputs import ApprovalInput, from_args, operation_input
    from workflows.operation_base import RECORD_RETRY, OperationWorkflowBase

APPLY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
    non_retryable_error_types=["Refused", "NotFound", "ClusterNotFound"],
)
WEBHOOK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=10,
)
# Approved changes that run as operations of their own (a replay has its own path, above).
OPERATION_WORKFLOWS = {
    "mirror": "MirrorWorkflow",
    "failover": "FailoverWorkflow",
    "restore": "RestoreWorkflow",
    "gitops_sync": "GitOpsApplyWorkflow",
}
OUTCOME_EVENTS = {
    "approved": "approved",
    "rejected": "rejected",
    "withdrawn": "withdrawn",
    "changes_requested": "changes_requested",
}
# 9e0499f moved a vote's announcement before its record without a patch marker. Votes recorded
# without the marker follow the order of the code that ran them: the old one before that release.
OUTCOME_FIRST_PATCH = "vote-announces-outcome-first"
OUTCOME_FIRST_RELEASED = datetime(2026, 11, 22, 2, 46, 38, tzinfo=UTC)


def announce_outcome_first() -> bool:
    """Whether this vote announces its outcome before recording it (the order since 9e0499f)."""
    return workflow.patched(OUTCOME_FIRST_PATCH) or workflow.now() >= OUTCOME_FIRST_RELEASED


def approval_input(args: tuple[Any, ...]) -> ApprovalInput:
    """One ``ApprovalInput``; a run a release started has ``[context, ticket]``."""
    return from_args(ApprovalInput, args, ("context", "ticket"))


@workflow.defn(name="ApprovalWorkflow")
class ApprovalWorkflow(OperationWorkflowBase):
    @workflow.init
    def __init__(self, *args: Any) -> None:
        # The input is known before any handler runs: after a worker restart, a vote can arrive
        # in the same activation that replays the start.
        super().__init__()
        data = approval_input(args)
        self.context: OperationContext = data.context
        self.ticket: ApprovalTicket = data.ticket
        self.tally = Tally()
        self.escalations: list[dict[str, Any]] = []
        self._record_lock = asyncio.Lock()
        self._deliveries: list[asyncio.Task[None]] = []

    # --- interactions -------------------------------------------------------------------------
    @workflow.update
    async def vote(self, vote: Vote) -> dict[str, Any]:
        vote = vote.model_copy(update={"at": workflow.now().isoformat()})
        self.tally = cast(self.ticket, self.tally, vote)
        if not announce_outcome_first():  # votes recorded before 9e0499f: record, then announce
            await self.record_request()
            if self.tally.status in OUTCOME_EVENTS:
                self.announce(
                    OUTCOME_EVENTS[self.tally.status], actor=vote.voter.email, comment=vote.comment
                )
            return self.view()
        outcome = self.tally.status  # the run may move on (executing) while this records
        answer = self.view()
        if outcome in OUTCOME_EVENTS:
            self.announce(OUTCOME_EVENTS[outcome], actor=vote.voter.email, comment=vote.comment)
        await self.record_request()
        return answer

    @vote.validator
    def _check_vote(self, vote: Vote) -> None:
        try:
            check(self.ticket, self.tally, vote)
        except VoteRefused as refused:
            raise ApplicationError(str(refused), type=refused.code, non_retryable=True) from refused

    @workflow.query
    def view(self) -> dict[str, Any]:
        return {
            **super().view(),
            "request_status": self.tally.status,
            "group_index": self.tally.group_index,
            "votes": [v.model_dump(mode="json") for v in self.tally.votes],
            "escalations": self.escalations,
        }

    # --- the run ------------------------------------------------------------------------------
    @workflow.run
    async def run(self, *args: Any) -> dict[str, Any]:
        """One ``ApprovalInput`` (read by ``__init__``)."""
        ticket = self.ticket
        if ticket.decision.outcome == "auto_approved":
            self.tally.status = "approved"
            self.announce("approved", comment=" ".join(ticket.decision.reasons))
        else:
            await self.set_status("waiting_approval")  # the API audited the request
            await self.record_request()
            self.announce("created", groups=True)
            await self.wait_for_decision()
        if self.tally.status != "approved":
            return await self.close("cancelled", {"outcome": self.tally.status})
        return await self.execute()

    async def wait_for_decision(self) -> None:
        """Wait, firing each SLA / escalation tier that passes; keep waiting after the last."""

        def decided() -> bool:
            return self.tally.status != "waiting_approval"

        started = workflow.now()
        for tier, (hours, target) in enumerate(self.tiers(), start=1):
            remaining = started + timedelta(hours=hours) - workflow.now()
            if remaining > timedelta(0):
                try:
                    await workflow.wait_condition(decided, timeout=remaining)
                except TimeoutError:
                    pass
            if decided():
                return
            self.escalations.append(
                {
                    "tier": tier,
                    "after_hours": hours,
                    "target": target,
                    "at": workflow.now().isoformat(),
                }
            )
            await self.record(
                audit="approval.escalated",
                audit_key=str(tier),
                audit_details={"tier": tier, "target": target, "after_hours": hours},
            )
            self.announce("escalated", target=target, groups=target is None)
        await workflow.wait_condition(decided)

    def tiers(self) -> list[tuple[float, str | None]]:
        """(hours after submission, target): the SLA notifies the approvers themselves (target
        None), each escalation its own target."""
        decision = self.ticket.decision
        out: list[tuple[float, str | None]] = []
        if decision.sla_hours:
            out.append((decision.sla_hours, None))
        out += [(e.after_hours, e.notify) for e in decision.escalation]
        return sorted(out, key=lambda t: t[0])

    async def execute(self) -> dict[str, Any]:
        self.tally.status = "executing"
        await self.set_status("running")
        await self.record_request()
        apply = ApplyRequest(
            org_id=self.context.org_id,
            request_id=self.ticket.request_id,
            spec=self.ticket.spec,
            actor_id=self.ticket.requester_id,
            actor_email=self.ticket.requester_email,
        )
        try:
            done: ChangeResult = await workflow.execute_activity(
                "apply_change",
                apply,
                result_type=ChangeResult,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=APPLY_RETRY,
            )
        except ActivityError as err:
            message = str(err.cause.message if isinstance(err.cause, ApplicationError) else err)
            self.tally.status, self.error = "failed", message
            await self.record_request(error=message)
            self.announce("failed", comment=message)
            return await self.close("failed", {"outcome": "failed"}, error=message)
        if self.ticket.spec.kind == "replay":
            await self.start_replay(done.detail)
        elif self.ticket.spec.kind in OPERATION_WORKFLOWS:
            await self.start_operation(done.detail)
        self.tally.status = "executed"
        await self.record_request(result=done.detail)
        self.announce("executed")
        return await self.close("completed", {"outcome": "executed", **done.detail})

    async def start_replay(self, opened: dict[str, Any]) -> None:
        """An approved replay runs as its own operation (pause, resume, cancel, progress), started
        here as a child that outlives this workflow."""
        context = OperationContext(
            operation_id=opened["operation_id"],
            org_id=self.context.org_id,
            user_id=self.ticket.requester_id,
            user_email=self.ticket.requester_email,
            type="replay",
        )
        await workflow.start_child_workflow(
            "ReplayWorkflow",
            operation_input(
                "ReplayWorkflow", context, ReplayRequest.model_validate(self.ticket.spec.config)
            ),
            id=opened["workflow_id"],
            task_queue=workflow.info().task_queue,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    async def start_operation(self, opened: dict[str, Any]) -> None:
        """An approved mirror or failover runs as its own operation, like a replay: its input is
        the change's ``config`` (the workflow reads it into its own model)."""
        kind = self.ticket.spec.kind
        context = OperationContext(
            operation_id=opened["operation_id"],
            org_id=self.context.org_id,
            user_id=self.ticket.requester_id,
            user_email=self.ticket.requester_email,
            type=kind,
        )
        name = OPERATION_WORKFLOWS[kind]
        await workflow.start_child_workflow(
            name,
            operation_input(name, context, self.ticket.spec.config),
            id=opened["workflow_id"],
            task_queue=workflow.info().task_queue,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    async def close(
        self, status: str, result: dict[str, Any], error: str | None = None
    ) -> dict[str, Any]:
        await workflow.wait_condition(workflow.all_handlers_finished)
        self.result, self.error = result, error
        await self.record(audit=f"approval.{self.tally.status}")  # executed, rejected, ...
        outcome = await self.finish(status, result, error=error)
        if self._deliveries:  # webhooks retry on their own; the outcome does not wait on them
            await asyncio.gather(*self._deliveries, return_exceptions=True)
        return outcome

    # --- records and notifications ------------------------------------------------------------
    async def record_request(
        self, result: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Rows are written in order: each write carries the state when it got the lock."""
        async with self._record_lock:
            update = RequestUpdate(
                request_id=self.ticket.request_id,
                status=self.tally.status,
                votes=self.tally.votes,
                result=result,
                error=error,
            )
            await workflow.execute_activity(
                "record_change_request",
                update,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RECORD_RETRY,
            )

    def announce(
        self,
        event: str,
        *,
        actor: str = "",
        comment: str = "",
        target: str | None = None,
        groups: bool = False,
    ) -> None:
        """Notify in the background: in the app at once, then each webhook with its own retries."""
        current = self.ticket.decision.groups[self.tally.group_index : self.tally.group_index + 1]
        message = RequestEvent(
            org_id=self.context.org_id,
            request_id=self.ticket.request_id,
            event=event,
            title=self.ticket.title,
            actor_email=actor,
            comment=comment,
            target=target,
            recipients=[] if groups or target else [self.ticket.requester_id],
            groups=[g.model_dump(mode="json") for g in current] if groups else [],
            exclude=[self.ticket.requester_id] if groups else [],
        )
        self._deliveries.append(asyncio.ensure_future(self._notify(message)))

    async def _notify(self, message: RequestEvent) -> None:
        hooks: list[str] = await workflow.execute_activity(
            "notify_request",
            message,
            result_type=list[str],
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RECORD_RETRY,
        )
        await asyncio.gather(
            *(
                workflow.execute_activity(
                    "deliver_webhook",
                    WebhookDelivery(webhook_id=hook, event=message),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=WEBHOOK_RETRY,
                )
                for hook in hooks
            ),
            return_exceptions=True,
        )


@workflow.defn(name="QuotaRequestWorkflow")
class QuotaRequestWorkflow(ApprovalWorkflow):
    @workflow.run
    async def run(self, *args: Any) -> dict[str, Any]:
        return await super().run(*args)
