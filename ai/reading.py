"""Bounded reads of the console's API as the caller, for the diagnosis: a few requests at a time,
at most ``budget`` in all (the caller's own rate limit counts them), and a refusal or an outage
becomes a line of ``errors`` (the API's own words and status) instead of an exception."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

CONCURRENCY = 4
BUDGET = 300


def segment(name: str) -> str:
    """A name as one path segment (a stream or consumer name may hold characters a URL
    reserves)."""
    return quote(name, safe="")


@dataclass
class Reply:
    status: int  # 0: not sent (budget used, connection failed)
    body: Any = None
    detail: str = ""
    skipped: bool = False  # not sent: the budget was used (said once, not per read)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Reader:
    api: httpx.AsyncClient
    budget: int = BUDGET
    concurrency: int = CONCURRENCY
    errors: list[str] = field(default_factory=list)
    sent: int = 0

    def __post_init__(self) -> None:
        self._gate = asyncio.Semaphore(self.concurrency)

    def note(self, line: str) -> None:
        if line not in self.errors:
            self.errors.append(line)

    def refused(self, what: str, reply: Reply) -> None:
        """Record why ``what`` could not be read."""
        if reply.skipped:
            return
        self.note(f"{what}: {reply.detail}" + (f" ({reply.status})" if reply.status else ""))

    async def get(self, path: str, **params: Any) -> Reply:
        if self.sent >= self.budget:
            self.note(
                f"the diagnosis stopped after {self.budget} reads of the API: narrow it to "
                "a cluster, a stream or a consumer to check the rest"
            )
            return Reply(0, detail="not read (the diagnosis's limit of reads)", skipped=True)
        self.sent += 1
        async with self._gate:
            try:
                reply = await self.api.get(
                    path, params={k: v for k, v in params.items() if v is not None}
                )
            except httpx.HTTPError as exc:
                return Reply(0, detail=f"the API could not be reached ({type(exc).__name__})")
        if reply.status_code >= 400:
            try:
                detail = reply.json().get("detail") or reply.reason_phrase
            except ValueError:
                detail = reply.reason_phrase
            return Reply(reply.status_code, detail=str(detail)[:300])
        try:
            return Reply(reply.status_code, reply.json() if reply.content else {})
        except ValueError:
            return Reply(0, detail="the API answered something that is not JSON")
