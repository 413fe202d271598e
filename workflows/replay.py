"""ReplayWorkflow: copy a range of stored messages, chunk by chunk, exactly once.

It plans the range, then runs ``replay_chunk`` activities of a few seconds each until the range is
exhausted. Between chunks it honours pause, resume and cancel (signals), so the result always says
exactly how far it got; a Temporal-level cancellation is honoured too. The operation's row is kept
current after every chunk, and its start and end are audited.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.operations import OperationContext, Progress
    from core.replay.models import (DryRunResult, ReplayCheckpoint, ReplayChunk,
                                    ReplayChunkResult, ReplayPlanned, ReplayRequest, ReplayStart)
    from workflows.operation_base import OperationWorkflowBase

CHUNK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2,
                          maximum_interval=timedelta(seconds=10), maximum_attempts=20,
                          non_retryable_error_types=["DestinationRefused", "NotFound", "Refused",
                                                     "ClusterNotFound"])


@workflow.defn(name="ReplayWorkflow")
class ReplayWorkflow(OperationWorkflowBase):
    @workflow.run
    async def run(self, context: OperationContext, request: ReplayRequest) -> dict:
        self.context = context
        start = ReplayStart(context=context, request=request)
        await self.set_status("running")
        try:
            if request.dry_run:
                result = await workflow.execute_activity(
                    "replay_dry_run", start, result_type=DryRunResult,
                    start_to_close_timeout=timedelta(hours=1), heartbeat_timeout=timedelta(seconds=30),
                    retry_policy=CHUNK_RETRY)
                return await self.finish("completed", result.model_dump(mode="json"))
            planned = await workflow.execute_activity(
                "replay_plan", start, result_type=ReplayPlanned,
                start_to_close_timeout=timedelta(minutes=2), retry_policy=CHUNK_RETRY)
            self.progress = Progress(done=0, total=planned.plan.estimated_total)
            checkpoint = planned.checkpoint
            while True:
                await self.between_chunks()
                if self.stop_requested:
                    return await self.finish("cancelled", _summary(checkpoint, planned, stopped=True))
                chunk = ReplayChunk(operation_id=context.operation_id, org_id=context.org_id,
                                    request=request, plan=planned.plan, checkpoint=checkpoint)
                done: ReplayChunkResult = await workflow.execute_activity(
                    "replay_chunk", chunk, result_type=ReplayChunkResult,
                    start_to_close_timeout=timedelta(minutes=10),
                    heartbeat_timeout=timedelta(seconds=10), retry_policy=CHUNK_RETRY)
                self.advance(done.checkpoint.done - checkpoint.done, done.elapsed_s,
                             done.checkpoint.done)
                checkpoint = done.checkpoint
                if done.exhausted:
                    return await self.finish("completed", _summary(checkpoint, planned))
                self.record_in_background()
        except asyncio.CancelledError:
            # Cancelled through Temporal: record how far it got, then end as cancelled.
            await self.finish("cancelled", {"done": self.progress.done}, shielded=True)
            raise
        except ActivityError as err:
            message = str(err.cause.message if isinstance(err.cause, ApplicationError) else err)
            await self.finish("failed", {"done": self.progress.done}, error=message)
            raise ApplicationError(message, non_retryable=True) from err


def _summary(cp: ReplayCheckpoint, planned: ReplayPlanned, stopped: bool = False) -> dict:
    return {"replayed": cp.done, "bytes": cp.bytes, "failed": cp.failed, "failures": cp.failures,
            "first_seq": planned.plan.first_seq, "last_seq": planned.plan.last_seq,
            "next_seq": cp.next_seq, "stopped_early": stopped, "destination_seqs": cp.dest_seqs}

