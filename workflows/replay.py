"""ReplayWorkflow: copy a range of stored messages, chunk by chunk, exactly once.

It plans the range, then runs ``replay_chunk`` activities of a few seconds each until the range is
exhausted. Between chunks it honours pause, resume and cancel (signals), so the result always says
exactly how far it got; a Temporal-level cancellation is honoured too. The operation's row is kept
current after every chunk, and its start and end are audited.

A chunk is retried without limit: a worker's death must not use up a budget. The activity itself
gives up on errors of its own (see ``activities.replay``). After ``chunks_per_run`` chunks, or
when Temporal suggests it, the workflow continues as new carrying its plan, checkpoint and
pause/cancel state (:class:`ReplayCarry`), so a replay of any length keeps a small history.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.operations import OperationContext, Progress
    from core.replay.models import (
        DryRunResult,
        ReplayCarry,
        ReplayCheckpoint,
        ReplayChunk,
        ReplayChunkResult,
        ReplayPlanned,
        ReplayRequest,
        ReplayStart,
    )
    from workflows.inputs import ReplayInput, from_args
    from workflows.operation_base import OperationWorkflowBase

NON_RETRYABLE = ["DestinationRefused", "NotFound", "Refused", "ClusterNotFound", "ReplayFailed"]
PLAN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=20,
    non_retryable_error_types=NON_RETRYABLE,
)
CHUNK_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
# A dead worker is noticed after this long without a heartbeat (sent at least every second).
CHUNK_HEARTBEAT_TIMEOUT = timedelta(seconds=3)
CONTINUE_AS_NEW_PATCH = "replay-continue-as-new"
# The positional shapes released versions started (and continued) a replay with.
RELEASED_SHAPES = (("context", "request"), ("context", "request", "carry"))


def replay_input(args: tuple[Any, ...]) -> ReplayInput:
    return from_args(ReplayInput, args, *RELEASED_SHAPES)


@workflow.defn(name="ReplayWorkflow")
class ReplayWorkflow(OperationWorkflowBase):
    @workflow.init
    def __init__(self, *args: Any) -> None:
        """The carried pause and cancel state is in place before any signal handler runs (a
        signal can arrive with the first task of a continued run)."""
        super().__init__()
        data = replay_input(args)
        self.context = data.context
        self.carry = data.carry or ReplayCarry()
        self.paused, self.stop_requested = self.carry.paused, self.carry.stop_requested

    @workflow.run
    async def run(self, *args: Any) -> dict[str, Any]:
        """One ``ReplayInput``; a run a release started has ``[context, request]`` or
        ``[context, request, carry]`` (``workflows.inputs``)."""
        data = replay_input(args)
        context, request, carry = data.context, data.request, self.carry
        self.context = context
        start = ReplayStart(context=context, request=request)
        try:
            if carry.planned is None:
                await self.set_status("running")
            else:
                self.status = "paused" if carry.paused else "running"
            if request.dry_run:
                result = await workflow.execute_activity(
                    "replay_dry_run",
                    start,
                    result_type=DryRunResult,
                    start_to_close_timeout=timedelta(hours=1),
                    heartbeat_timeout=timedelta(seconds=30),
                    retry_policy=PLAN_RETRY,
                )
                return await self.finish("completed", result.model_dump(mode="json"))
            planned = carry.planned or await workflow.execute_activity(
                "replay_plan",
                start,
                result_type=ReplayPlanned,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=PLAN_RETRY,
            )
            checkpoint = carry.checkpoint or planned.checkpoint
            self.progress = Progress(done=checkpoint.done, total=planned.plan.estimated_total)
            chunks = 0
            while True:
                await self.between_chunks()
                if self.stop_requested:
                    return await self.finish(
                        "cancelled", _summary(checkpoint, planned, stopped=True)
                    )
                if chunks >= carry.chunks_per_run or workflow.info().is_continue_as_new_suggested():
                    if workflow.patched(CONTINUE_AS_NEW_PATCH):
                        await self.continue_with(context, request, carry, planned, checkpoint)
                chunk = ReplayChunk(
                    operation_id=context.operation_id,
                    org_id=context.org_id,
                    request=request,
                    plan=planned.plan,
                    checkpoint=checkpoint,
                    max_seconds=carry.chunk_seconds,
                )
                done: ReplayChunkResult = await workflow.execute_activity(
                    "replay_chunk",
                    chunk,
                    result_type=ReplayChunkResult,
                    start_to_close_timeout=timedelta(minutes=10),
                    heartbeat_timeout=CHUNK_HEARTBEAT_TIMEOUT,
                    retry_policy=CHUNK_RETRY,
                )
                chunks += 1
                self.advance(
                    done.checkpoint.done - checkpoint.done, done.elapsed_s, done.checkpoint.done
                )
                checkpoint = done.checkpoint
                if done.exhausted:
                    return await self.finish(
                        "completed", _summary(checkpoint, planned, missing=done.missing)
                    )
                self.record_in_background()
        except asyncio.CancelledError:
            # Cancelled through Temporal: record how far it got, then end as cancelled.
            await self.finish("cancelled", {"done": self.progress.done}, shielded=True)
            raise
        except ActivityError as err:
            message = str(err.cause.message if isinstance(err.cause, ApplicationError) else err)
            await self.finish("failed", {"done": self.progress.done}, error=message)
            raise ApplicationError(message, non_retryable=True) from err

    async def continue_with(
        self,
        context: OperationContext,
        request: ReplayRequest,
        carry: ReplayCarry,
        planned: ReplayPlanned,
        checkpoint: ReplayCheckpoint,
    ) -> None:
        """Continues as new once the row is written (continue_as_new raises). The pause and
        cancel flags are read last, so a signal that arrived meanwhile is carried over."""
        await self.record()
        carried = carry.model_copy(
            update={
                "planned": planned,
                "checkpoint": checkpoint,
                "paused": self.paused,
                "stop_requested": self.stop_requested,
                "runs": carry.runs + 1,
            }
        )
        workflow.continue_as_new(ReplayInput(context=context, request=request, carry=carried))


def _summary(
    cp: ReplayCheckpoint,
    planned: ReplayPlanned,
    stopped: bool = False,
    missing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "replayed": cp.done,
        "bytes": cp.bytes,
        "failed": cp.failed,
        "failures": cp.failures,
        "first_seq": planned.plan.first_seq,
        "last_seq": planned.plan.last_seq,
        "planned": planned.plan.estimated_total,
        "missing": missing,
        "next_seq": cp.next_seq,
        "stopped_early": stopped,
        "destination_seqs": cp.dest_seqs,
    }
