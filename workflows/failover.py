"""FailoverWorkflow: a DR pair's (or a primary's streams') failover, or a drill, step by step.

Steps (``progress.steps``, each audited as ``failover.<step>`` when it ends):

1. **measure** again (an approval can take hours): refused with the reasons, nothing done;
2. **approve**: how it got past the change gate (policy, or its approved change request);
3. **fence** the primary (planned), or take a drill's fence point and make its copies; an
   emergency does not fence (the primary is unreachable);
4. **catch_up** until every mirror holds the fence point (RPO 0), within ``fence_timeout_s``: on
   timeout a planned failover unfences and aborts; a drill reports what the copy lacked;
5. **promote** the mirrors (a drill: its copies, under an inert subject prefix);
6. **switch** the active side (``jsc_dr_active`` on both clusters, the pair's row) and announce it
   through the organization's ``dr.failover`` webhooks;
7. **verify** with a canary on each promoted stream;
8. **cleanup**: the old primary fenced (an emergency: once it is reachable again, waited for),
   its mirror consumers deleted, the bucket on it written; a drill deletes its copies;
9. **reverse** (if asked): the old primary becomes a mirror of the new one, its data kept aside.

A **reverse alone** (``plan.reverse_only``: the pair failed over without ``reverse`` earlier, and
is active on the target) runs measure, approve and reverse only (:meth:`reverse_alone`).

Any failure before the promotion rolls back (a **rollback** step: unfence); after it, a
promotion cannot be undone, and the result says the state of each stream on each side. Pause and
cancel (the operation's signals) are honoured before the fence; cancel also during the catch-up
(it rolls back) and while the cleanup waits for an unreachable old primary (it stops waiting).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.changes.models import DrWebhookDelivery
    from core.operations import OperationUpdate, Progress
    from core.replication.plan import (
        REVERSE_ONLY_STEPS,
        STEP_NAMES,
        FailoverPlan,
        FailoverTask,
        FencePoint,
        Measured,
        Step,
        StepStatus,
    )
    from workflows.inputs import FailoverInput, from_args
    from workflows.operation_base import RECORD_RETRY, OperationWorkflowBase

NON_RETRYABLE = ["Refused", "ClusterNotFound"]


def _retry(first_s: float, max_s: float, attempts: int) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=first_s),
        backoff_coefficient=2,
        maximum_interval=timedelta(seconds=max_s),
        maximum_attempts=attempts,
        non_retryable_error_types=NON_RETRYABLE,
    )


QUICK = _retry(0.2, 3, 15)  # measure, fence, promote, verify: ~30 s of trying
SWITCH = _retry(0.2, 5, 30)
FOREVER = _retry(1, 30, 0)  # waits for a cluster: heartbeats tell a dead worker apart
WEBHOOK = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=5,
)


class StepFailed(Exception):
    pass


def _message(err: BaseException) -> str:
    if isinstance(err, ActivityError) and isinstance(err.cause, ApplicationError):
        return err.cause.message
    return str(err.cause if isinstance(err, ActivityError) and err.cause else err)


def _seconds(start: str | datetime, end: str | datetime) -> float:
    a = start if isinstance(start, datetime) else datetime.fromisoformat(start)
    b = end if isinstance(end, datetime) else datetime.fromisoformat(end)
    return round((b - a).total_seconds(), 3)


@workflow.defn(name="FailoverWorkflow")
class FailoverWorkflow(OperationWorkflowBase):
    @workflow.init
    def __init__(self, *args: Any) -> None:
        super().__init__()
        self.steps: list[Step] = [Step(name=name) for name in STEP_NAMES]
        self.summary: dict[str, Any] = {}
        self.streams: dict[str, dict[str, Any]] = {}
        self.promoted: list[str] = []
        self.rolled_back = False
        self.announcing: asyncio.Task[dict[str, Any]] | None = None

    @workflow.run
    async def run(self, *args: Any) -> dict[str, Any]:
        """One ``FailoverInput``; a run a release started has ``[context, plan]``. The
        approval workflow passes the change's config as a plain dict: validated here."""
        data = from_args(FailoverInput, args, ("context", "plan"))
        self.context = data.context
        plan = FailoverPlan.model_validate(data.plan)
        request = plan.request
        self.summary = {
            "mode": request.mode,
            "drill": request.drill,
            "reverse": request.reverse,
            "pair_id": plan.pair_id,
            "pair_name": plan.pair_name,
            "target_cluster_id": plan.target.cluster_id,
            "rto_s": None,
            "data_loss_messages": None,
            "rolled_back": False,
            "active_cluster_id": plan.primary.cluster_id,
        }
        self.streams = {
            s.stream: {
                "stream": s.stream,
                "mirror_stream": s.mirror_stream,
                "promoted": False,
                "lost": None,
            }
            for s in plan.streams
        }
        if plan.reverse_only:  # a path of its own: no history before it has this input
            self.steps = [Step(name=name) for name in REVERSE_ONLY_STEPS]
            self.summary.update(
                reverse_only=True, active_cluster_id=plan.target.cluster_id, data_loss_messages=0
            )
            self.streams = {
                s.stream: {"stream": s.stream, "mirror_stream": s.mirror_stream, "lost": 0}
                for s in plan.streams
            }
        self._sync()
        task = FailoverTask(
            operation_id=self.context.operation_id, org_id=self.context.org_id, plan=plan
        )
        await self.set_status("running")
        try:
            if plan.reverse_only:
                return await self.reverse_alone(task)
            return await self.drive(task)
        except StepFailed as exc:  # a step without a path of its own: end, saying where
            return await self.close("failed", task, str(exc))
        except asyncio.CancelledError:
            # Cancelled through Temporal itself: undo what can be, say where it stopped.
            if not self.promoted and not request.drill and self._did("fence"):
                await asyncio.shield(self.rollback(task, "cancelled"))
            await self.close("cancelled", task, "cancelled", shielded=True)
            raise

    # --- the steps --------------------------------------------------------------------------------
    async def drive(self, task: FailoverTask) -> dict[str, Any]:
        request = task.plan.request
        task, ended = await self.measure_and_approve(task)
        if ended is not None:
            return ended
        try:
            if request.drill:
                points = await self.run_step(
                    "fence",
                    "drill_prepare",
                    task,
                    list[FencePoint],
                    QUICK,
                    detail=lambda p: {
                        "fenced": False,
                        "copies": [x.mirror_stream for x in p],
                        "fence_point": {x.stream: x.last_seq for x in p},
                    },
                )
            elif request.mode == "planned":
                points = await self.run_step(
                    "fence",
                    "failover_fence",
                    task,
                    list[FencePoint],
                    QUICK,
                    detail=lambda p: {
                        "fenced": [x.stream for x in p],
                        "fence_point": {x.stream: x.last_seq for x in p},
                    },
                )
            else:
                points = []
                self.end(
                    "fence",
                    "skipped",
                    "emergency: the primary is not fenced (it is "
                    "fenced in the cleanup step, as soon as it can be reached)",
                    begin=True,
                )
        except StepFailed as exc:
            return await self.abort(task, f"could not fence: {exc}")
        task = task.model_copy(update={"points": points})
        for p in points:
            self.streams[p.stream].update(fence_seq=p.last_seq)

        if points:
            caught = await self.catch_up(task)
            if caught is None:
                return await self.abort(task, "cancelled during the catch-up", cancelled=True)
            if not caught["caught_up"] and not request.drill:
                return await self.abort(task, caught.get("reason") or "did not catch up")
        else:
            self.end("catch_up", "skipped", "emergency: nothing to wait for", begin=True)

        try:
            promoted = await self.run_step(
                "promote",
                "failover_promote",
                task,
                dict,
                QUICK,
                detail=lambda r: {x["mirror_stream"]: x["subjects"] for x in r["streams"]},
            )
        except StepFailed as exc:
            self.promoted = [
                s["mirror_stream"]
                for s in await self.states(task)
                if s["standby_state"] in ("active", "fenced")
            ]
            return await self.abort(task, f"could not promote: {exc}")
        self.note_promoted(promoted, points)
        task = task.model_copy(update={"promoted": self.promoted})

        if request.drill:
            self.end("switch", "skipped", "drill: the active side does not change", begin=True)
        else:
            try:
                switched = await self.run_step(
                    "switch",
                    "failover_switch",
                    task,
                    dict,
                    SWITCH,
                    detail=lambda r: {"epoch": r["epoch"], "written": r["written"]},
                )
            except StepFailed as exc:
                return await self.close(
                    "failed", task, f"promoted, but the active side could not be announced: {exc}"
                )
            self.summary["active_cluster_id"] = task.plan.target.cluster_id
            task = task.model_copy(update={"announcement": switched["active_side"]})
            self.announcing = self.announce(task, switched["active_side"])

        try:
            verified = await self.run_step(
                "verify",
                "failover_verify",
                task,
                dict,
                QUICK,
                detail=lambda r: {x["stream"]: x["seq"] for x in r["streams"]},
            )
        except StepFailed as exc:
            if request.drill:
                return await self.abort(task, f"the canary failed: {exc}")
            return await self.close("failed", task, f"promoted, but the canary failed: {exc}")
        self.note_verified(verified, points)

        if request.drill:
            try:
                await self.run_step(
                    "cleanup", "drill_cleanup", task, dict, QUICK, detail=lambda r: r
                )
            except StepFailed as exc:
                return await self.close(
                    "failed", task, f"the drill's copies could not all be deleted: {exc}"
                )
            self.end("reverse", "skipped", "drill", begin=True)
            return await self.close("completed", task, None)
        assert self.announcing is not None  # the switch step (every run but a drill) started it
        self.summary["announced"] = await self.announcing
        if not await self.cleanup(task):
            return await self.close("completed", task, None)
        if request.reverse:
            try:
                await self.run_step(
                    "reverse",
                    "failover_reverse",
                    task,
                    dict,
                    FOREVER,
                    timeout=timedelta(days=1),
                    heartbeat=timedelta(seconds=60),
                    detail=lambda r: r["streams"],
                )
            except StepFailed as exc:
                return await self.close(
                    "failed", task, f"failed over, but the reverse failed: {exc}"
                )
        else:
            self.end("reverse", "skipped", "not asked for", begin=True)
        return await self.close("completed", task, None)

    async def measure_and_approve(
        self, task: FailoverTask
    ) -> tuple[FailoverTask, dict[str, Any] | None]:
        """The first steps of every failover: measure (a refusal ends it), approval recorded, a
        last chance to pause or cancel. The task with its measurement, and the operation's end
        when it ended here."""
        try:
            measured = await self.run_step("measure", "failover_measure", task, Measured, QUICK)
        except StepFailed as exc:
            return task, await self.close("failed", task, f"could not measure: {exc}")
        self.note_measure(measured)
        if measured.refusals:
            self.end("measure", "failed", {"refusals": measured.refusals})
            return task, await self.close(
                "failed", task, "refused: " + "; ".join(measured.refusals)
            )
        task = task.model_copy(update={"plan": task.plan.model_copy(update={"measured": measured})})
        self.end(
            "approve",
            "done",
            "auto-approved by policy"
            if task.plan.approval == "auto"
            else "approved through its change request",
            begin=True,
        )
        await self.between_chunks()  # the last point where pausing holds nothing up
        if self.stop_requested:
            return task, await self.close("cancelled", task, None)
        return task, None

    async def reverse_alone(self, task: FailoverTask) -> dict[str, Any]:
        """Measure (the old primary reachable, something to reverse), approve, reverse."""
        task, ended = await self.measure_and_approve(task)
        if ended is not None:
            return ended
        try:
            done = await self.run_step(
                "reverse",
                "failover_reverse",
                task,
                dict,
                FOREVER,
                timeout=timedelta(days=1),
                heartbeat=timedelta(seconds=60),
                detail=lambda r: r["streams"],
            )
        except StepFailed as exc:
            return await self.close("failed", task, f"the reverse failed: {exc}")
        for entry in done["streams"]:
            self.streams[entry["stream"]].update(
                {k: entry[k] for k in ("kept_aside", "kept_messages", "mirror_id") if k in entry}
            )
        self.summary["primary_cluster_id"] = task.plan.target.cluster_id
        self.summary["standby_cluster_id"] = task.plan.primary.cluster_id
        return await self.close("completed", task, None)

    async def catch_up(self, task: FailoverTask) -> dict[str, Any] | None:
        """The catch-up, cancellable: None when cancelled."""
        deadline = workflow.now() + timedelta(seconds=task.plan.request.fence_timeout_s)
        task = task.model_copy(update={"deadline": deadline.isoformat()})
        self.begin("catch_up")
        handle = workflow.start_activity(
            "failover_catch_up",
            task,
            result_type=dict,
            start_to_close_timeout=timedelta(seconds=task.plan.request.fence_timeout_s + 60),
            schedule_to_close_timeout=timedelta(seconds=task.plan.request.fence_timeout_s + 300),
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=_retry(0.2, 2, 0),
        )
        stop = asyncio.ensure_future(workflow.wait_condition(lambda: self.stop_requested))
        await workflow.wait([handle, stop], return_when=asyncio.FIRST_COMPLETED)
        if not handle.done():
            handle.cancel()
            self.end("catch_up", "failed", "cancelled")
            return None
        stop.cancel()
        try:
            caught: dict[str, Any] = handle.result()
        except ActivityError as err:
            self.end("catch_up", "failed", _message(err))
            return {"caught_up": False, "reason": _message(err), "streams": []}
        for s in caught["streams"]:
            self.streams[s["stream"]].update(
                standby_last_seq=s["standby_last_seq"], lost=s["missing"]
            )
        self.end(
            "catch_up",
            "done" if caught["caught_up"] else "failed",
            {
                "caught_up": caught["caught_up"],
                "waited_s": caught["waited_s"],
                "reason": caught.get("reason"),
            },
        )
        return caught

    async def cleanup(self, task: FailoverTask) -> bool:
        """The old primary fenced and told; False when cancelled while waiting for it."""
        self.begin("cleanup")
        handle = workflow.start_activity(
            "failover_cleanup",
            task,
            result_type=dict,
            start_to_close_timeout=timedelta(days=7),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=FOREVER,
        )
        stop = asyncio.ensure_future(workflow.wait_condition(lambda: self.stop_requested))
        await workflow.wait([handle, stop], return_when=asyncio.FIRST_COMPLETED)
        if not handle.done():
            handle.cancel()
            self.end(
                "cleanup",
                "skipped",
                "cancelled while waiting for the old primary: it is "
                "not fenced, and clients that still write there are stored there",
            )
            self.end("reverse", "skipped", "cancelled", begin=True)
            return False
        stop.cancel()
        try:
            done = handle.result()
        except ActivityError as err:
            self.end("cleanup", "failed", _message(err))
            return False
        found = []
        for entry in done["streams"]:
            row = self.streams[entry["stream"]]
            if "old_last_seq" in entry and row.get("promoted_last_seq") is not None:
                # Stored on the old primary after the mirror's last copy (an emergency's loss,
                # now known: those messages stay there, fenced, and are kept aside by reverse).
                row["found_on_old_primary"] = max(
                    entry["old_last_seq"] - row["promoted_last_seq"], 0
                )
                found.append(row["found_on_old_primary"])
        if found and len(found) == len(done["streams"]):
            self.summary["found_on_old_primary"] = sum(found)
        self.end("cleanup", "done", done)
        return True

    async def abort(
        self, task: FailoverTask, reason: str, cancelled: bool = False
    ) -> dict[str, Any]:
        """Roll back what was done before the promotion, and end."""
        await self.rollback(task, reason)
        return await self.close(
            "cancelled" if cancelled else "failed", task, None if cancelled else reason
        )

    async def rollback(self, task: FailoverTask, reason: str) -> None:
        """Undo what was done before the promotion: the fence (only this operation's, and not
        of a stream whose mirror was promoted), a drill's copies. An emergency fenced nothing."""
        drilling = task.plan.request.drill
        if not drilling and task.plan.request.mode == "emergency":
            return
        task = task.model_copy(update={"promoted": self.promoted})
        self.steps.insert(
            next(i for i, s in enumerate(self.steps) if s.status == "pending")
            if any(s.status == "pending" for s in self.steps)
            else len(self.steps),
            Step(name="rollback"),
        )
        try:
            done = await self.run_step(
                "rollback",
                "drill_cleanup" if drilling else "failover_rollback",
                task,
                dict,
                _retry(1, 10, 0),
                schedule=timedelta(minutes=30),
                detail=lambda r: {**r, "because": reason},
            )
            self.rolled_back = True
        except StepFailed as exc:
            self.summary["rollback_error"] = f"{exc}: " + (
                "delete the drill's copies by hand"
                if drilling
                else "unfence the primary's streams by hand (their own subjects are in their "
                "metadata, jsc.fenced_subjects)"
            )
            return
        for entry in done.get("streams", []):
            if entry.get("unfenced"):
                self.streams[entry["stream"]]["unfenced"] = True

    # --- helpers ----------------------------------------------------------------------------------
    async def run_step(
        self,
        name: str,
        activity: str,
        task: FailoverTask,
        result_type: Any,
        retry: RetryPolicy,
        *,
        timeout: timedelta = timedelta(minutes=2),
        heartbeat: timedelta | None = None,
        schedule: timedelta | None = None,
        detail: Callable[[Any], Any] | None = None,
    ) -> Any:
        self.begin(name)
        try:
            result = await workflow.execute_activity(
                activity,
                task,
                result_type=result_type,
                start_to_close_timeout=timeout,
                schedule_to_close_timeout=schedule,
                heartbeat_timeout=heartbeat,
                retry_policy=retry,
            )
        except ActivityError as err:
            self.end(name, "failed", _message(err))
            raise StepFailed(_message(err)) from err
        shown = detail(result) if detail else None
        if name != "measure":
            self.end(name, "done", shown)
        return result

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def _did(self, name: str) -> bool:
        """Whether the step ran (a reverse alone has no fence, catch_up, promote, ...)."""
        return any(s.name == name and s.status in ("done", "failed") for s in self.steps)

    def begin(self, name: str) -> None:
        self.step(name).status, self.step(name).started_at = "running", workflow.now().isoformat()
        self._sync()
        self.queue_record()

    def end(self, name: str, status: StepStatus, detail: Any = None, begin: bool = False) -> None:
        step = self.step(name)
        now = workflow.now().isoformat()
        if begin or step.started_at is None:
            step.started_at = now
        step.status, step.finished_at, step.detail = status, now, detail
        self._sync()
        self.queue_record(
            audit=f"failover.{name}",
            audit_key=status,
            details={"step": step.model_dump(mode="json")},
        )

    def queue_record(
        self,
        audit: str | None = None,
        audit_key: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Write the row (and an audit event) while the next step runs; each write waits for the
        one queued before it, and ``record`` (the status changes, the end) waits for them all.
        Each queued write holds its predecessor: a write never waits for itself."""
        previous = self._background_record

        async def write() -> None:
            if previous is not None:
                await previous
            update = OperationUpdate(
                context=self.context,
                status=self.status,
                progress=self.progress,
                result=self.result,
                error=self.error,
                audit_action=audit,
                audit_key=audit_key,
                audit_details=details,
            )
            await workflow.execute_activity(
                "record_operation",
                update,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RECORD_RETRY,
            )

        self._background_record = asyncio.create_task(write())

    def _sync(self) -> dict[str, Any]:
        """Progress and result from the steps; the result is returned too."""
        finished = sum(s.status in ("done", "failed", "skipped") for s in self.steps)
        self.progress = Progress(
            done=finished,
            total=len(self.steps),
            unit="steps",
            steps=[s.model_dump(mode="json") for s in self.steps],
        )
        self.result = result = self.current_result()
        return result

    def current_result(self) -> dict[str, Any]:
        return {
            **self.summary,
            "rolled_back": self.rolled_back,
            "streams": list(self.streams.values()),
            "steps": [s.model_dump(mode="json") for s in self.steps],
        }

    async def states(self, task: FailoverTask) -> list[dict[str, Any]]:
        try:
            states: list[dict[str, Any]] = await workflow.execute_activity(
                "failover_state",
                task,
                result_type=list[dict[str, Any]],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=_retry(0.5, 2, 3),
            )
        except ActivityError:
            return []
        return states

    def note_measure(self, m: Measured) -> None:
        for s in m.streams:
            self.streams[s.stream].update(
                primary_last_seq=s.primary_last_seq,
                standby_last_seq=s.standby_last_seq,
                lag_messages=s.lag_messages,
                lag_exact=s.lag_exact,
            )
        self.summary.update(
            data_at_risk_messages=m.data_at_risk_messages,
            data_at_risk_exact=m.data_at_risk_exact,
            warnings=m.warnings,
        )
        emergency = self.summary["mode"] == "emergency" and not self.summary["drill"]
        self.step("measure").detail = {
            "primary_reachable": m.primary_reachable,
            "data_at_risk_messages": m.data_at_risk_messages,
            "exact": m.data_at_risk_exact,
            "warnings": m.warnings,
        }
        if emergency:
            self.summary["data_loss_messages"] = m.data_at_risk_messages
            for s in m.streams:
                self.streams[s.stream]["lost"] = s.lag_messages
        if not m.refusals:
            self.end("measure", "done", self.step("measure").detail)

    def note_promoted(self, promoted: dict[str, Any], points: list[FencePoint]) -> None:
        for entry in promoted["streams"]:
            row = self.streams[entry["stream"]]
            row.update(
                promoted=True,
                promoted_last_seq=entry.get("last_seq"),
                consumer_deleted=entry.get("consumer_deleted"),
            )
            if self.summary["drill"]:
                row["copy"] = entry["mirror_stream"]
            self.promoted.append(entry["mirror_stream"])
        if points:  # what the promoted side lacked of the fence point: planned 0, a drill's RPO
            lost = 0
            for p in points:
                row = self.streams[p.stream]
                row["lost"] = max(p.last_seq - (row.get("promoted_last_seq") or 0), 0)
                lost += row["lost"]
            self.summary["data_loss_messages"] = lost

    def note_verified(self, verified: dict[str, Any], points: list[FencePoint]) -> None:
        by_name = {v["stream"]: v for v in verified["streams"]}
        for row in self.streams.values():
            name = row.get("copy") or row["mirror_stream"]
            if name in by_name:
                row["canary_seq"] = by_name[name]["seq"]
        start = min((p.at for p in points), default=None) if points else None
        began = start or workflow.info().start_time
        self.summary["rto_s"] = _seconds(began, verified["accepted_at"])
        self.summary["rto_from"] = "fence point" if start else "operation start"

    def announce(self, task: FailoverTask, side: dict[str, Any]) -> asyncio.Task[dict[str, Any]]:
        """Tell the ``dr.failover`` webhooks, in the background; what they answered is awaited
        before the end (a webhook never holds the failover up)."""

        async def run() -> dict[str, Any]:
            try:
                hooks = await workflow.execute_activity(
                    "dr_webhooks",
                    task.org_id,
                    result_type=list[str],
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=WEBHOOK,
                )
            except ActivityError as err:
                return {"error": _message(err)}
            body = {
                **side,
                "operation_id": task.operation_id,
                "mode": task.plan.request.mode,
                "previous_cluster_id": task.plan.primary.cluster_id,
                "active_cluster_name": task.plan.target.name,
                "data_loss_messages": self.summary.get("data_loss_messages"),
            }
            calls = [
                workflow.execute_activity(
                    "deliver_dr_webhook",
                    DrWebhookDelivery(
                        webhook_id=h,
                        org_id=task.org_id,
                        operation_id=task.operation_id,
                        announcement=body,
                    ),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=WEBHOOK,
                )
                for h in hooks
            ]
            answers = await asyncio.gather(*calls, return_exceptions=True)
            return {
                h: ("delivered" if not isinstance(a, BaseException) else _message(a))
                for h, a in zip(hooks, answers, strict=False)
            }

        return asyncio.create_task(run())

    async def close(
        self, status: str, task: FailoverTask, error: str | None, shielded: bool = False
    ) -> dict[str, Any]:
        """Skip the steps not reached, read each stream's state on each side, keep the pair's
        record, and finish."""
        for step in self.steps:
            if step.status == "pending":
                step.status = "skipped"
            elif step.status == "running":
                step.status, step.finished_at = "failed", workflow.now().isoformat()
        if self.announcing is not None and "announced" not in self.summary:
            self.summary["announced"] = await self.announcing
        # ("reverse" without the others: a reverse alone, which keeps no failover record.)
        did_something = any(self._did(name) for name in ("fence", "catch_up", "promote", "reverse"))
        if did_something or self.promoted:
            for state in await self.states(task):
                row = self.streams[state["stream"]]
                row.update({k: v for k, v in state.items() if k.endswith(("_state", "_last_seq"))})
            if task.plan.pair_id and not task.plan.reverse_only:
                await self.keep_record(task, status)
        result = self._sync()
        return await self.finish(status, result, error=error, shielded=shielded)

    async def keep_record(self, task: FailoverTask, status: str) -> None:
        drill = task.plan.request.drill
        record = {
            "operation_id": task.operation_id,
            "at": workflow.now().isoformat(),
            "rto_s": self.summary.get("rto_s"),
            "ok": status == "completed"
            and (not drill or self.summary.get("data_loss_messages") == 0),
        }
        if drill:
            record["rpo_messages"] = self.summary.get("data_loss_messages")
        else:
            record.update(
                mode=task.plan.request.mode,
                rolled_back=self.rolled_back,
                data_loss_messages=self.summary.get("data_loss_messages"),
                target_cluster_id=task.plan.target.cluster_id,
                reverse=task.plan.request.reverse,
            )
        try:
            await workflow.execute_activity(
                "failover_record",
                task.model_copy(update={"record": record}),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=_retry(1, 5, 10),
            )
        except ActivityError as err:
            self.summary["record_error"] = _message(err)
