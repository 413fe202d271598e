"""Waiting on a condition with a deadline (never on a sleep or a speed): poll until the check
returns something truthy (returned), or fail saying what was awaited and what was seen last."""

from __future__ import annotations

import asyncio
import time


def wait_until(check, what: str, timeout: float = 120.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, (
            f"gave up waiting {timeout:g}s for {what} (last: {found!r})"
        )
        time.sleep(every)


async def wait_until_async(check, what: str, timeout: float = 120.0, every: float = 0.2):
    """The same with an awaitable check, sleeping without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, (
            f"gave up waiting {timeout:g}s for {what} (last: {found!r})"
        )
        await asyncio.sleep(every)
