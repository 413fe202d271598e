"""``jsc worker``: a Temporal worker on the operations task queue, with the pydantic data converter,
registering every workflow and activity of the project."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import redis.asyncio as aioredis
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.alerts import AlertActivities
from activities.backup import BackupActivities
from activities.backup_data import BackupDataActivities
from activities.changes import ChangeActivities
from activities.clusters import ClusterActivities
from activities.exports import ExportActivities
from activities.failover import FailoverActivities
from activities.gitops import GitOpsActivities
from activities.gitops_drift import GitOpsDriftActivities
from activities.mirror import MirrorActivities
from activities.notifications import NotificationActivities
from activities.operations import OperationActivities
from activities.replay import ReplayActivities
from activities.risk_summary import RiskSummaryActivities
from core.db.base import make_engine, make_sessionmaker
from core.events import EventPublisher
from core.jetstream.pool import ClusterPool
from core.live.publisher import ensure_live_stream
from core.security import Cipher
from core.settings import Settings, get_settings
from workflows.alerts import AlertEvaluationWorkflow
from workflows.approval import ApprovalWorkflow, QuotaRequestWorkflow
from workflows.backup import BackupWorkflow
from workflows.backup_schedule import ScheduledBackupWorkflow
from workflows.cluster_health import ClusterHealthSweepWorkflow, ClusterHealthWorkflow
from workflows.export import ExportWorkflow
from workflows.failover import FailoverWorkflow
from workflows.gitops_drift import GitOpsDriftWorkflow
from workflows.gitops_sync import GitOpsApplyWorkflow, GitOpsSyncWorkflow
from workflows.mirror import MirrorWorkflow
from workflows.replay import ReplayWorkflow
from workflows.restore import RestoreWorkflow
from workflows.risk_summary import RiskSummaryWorkflow

WORKFLOWS = [
    ClusterHealthWorkflow,
    ClusterHealthSweepWorkflow,
    ReplayWorkflow,
    ApprovalWorkflow,
    QuotaRequestWorkflow,
    MirrorWorkflow,
    FailoverWorkflow,
    BackupWorkflow,
    RestoreWorkflow,
    ScheduledBackupWorkflow,
    GitOpsSyncWorkflow,
    GitOpsApplyWorkflow,
    GitOpsDriftWorkflow,
    AlertEvaluationWorkflow,
    RiskSummaryWorkflow,
    ExportWorkflow,
]

T = TypeVar("T")


def required(value: T | None, setting: str) -> T:
    """A setting the worker cannot run without (``jsc up`` sets them all)."""
    if value is None:
        raise RuntimeError(f"the worker needs {setting} (jsc up sets it)")
    return value


@dataclass
class WorkerDeps:
    """What activities hold: the database, Redis, the cipher, cluster connections, the event
    stream."""

    settings: Settings
    pool: ClusterPool
    events: EventPublisher

    def __post_init__(self) -> None:
        self.engine = make_engine(required(self.settings.database_url, "JSC_DATABASE_URL"))
        self.sessions = make_sessionmaker(self.engine)
        key = required(self.settings.encryption_key, "JSC_ENCRYPTION_KEY")
        self.cipher = Cipher(key.get_secret_value())
        self.redis = aioredis.from_url(
            required(self.settings.redis_url, "JSC_REDIS_URL"), decode_responses=True
        )
        self.risk = RiskSummaryActivities(self.sessions, self.settings)

    def activities(self) -> list[Callable[..., Any]]:
        clusters = ClusterActivities(self.sessions, self.cipher, self.pool)
        operations = OperationActivities(self.sessions, self.events)
        replay = ReplayActivities(self.sessions, self.cipher, self.pool, self.redis)
        mirror = MirrorActivities(self.sessions, self.cipher, self.pool, self.redis)
        changes = ChangeActivities(self.sessions, self.cipher, self.pool)
        notifications = NotificationActivities(
            self.sessions, self.redis, self.cipher, public_url=self.settings.public_url
        )
        failover = FailoverActivities(self.sessions, self.cipher, self.pool)
        backup = BackupActivities(self.sessions, self.cipher, self.pool, self.events, self.settings)
        backup_data = BackupDataActivities(
            self.sessions,
            self.cipher,
            self.pool,
            self.redis,
            backups_root=self.settings.backups_root,
        )
        alerts = AlertActivities(self.sessions, self.redis, self.events, notifications)
        exports = ExportActivities(
            self.sessions, self.cipher, self.pool, self.settings.backups_root
        )
        return [
            alerts.alert_publish,
            alerts.deliver_alert_webhook,
            alerts.alert_delivered,
            clusters.probe_cluster,
            clusters.clusters_to_probe,
            operations.record_operation,
            replay.replay_plan,
            replay.replay_dry_run,
            replay.replay_chunk,
            changes.apply_change,
            changes.record_change_request,
            notifications.notify_request,
            notifications.deliver_webhook,
            mirror.mirror_prepare,
            mirror.mirror_create,
            mirror.mirror_wait,
            mirror.mirror_control,
            mirror.mirror_mark,
            notifications.dr_webhooks,
            notifications.deliver_dr_webhook,
            failover.failover_measure,
            failover.failover_fence,
            failover.drill_prepare,
            failover.failover_catch_up,
            failover.failover_promote,
            failover.failover_switch,
            failover.failover_verify,
            failover.failover_cleanup,
            failover.drill_cleanup,
            failover.failover_rollback,
            failover.failover_reverse,
            failover.failover_state,
            failover.failover_record,
            backup_data.backup_item,
            backup_data.backup_verify,
            backup_data.backup_restore,
            backup_data.backup_delete_data,
            *backup_activities(backup),
            self.risk.write_risk_summary,
            exports.export_messages_chunk,
            exports.export_discard,
            *gitops_activities(
                GitOpsActivities(self.sessions, self.cipher, self.pool, self.events, self.settings)
            ),
            *gitops_drift_activities(
                GitOpsDriftActivities(self.sessions, self.cipher, self.pool, self.settings)
            ),
        ]


def gitops_activities(gitops: GitOpsActivities) -> list[Callable[..., Any]]:
    return [gitops.gitops_plan, gitops.gitops_open_request, gitops.gitops_apply, gitops.gitops_fail]


def gitops_drift_activities(drift: GitOpsDriftActivities) -> list[Callable[..., Any]]:
    return [drift.gitops_drift_scan, drift.gitops_drift_revert]


def backup_activities(backup: BackupActivities) -> list[Callable[..., Any]]:
    return [
        backup.backup_prepare,
        backup.backup_finish,
        backup.backup_record_verification,
        backup.restore_prepare,
        backup.restore_remove_stream,
        backup.backup_schedule_tick,
        backup.backup_retention_plan,
        backup.backup_retention_apply,
    ]


@asynccontextmanager
async def running_worker(
    client: Client, settings: Settings, task_queue: str | None = None
) -> AsyncIterator[Worker]:
    """A started worker with its dependencies; everything is closed on exit."""
    pool = ClusterPool()
    events = await EventPublisher.connect(
        required(settings.events_nats_url, "JSC_INTERNAL_NATS_URL")
    )
    await ensure_live_stream(events.nc)  # operations' progress is pushed to JSC_LIVE
    deps = WorkerDeps(settings, pool, events)
    # Heartbeats reach Temporal at least twice a second: a retried replay chunk resumes from a
    # checkpoint at most about half a second old, and progress read from it is as fresh.
    worker = Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=deps.activities(),
        max_concurrent_activities=20,
        max_heartbeat_throttle_interval=timedelta(milliseconds=500),
    )
    try:
        async with worker:
            yield worker
    finally:
        await pool.close()
        await events.close()
        await deps.redis.aclose()
        await deps.risk.close()
        await deps.engine.dispose()


async def run(settings: Settings) -> None:
    client = await Client.connect(
        required(settings.temporal_address, "JSC_TEMPORAL_ADDRESS"),
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_worker(client, settings):
        # What was built at startup (modules, the SDK, the data converter) lives for the
        # process: keep it out of the collector's reach, so a replay's per-message garbage does
        # not make every full collection walk it.
        gc.freeze()
        logging.getLogger(__name__).info("worker polling task queue %s", settings.task_queue)
        await stop.wait()


def main() -> None:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(run(settings))
