"""``jsc worker``: a Temporal worker on the operations task queue, with the pydantic data converter,
registering every workflow and activity of the project."""

from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.clusters import ClusterActivities
from core.db.base import make_engine, make_sessionmaker
from core.jetstream.pool import ClusterPool
from core.security import Cipher
from core.settings import Settings, get_settings
from workflows.cluster_health import ClusterHealthWorkflow

WORKFLOWS = [ClusterHealthWorkflow]


def activities_for(settings: Settings, pool: ClusterPool):
    engine = make_engine(settings.database_url)
    cluster = ClusterActivities(make_sessionmaker(engine), Cipher(settings.encryption_key.get_secret_value()), pool)
    return engine, [cluster.probe_cluster]


def build_worker(client: Client, settings: Settings, pool: ClusterPool,
                 task_queue: str | None = None) -> tuple[Worker, object]:
    engine, activities = activities_for(settings, pool)
    worker = Worker(client, task_queue=task_queue or settings.task_queue, workflows=WORKFLOWS,
                    activities=activities)
    return worker, engine


async def run(settings: Settings) -> None:
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                  data_converter=pydantic_data_converter)
    pool = ClusterPool()
    worker, engine = build_worker(client, settings, pool)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        logging.getLogger(__name__).info("worker polling task queue %s", settings.task_queue)
        await stop.wait()
    await pool.close()
    await engine.dispose()


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run(settings))
