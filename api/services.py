"""The long-lived clients one API process holds, opened by the lifespan and shared by requests."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio.client import Client as TemporalClient
from temporalio.contrib.pydantic import pydantic_data_converter

from api.prometheus import LatestSamples
from core.analytics.ingester import Ingester
from core.analytics.metric_rows import MetricsSink
from core.analytics.store import AnalyticsStore
from core.bootstrap import prepare
from core.db.base import make_engine, make_sessionmaker
from core.events import EventPublisher
from core.jetstream.pool import ClusterPool
from core.live.publisher import ensure_live_stream
from core.live.subjects import ALL_METRICS
from core.live.subjects import STREAM as LIVE_STREAM
from core.security import Cipher
from core.settings import Settings

log = logging.getLogger(__name__)
METRICS_DURABLE = "clickhouse-metrics"


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    redis: aioredis.Redis
    temporal: TemporalClient
    clusters: ClusterPool
    events: EventPublisher
    analytics: AnalyticsStore
    cipher: Cipher
    ingester: Ingester | None = None  # audit (and alert) events
    metrics_ingester: Ingester | None = None  # the collectors' samples
    latest: LatestSamples | None = None  # the newest sample of each stream, for /metrics
    background: list[asyncio.Task] = field(default_factory=list)

    @property
    def secret_key(self) -> str:
        return self.settings.secret_key.get_secret_value()


def _require(settings: Settings) -> None:
    missing = [
        name
        for name, value in (
            ("JSC_DATABASE_URL", settings.database_url),
            ("JSC_REDIS_URL", settings.redis_url),
            ("JSC_TEMPORAL_ADDRESS", settings.temporal_address),
            ("JSC_INTERNAL_NATS_URL", settings.events_nats_url),
            ("JSC_SECRET_KEY", settings.secret_key),
            ("JSC_ENCRYPTION_KEY", settings.encryption_key),
        )
        if not value
    ]
    if missing:
        raise RuntimeError("the API needs these settings (jsc up sets them): " + ", ".join(missing))


async def bootstrap(settings: Settings) -> None:
    """Prepare the database. The API never generates the first admin's password (it has no
    terminal to show it on, and a password never goes to a log): ``JSC_ADMIN_PASSWORD`` gives it,
    or ``jsc up`` creates the admin first and prints a random one on its terminal."""
    result = await prepare(settings, generate_password=False)
    if result.created:
        log.warning(
            "created the first admin %s with the password of JSC_ADMIN_PASSWORD", result.admin_email
        )
    elif result.waiting_for_password:
        log.warning(
            "no admin %s yet: set JSC_ADMIN_PASSWORD and restart the API to create it "
            "(or start the console with `jsc up`, which prints a random one on its "
            "terminal)",
            result.admin_email,
        )


async def open_services(settings: Settings) -> Services:
    _require(settings)
    await bootstrap(settings)
    engine = make_engine(settings.database_url)
    analytics = AnalyticsStore(settings.clickhouse_dsn)
    await asyncio.to_thread(analytics.apply_schema)
    temporal = await TemporalClient.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        lazy=True,
    )
    events = await EventPublisher.connect(settings.events_nats_url)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        redis=aioredis.from_url(
            settings.redis_url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5
        ),
        temporal=temporal,
        clusters=ClusterPool(),
        events=events,
        analytics=analytics,
        cipher=Cipher(settings.encryption_key.get_secret_value()),
    )
    services.ingester = Ingester(events.nc, analytics)
    await services.ingester.start()
    services.metrics_ingester = Ingester(
        events.nc,
        analytics,
        sink=MetricsSink(),
        stream=LIVE_STREAM,
        subject=ALL_METRICS,
        durable=METRICS_DURABLE,
        ensure=ensure_live_stream,
    )
    await services.metrics_ingester.start()
    services.latest = LatestSamples()
    await services.latest.start(events.nc)
    return services


async def close_services(services: Services) -> None:
    if services.latest:
        await services.latest.stop()
    for ingester in (services.ingester, services.metrics_ingester):
        if ingester:
            await ingester.stop()
    await services.clusters.close()
    await services.events.close()
    await services.redis.aclose()
    await services.engine.dispose()
    services.analytics.close()
