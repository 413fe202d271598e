"""The FastAPI application factory: routers, problem+json errors, request ids, Prometheus
metrics, and a lifespan that opens one set of clients (Postgres, Redis, Temporal, NATS, ClickHouse)
for the process."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
import time
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import Counter, Histogram

from api import contract, errors, routers
from api.analytics_worker import run_analytics_worker
from api.outbox_delivery import run_drainer
from api.prometheus import metrics_response
from api.services import close_services, open_services
from core.settings import Settings, get_settings

REQUESTS = Counter("jsc_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("jsc_http_request_seconds", "HTTP request latency", ["method", "route"])


def router_modules() -> list:
    """Every module of ``api.routers`` that defines a ``router``: adding a resource is adding a
    file."""
    found = (
        importlib.import_module(f"{routers.__name__}.{info.name}")
        for info in pkgutil.iter_modules(routers.__path__)
        if not info.name.startswith("_")
    )
    return sorted((m for m in found if hasattr(m, "router")), key=lambda m: m.__name__)


class Observe:
    """Request ids (``X-Request-ID``, taken from the request or made) and the request metrics, as
    a plain ASGI middleware: a streamed response (server-sent events) passes through untouched,
    each chunk sent as it comes."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started, status = time.perf_counter(), 500

        async def sending(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *(message.get("headers") or []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], route, status).inc()
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.services = await open_services(settings)
        drainer = asyncio.create_task(run_drainer(app.state.services), name="outbox-drainer")
        analytics = asyncio.create_task(
            run_analytics_worker(app.state.services), name="analytics-worker"
        )
        try:
            yield
        finally:
            drainer.cancel()
            analytics.cancel()
            await asyncio.gather(analytics, return_exceptions=True)
            await close_services(app.state.services)

    app = FastAPI(
        title="JetStream Console API",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    errors.install(app)
    for module in router_modules():
        app.include_router(module.router)
    contract.install(app)
    app.add_api_route("/metrics", metrics_response, include_in_schema=False)
    app.add_api_route("/metrics/", metrics_response, include_in_schema=False)

    app.add_middleware(Observe)
    return app
