"""``jsc collector``: the collector process. Passes every ``JSC_COLLECT_INTERVAL_S`` (a pass that
overruns starts the next at once); SIGTERM/SIGINT end it cleanly, giving its leases back so its
clusters move at once rather than after the lease time."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import time
import uuid

from nats.aio.client import Client as NATS
from sqlalchemy.ext.asyncio import AsyncEngine

from core.collector.runner import Collector
from core.collector.shares import Shares, open_bucket
from core.db.base import make_engine, make_sessionmaker
from core.jetstream.pool import ClusterPool
from core.live.publisher import LivePublisher, connect_live
from core.security import Cipher
from core.settings import Settings, get_settings

log = logging.getLogger("jsc.collector")


async def make_collector(
    settings: Settings, nc: NATS, engine: AsyncEngine, *, me: str | None = None
) -> Collector:
    key = settings.encryption_key
    if key is None:  # the caller checks first
        raise RuntimeError("JSC_ENCRYPTION_KEY is not set")
    kv = await open_bucket(nc, settings.collector_lease_s)
    return Collector(
        sessions=make_sessionmaker(engine),
        cipher=Cipher(key.get_secret_value()),
        pool=ClusterPool(),
        live=LivePublisher(nc),
        policy=settings.cluster_policy,
        shares=Shares(kv, me or collector_id()),
        orgs=settings.collect_orgs,
    )


def collector_id() -> str:
    """``<host>-<pid>-<random>``: which process a collector is, read from its id."""
    host = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40] or "host"
    return f"{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def run(settings: Settings, stop: asyncio.Event) -> None:
    if not (settings.database_url and settings.events_nats_url and settings.encryption_key):
        raise SystemExit(
            "the collector needs JSC_DATABASE_URL, JSC_INTERNAL_NATS_URL and "
            "JSC_ENCRYPTION_KEY (jsc up sets them)"
        )
    nc = await connect_live(settings.events_nats_url, "jsc:collector")
    engine = make_engine(settings.database_url)
    collector = await make_collector(settings, nc, engine)
    log.info("collector %s: a pass every %.1f s", collector.me, settings.collect_interval_s)
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                report = await collector.pass_once()
                log.info(
                    "pass: %d clusters, %d streams, %d consumers in %.2f s%s",
                    report.clusters,
                    report.streams,
                    report.consumers,
                    report.seconds,
                    f"; unreachable: {len(report.failed)}" if report.failed else "",
                )
            except Exception:  # noqa: BLE001 - the next pass tries again
                log.exception("collection pass failed")
            wait = settings.collect_interval_s - (time.monotonic() - started)
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(wait, 0.01))
            except TimeoutError:
                pass
    finally:
        try:
            await asyncio.wait_for(collector.shares.leave(), timeout=5)
        except Exception:  # noqa: BLE001 - the leases expire anyway
            pass
        await collector.pool.close()
        await nc.close()
        await engine.dispose()


def main() -> None:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(_main())
