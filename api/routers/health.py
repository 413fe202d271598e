"""Liveness (``/healthz``), readiness (``/readyz``: every backing service answers)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.errors import problem
from api.services import Services

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


async def _postgres(s: Services) -> None:
    async with s.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _redis(s: Services) -> None:
    await s.redis.ping()


async def _temporal(s: Services) -> None:
    if not await s.temporal.service_client.check_health():
        raise RuntimeError("not serving")


async def _clickhouse(s: Services) -> None:
    if not await asyncio.to_thread(s.analytics.ping):
        raise RuntimeError("did not answer SELECT 1")


async def _nats(s: Services) -> None:
    if not s.events.nc.is_connected:
        raise RuntimeError("not connected")
    await s.events.nc.flush(timeout=1)


async def _ingester(s: Services) -> None:
    """The task moving audit events into ClickHouse runs (it restarts itself when it fails)."""
    problem_ = s.ingester.problem() if s.ingester else "not running in this process"
    if problem_:
        raise RuntimeError(problem_)


async def _metrics_ingester(s: Services) -> None:
    """The task moving the collectors' samples into ClickHouse runs."""
    problem_ = s.metrics_ingester.problem() if s.metrics_ingester else "not running in this process"
    if problem_:
        raise RuntimeError(problem_)


CHECKS = {
    "postgres": _postgres,
    "redis": _redis,
    "temporal": _temporal,
    "clickhouse": _clickhouse,
    "nats": _nats,
    "ingester": _ingester,
    "metrics_ingester": _metrics_ingester,
}


async def _check(name: str, s: Services) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(CHECKS[name](s), timeout=s.settings.ready_timeout_s)
        return name, None
    except TimeoutError:
        return name, "did not answer in time"
    except Exception as exc:  # any failure means "not ready"; say which and why
        return name, str(exc) or type(exc).__name__


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    results = dict(await asyncio.gather(*(_check(n, services) for n in CHECKS)))
    checks = {name: ("ok" if err is None else f"down: {err}") for name, err in results.items()}
    down = [name for name, err in results.items() if err is not None]
    if down:
        return problem(
            503, f"Not ready: {', '.join(down)} unavailable.", checks=checks, unavailable=down
        )
    return JSONResponse({"status": "ready", "checks": checks})
