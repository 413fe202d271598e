"""The API process's own Temporal worker, on ``<task queue>-analytics``: activities that need
ClickHouse, which with embedded chdb only the API process may open (``alerts_evaluate``,
``export_audit_chunk``).
It also keeps the alert evaluation schedule in step with the settings.

Started by the lifespan as a background task; while Temporal cannot be reached it retries, so the
API serves without it. Several API replicas poll the same queue (any one answers).
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.alerts import AlertAnalyticsActivities
from activities.exports import AuditExportActivities
from api.services import Services
from core import cluster_health_schedule
from core.alerts import schedule
from core.alerts.evaluation import Evaluator
from workflows.alerts import ANALYTICS_SUFFIX

log = logging.getLogger(__name__)
RETRY_S = 5.0


def evaluator(services: Services) -> Evaluator:
    return Evaluator(
        services.sessions,
        services.analytics,
        services.clusters,
        services.cipher,
        grace_s=services.settings.alert_sample_grace_s,
    )


async def run_analytics_worker(services: Services) -> None:
    settings = services.settings
    queue = settings.task_queue + ANALYTICS_SUFFIX
    activities = AlertAnalyticsActivities(evaluator(services))
    exports = AuditExportActivities(services.analytics, settings.backups_root)
    while True:
        try:
            client = await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
            )
            await schedule.ensure(client, settings.task_queue, settings.alert_interval_s)
            await cluster_health_schedule.ensure(
                client, settings.task_queue, settings.cluster_health_interval_s
            )
            worker = Worker(
                client,
                task_queue=queue,
                activities=[activities.alerts_evaluate, exports.export_audit_chunk],
                max_concurrent_activities=4,
            )
            log.info("analytics worker polling task queue %s", queue)
            await worker.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("analytics worker stopped (%s); retrying in %.0fs", exc, RETRY_S)
        await asyncio.sleep(RETRY_S)
