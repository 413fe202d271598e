"""MirrorWorkflow: create every mirror of a job, wait until each has caught up, and report how
long that took and how much it copied.

1. ``mirror_prepare`` checks the whole job again (the approval of a production mirror may come
   hours after the request) and registers the console's rows; a refusal fails the operation
   before anything is created.
2. ``mirror_create`` makes each mirror (source consumer, then mirror stream), ten at a time.
3. ``mirror_wait`` measures the mirrors until they have caught up, in slices of a few minutes
   that heartbeat the progress (``done`` copied of ``total`` to copy, in messages).

Pause and resume (the operation's signals) pause and resume replication itself: the mirrors'
source consumers (``mirror_control``), not only the waiting. Cancel stops waiting and leaves the
mirrors in place, as they are; the result says which. Activities are retried without limit (a
worker's death is no reason to give up); an error of their own fails them after a bounded number
of attempts (``activities.mirror``), and the operation with them.

Started by the API (``POST /api/v1/operations/mirror``, a DR pair's missing mirrors) with a
``MirrorJob``, or by the approval workflow with the approved change's config as a plain dict:
both are validated here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from core.operations import Progress
    from core.replication.models import MirrorJob
    from core.replication.steps import (
        ControlInput,
        CreateInput,
        MarkInput,
        Measurement,
        MirrorPlan,
        MirrorRef,
        Prepared,
        PrepareInput,
        WaitInput,
        WaitResult,
    )
    from workflows.inputs import MirrorInput, from_args
    from workflows.operation_base import OperationWorkflowBase

NON_RETRYABLE = ["Refused", "NotFound", "ClusterNotFound", "MirrorFailed"]
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
STEP_TIMEOUT = timedelta(minutes=2)
WAIT_SLICE_S = 300
# A dead worker is noticed after this long without a heartbeat (sent at every measurement).
WAIT_HEARTBEAT = timedelta(seconds=10)
CREATE_BATCH = 10


class MirrorsNotCreated(Exception):
    """Some mirrors of the job could not be created (the message names them)."""


@workflow.defn(name="MirrorWorkflow")
class MirrorWorkflow(OperationWorkflowBase):
    def __init__(self) -> None:
        super().__init__()
        self.progress = Progress(unit="messages")
        self.job: MirrorJob | None = None
        self.refs: list[MirrorRef] = []
        self.readings: dict[str, Measurement] = {}
        self.consumers_paused = False

    @workflow.run
    async def run(self, *args: Any) -> dict[str, Any]:
        """One ``MirrorInput``; a run a release started has ``[context, job]``."""
        data = from_args(MirrorInput, args, ("context", "job"))
        self.context = context = data.context
        try:
            job = MirrorJob.model_validate(data.job)
        except ValidationError as exc:
            return await self.finish(
                "failed",
                {"mirrors": [], "caught_up_in_s": None},
                error=f"The mirror job is not valid: {exc}",
            )
        ids = list(job.mirror_ids[: len(job.mirrors)])
        ids += [str(workflow.uuid4()) for _ in range(len(job.mirrors) - len(ids))]
        self.job = job = job.model_copy(update={"mirror_ids": ids})
        try:
            await self.set_status("running")
            prepared = await workflow.execute_activity(
                "mirror_prepare",
                PrepareInput(context=context, job=job),
                result_type=Prepared,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
            )
            await self.create_all(prepared.plans)
            await self.wait_caught_up()
            if self.stop_requested and not self.all_settled():
                return await self.finish("cancelled", self.summary(stopped=True))
            return await self.finish("completed", self.summary())
        except asyncio.CancelledError:
            # Cancelled through Temporal: the mirrors stay; record how far they got.
            await self.finish("cancelled", self.summary(stopped=True), shielded=True)
            raise
        except (ActivityError, MirrorsNotCreated) as err:
            message = _message(err)
            await self.mark_not_created_failed()
            await self.finish("failed", self.summary(), error=message)
            raise ApplicationError(message, non_retryable=True) from err

    # --- steps ------------------------------------------------------------------------------------
    async def create_all(self, plans: list[MirrorPlan]) -> None:
        refused: list[str] = []
        for start in range(0, len(plans), CREATE_BATCH):
            batch = plans[start : start + CREATE_BATCH]
            results = await asyncio.gather(
                *(
                    workflow.execute_activity(
                        "mirror_create",
                        CreateInput(context=self.context, plan=plan),
                        result_type=MirrorRef,
                        start_to_close_timeout=STEP_TIMEOUT,
                        retry_policy=STEP_RETRY,
                    )
                    for plan in batch
                ),
                return_exceptions=True,
            )
            for plan, result in zip(batch, results, strict=False):
                if isinstance(result, MirrorRef):
                    self.refs.append(result)
                elif isinstance(result, ActivityError):
                    refused.append(f"{plan.request.target_stream}: {_message(result)}")
                elif isinstance(result, BaseException):
                    raise result
        if refused:
            raise MirrorsNotCreated(
                f"{len(refused)} of {len(plans)} mirrors could not be "
                "created: " + "; ".join(refused)
            )

    async def wait_caught_up(self) -> None:
        """Until every mirror has caught up (or was removed meanwhile), or cancel; pause and
        resume act on the consumers as soon as they are signalled."""
        while True:
            open_refs = [r for r in self.refs if not _settled(self.readings.get(r.mirror_id))]
            if not open_refs or self.stop_requested:
                return
            if self.paused != self.consumers_paused:
                action = "pause" if self.paused else "resume"
                await workflow.execute_activity(
                    "mirror_control",
                    ControlInput(context=self.context, mirrors=self.refs, action=action),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=STEP_RETRY,
                )
                self.consumers_paused = action == "pause"
                await self.set_status("paused" if self.consumers_paused else "running")
                continue
            if self.paused:
                await workflow.wait_condition(lambda: not self.paused or self.stop_requested)
                continue
            measuring = workflow.start_activity(
                "mirror_wait",
                WaitInput(
                    context=self.context,
                    mirrors=open_refs,
                    settled_done=self.settled_done(),
                    max_seconds=WAIT_SLICE_S,
                ),
                result_type=WaitResult,
                start_to_close_timeout=timedelta(seconds=WAIT_SLICE_S + 120),
                heartbeat_timeout=WAIT_HEARTBEAT,
                retry_policy=STEP_RETRY,
            )
            await workflow.wait_condition(self.done_or_signalled(measuring))
            if not measuring.done():  # a signal came: act on it now, measure again after
                measuring.cancel()
                try:
                    await measuring
                except ActivityError:
                    pass
                continue
            self.take(await measuring)
            self.record_in_background()

    def take(self, result: WaitResult) -> None:
        before = self.progress.done
        for found in result.measurements:
            if not _settled(self.readings.get(found.mirror_id)):
                self.readings[found.mirror_id] = found
        done = sum(m.copied for m in self.readings.values())
        total = done + sum(m.remaining for m in self.readings.values() if not _settled(m))
        self.progress = Progress(done=done, total=total, unit="messages")
        self.advance(done - before, result.elapsed_s, done)

    async def mark_not_created_failed(self) -> None:
        made = {r.mirror_id for r in self.refs}
        failed = [m for m in (self.job.mirror_ids if self.job else []) if m not in made]
        if failed:
            await workflow.execute_activity(
                "mirror_mark",
                MarkInput(
                    context=self.context, mirror_ids=failed, state="failed", only_from=["creating"]
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=STEP_RETRY,
            )

    # --- state ------------------------------------------------------------------------------------
    def done_or_signalled(self, step: asyncio.Future[Any]) -> Callable[[], bool]:
        """A wait condition: ``step`` has finished, or a signal asks to pause or stop."""
        return lambda: step.done() or self.paused or self.stop_requested

    def settled_done(self) -> int:
        return sum(m.copied for m in self.readings.values() if _settled(m))

    def all_settled(self) -> bool:
        return all(_settled(self.readings.get(r.mirror_id)) for r in self.refs)

    def summary(self, stopped: bool = False) -> dict[str, Any]:
        """The result: per mirror, whether and how fast it caught up and what it copied."""
        made = {r.mirror_id for r in self.refs}
        items: list[dict[str, Any]] = []
        job = self.job
        for request, mirror_id in zip(job.mirrors, job.mirror_ids, strict=False) if job else ():
            found = self.readings.get(mirror_id)
            caught_up = bool(found and found.caught_up)
            items.append(
                {
                    "mirror_id": mirror_id,
                    "source_cluster_id": str(request.source_cluster_id),
                    "source_stream": request.source_stream,
                    "target_cluster_id": str(request.target_cluster_id),
                    "target_stream": request.target_stream,
                    "created": mirror_id in made,
                    "caught_up": caught_up,
                    "caught_up_in_s": found.caught_up_in_s if found and caught_up else None,
                    "messages_copied": found.copied if found else 0,
                    "bytes_copied": found.bytes if found else 0,
                    "removed_meanwhile": bool(found and found.gone),
                }
            )
        times = [i["caught_up_in_s"] for i in items if i["caught_up_in_s"] is not None]
        result: dict[str, Any] = {
            "mirrors": items,
            "caught_up_in_s": max(times) if times else None,
            "stopped_early": stopped,
            "paused": self.consumers_paused,
        }
        if stopped:
            result["left_in_place"] = [i["mirror_id"] for i in items if i["created"]]
        return result


def _settled(found: Measurement | None) -> bool:
    return found is not None and (found.caught_up or found.gone)


def _message(err: BaseException) -> str:
    if isinstance(err, ActivityError) and isinstance(err.cause, ApplicationError):
        return err.cause.message
    return str(err)
