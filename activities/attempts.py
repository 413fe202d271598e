"""What a retried activity's failures mean: a refusal no retry can fix ends the step at once (a
non-retryable ``ApplicationError``); any other failure is raised for Temporal to retry, and with
Redis the failures of one step in a row are counted, so that after ``MAX_FAILED_ATTEMPTS`` the
step fails for good with the last error (an error of ``failed_type``). A success resets the count.
Temporal retries these activities without limit because a worker's death is no reason to give
up; this is the limit for errors of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from redis.asyncio import Redis
from temporalio.exceptions import ApplicationError

from core.jetstream.api import JetStreamError

MAX_FAILED_ATTEMPTS = 30
FAILURES_TTL_S = 24 * 3600
T = TypeVar("T")
# An exception class refused at once, with the error type to raise (None: the class's own name).
Refusals = Mapping[type[BaseException], str | None]


def refused(message: str, kind: str = "Refused") -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def reason_of(exc: BaseException) -> str:
    return exc.description if isinstance(exc, JetStreamError) else (str(exc) or type(exc).__name__)


async def counted(
    redis: Redis | None,
    key: str,
    call: Callable[[], Awaitable[T]],
    *,
    refusals: Refusals,
    failed_type: str,
    step: str = "",
) -> T:
    """Run ``call`` under the rules above; ``key`` names the step's count in Redis, ``step``
    starts the final error's message."""
    try:
        result = await call()
    except (ApplicationError, asyncio.CancelledError):
        raise
    except Exception as exc:
        for kind, name in refusals.items():
            if isinstance(exc, kind):
                raise refused(str(exc), name or type(exc).__name__) from exc
        if redis is not None:
            failures = await redis.incr(key)
            await redis.expire(key, FAILURES_TTL_S)
            if failures >= MAX_FAILED_ATTEMPTS:
                prefix = f"{step} failed" if step else "failed"
                raise refused(
                    f"{prefix} {failures} times in a row; last: {reason_of(exc)}", failed_type
                ) from exc
        raise
    if redis is not None:
        await redis.delete(key)
    return result
