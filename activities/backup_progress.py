"""Progress of the backups' data activities as Temporal heartbeats: ``{"done", "total"}`` in bytes
over the whole operation (``done_before`` plus this step's), after every chunk and every
``HEARTBEAT_S`` seconds meanwhile (the workflows' heartbeat timeout must be well above it)."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import activity

HEARTBEAT_S = 2.0


def heartbeat(details: dict[str, Any]) -> None:
    try:
        activity.heartbeat(details)
    except RuntimeError:  # called outside an activity (tests calling the method directly)
        pass


class Progress:
    """``{"done", "total"}`` heartbeats: after every chunk and every ``HEARTBEAT_S`` meanwhile."""

    def __init__(self, done_before: int, total: int):
        self.done_before, self.total, self.done = done_before, total, 0
        self._task: asyncio.Task[None] | None = None

    def set(self, done: int) -> None:
        self.done = done
        self.beat()

    def beat(self) -> None:
        done = self.done_before + self.done
        heartbeat({"done": done, "total": max(self.total, done)})

    async def __aenter__(self) -> Progress:
        async def loop() -> None:
            while True:
                self.beat()
                await asyncio.sleep(HEARTBEAT_S)

        self._task = asyncio.create_task(loop())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.beat()
