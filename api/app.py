"""The FastAPI application factory: routers, problem+json errors, request ids, Prometheus
metrics, and a lifespan that opens one set of clients (Postgres, Redis, Temporal, NATS, ClickHouse)
for the process."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from prometheus_client import Counter, Histogram

import importlib
import pkgutil

from api import errors, routers
from api.analytics_worker import run_analytics_worker
from api.outbox_delivery import run_drainer
from api.prometheus import metrics_response
from api.services import close_services, open_services
from core.settings import Settings, get_settings

REQUESTS = Counter("jsc_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("jsc_http_request_seconds", "HTTP request latency", ["method", "route"])


def router_modules() -> list:
    """Every module of ``api.routers`` that defines a ``router``: adding a resource is adding a file."""
    found = (importlib.import_module(f"{routers.__name__}.{info.name}")
             for info in pkgutil.iter_modules(routers.__path__) if not info.name.startswith("_"))
    return sorted((m for m in found if hasattr(m, "router")), key=lambda m: m.__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.services = await open_services(settings)
        drainer = asyncio.create_task(run_drainer(app.state.services), name="outbox-drainer")
        analytics = asyncio.create_task(run_analytics_worker(app.state.services),
                                        name="analytics-worker")
        try:
            yield
        finally:
            drainer.cancel()
            analytics.cancel()
            await asyncio.gather(analytics, return_exceptions=True)
            await close_services(app.state.services)

    app = FastAPI(title="JetStream Console API", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs", openapi_url="/openapi.json")
    errors.install(app)
    for module in router_modules():
        app.include_router(module.router)
    app.add_api_route("/metrics", metrics_response, include_in_schema=False)
    app.add_api_route("/metrics/", metrics_response, include_in_schema=False)

    @app.middleware("http")
    async def _observe(request: Request, call_next):
        request.state.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(request.method, route, response.status_code).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    return app
