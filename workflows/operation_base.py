"""What every operation workflow shares: status and progress (a query), pause / resume / cancel
(signals honoured between units of work), and keeping the operation's row current."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from core.operations import OperationContext, OperationUpdate, Progress

# Before this marker, ``record_in_background`` started a task that awaited itself and failed at
# once: no row was written in the background. Histories without it keep that behaviour.
BACKGROUND_RECORD_PATCH = "operation-background-record-chained"
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)


class OperationWorkflowBase:
    def __init__(self) -> None:
        self.context: OperationContext | None = None
        self.status = "pending"
        self.progress = Progress()
        self.paused = False
        self.stop_requested = False
        self.result: dict[str, Any] | None = None
        self.error: str | None = None
        self._background_record: asyncio.Task[None] | None = None

    # --- interactions -------------------------------------------------------------------------
    @workflow.signal
    def pause(self) -> None:
        self.paused = True

    @workflow.signal
    def resume(self) -> None:
        self.paused = False

    @workflow.signal
    def cancel(self) -> None:
        """Stop cleanly at the next boundary; the result says how far it got."""
        self.stop_requested = True

    @workflow.query
    def view(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "progress": self.progress.model_dump(),
            "result": self.result,
            "error": self.error,
        }

    # --- helpers for subclasses ---------------------------------------------------------------
    async def between_chunks(self) -> None:
        if self.paused and not self.stop_requested:
            await self.set_status("paused")
            await workflow.wait_condition(lambda: not self.paused or self.stop_requested)
            if not self.stop_requested:
                await self.set_status("running")

    def advance(self, delta: int, elapsed_s: float, done: int) -> None:
        rate = round(delta / elapsed_s, 1) if elapsed_s > 0 else None
        total = self.progress.total
        eta = (
            round((total - done) / rate, 1)
            if rate and total is not None and total >= done
            else None
        )
        self.progress = Progress(
            done=done, total=total, unit=self.progress.unit, rate_per_s=rate, eta_s=eta
        )

    async def set_status(self, status: str, audit: str | None = None) -> None:
        """The row is written first: a reader never sees a status the row does not have yet."""
        await self.record(status=status, audit=audit)
        self.status = status

    def record_in_background(self) -> None:
        """Write progress while the next unit of work runs; the next record waits for it, so
        rows are written in order."""
        if not workflow.patched(BACKGROUND_RECORD_PATCH):
            # As released: this task found itself as "the previous record" and failed awaiting
            # itself, writing nothing. Kept so those runs replay as they ran.
            self._background_record = asyncio.create_task(self.record())
            return
        previous, update = self._background_record, self._update()

        async def after_previous() -> None:
            if previous is not None:
                await previous
            await self._write(update)

        self._background_record = asyncio.create_task(after_previous())

    async def record(
        self,
        status: str | None = None,
        audit: str | None = None,
        shielded: bool = False,
        audit_key: str | None = None,
        audit_details: dict[str, Any] | None = None,
    ) -> None:
        previous, self._background_record = self._background_record, None
        if previous is not None:
            await previous
        update = self._update(status, audit, audit_key, audit_details)
        if shielded:  # after a cancellation, the record must still be written
            await asyncio.shield(self._write(update))
        else:
            await self._write(update)

    def _update(
        self,
        status: str | None = None,
        audit: str | None = None,
        audit_key: str | None = None,
        audit_details: dict[str, Any] | None = None,
    ) -> OperationUpdate:
        return OperationUpdate(
            context=self.context,
            status=status or self.status,
            progress=self.progress.model_copy(),
            result=self.result,
            error=self.error,
            audit_action=audit,
            audit_key=audit_key,
            audit_details=audit_details,
        )

    async def _write(self, update: OperationUpdate) -> None:
        await workflow.execute_activity(
            "record_operation",
            update,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RECORD_RETRY,
        )

    async def finish(
        self, status: str, result: dict[str, Any], error: str | None = None, shielded: bool = False
    ) -> dict[str, Any]:
        self.result, self.error = result, error
        if status == "completed" and self.progress.total is not None:
            self.progress.eta_s = 0
        await self.record(status=status, audit=f"operation.{status}", shielded=shielded)
        self.status = status
        return result
