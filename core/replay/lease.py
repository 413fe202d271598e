"""One writer per replay: a lease in Redis that an attempt must hold while it publishes.

Temporal retries a chunk when its heartbeats stop, which is usually because the worker died, but
can be a live attempt that merely stalled. Without a fence, that attempt could go on publishing
while the retry checks the destination, and a message could be stored twice once the duplicate
window has passed. So an attempt publishes only while it holds the lease (renewed every
``RENEW_EVERY_S``, expiring after ``TTL_S``), and stops ``MARGIN_S`` before the lease could have
expired as seen from Redis; the next attempt takes the lease only once it is free or expired. A
dead worker's lease expires before Temporal notices the missing heartbeats, so the wait costs a
crashed replay nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import LockError

TTL_S = 2.5
RENEW_EVERY_S = 0.4
MARGIN_S = 1.0


class LeaseLost(Exception):
    """This attempt may no longer publish (its lease lapsed or another attempt holds it)."""


class WriteLease:
    def __init__(self, redis: Redis, operation_id: str):
        self.lock = redis.lock(
            f"replay:{operation_id}:writer",
            timeout=TTL_S,
            sleep=0.1,
            thread_local=False,
            raise_on_release_error=False,
        )
        self.valid_until = 0.0
        self._keeper: asyncio.Task[None] | None = None

    async def acquire(self, waiting: Callable[[], None]) -> None:
        """Takes the lease, calling ``waiting`` (a heartbeat) while another attempt holds it,
        then keeps renewing it in the background."""
        while True:
            asked = time.monotonic()
            if await self.lock.acquire(blocking=False):
                self.valid_until = asked + TTL_S - MARGIN_S
                break
            waiting()
            await asyncio.sleep(0.2)
        self._keeper = asyncio.create_task(self._keep())

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY_S)
            asked = time.monotonic()
            try:
                await self.lock.reacquire()
            except LockError:  # taken over: this attempt must stop writing
                self.valid_until = 0.0
                return
            except Exception:  # Redis unreachable: the lease runs out on its own
                continue
            self.valid_until = asked + TTL_S - MARGIN_S

    def check(self) -> None:
        if time.monotonic() >= self.valid_until:
            raise LeaseLost("this attempt's write lease lapsed; a retry takes over")

    async def release(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
        try:
            await self.lock.release()
        except Exception:  # expired, or Redis unreachable: it expires on its own
            pass
