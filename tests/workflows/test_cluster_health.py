"""ClusterHealthWorkflow against the stack's Temporal dev server, and its determinism checked by
Temporal's replayer over a recorded history committed beside this file."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import update
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.db.models import NatsCluster
from tests.workflows.changed_workflows import ChangedClusterHealthWorkflow
from tests.workflows.recorded import load
from workflows.cluster_health import ClusterHealthWorkflow
from workflows.types import ClusterProbeInput, ClusterProbeResult
from workflows.worker import WORKFLOWS, running_worker

HISTORY = Path(__file__).with_name("histories") / "cluster_health.json"


@pytest.fixture(scope="module")
async def temporal(stack):
    return await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )


async def test_probe_records_the_cluster_status(
    stack, temporal, hub_cluster, admin_org_id, db_sessions
):
    async with db_sessions() as db, db.begin():
        await db.execute(
            update(NatsCluster)
            .where(NatsCluster.id == uuid.UUID(hub_cluster["id"]))
            .values(status="unknown", version=None)
        )
    settings = stack.settings
    queue = f"test-{uuid.uuid4().hex[:8]}"
    workflow_id = f"cluster-health-{uuid.uuid4().hex[:8]}"
    async with running_worker(temporal, settings, task_queue=queue):
        handle = await temporal.start_workflow(
            ClusterHealthWorkflow.run,
            ClusterProbeInput(org_id=str(admin_org_id), cluster_id=hub_cluster["id"]),
            id=workflow_id,
            task_queue=queue,
        )
        result = await handle.result()
        assert await handle.query(ClusterHealthWorkflow.status) == "completed"

    assert isinstance(result, ClusterProbeResult)
    assert result.status == "healthy" and result.version.startswith("2.")
    async with db_sessions() as db:
        row = await db.get(NatsCluster, uuid.UUID(hub_cluster["id"]))
        assert row.status == "healthy" and row.version == result.version

    history = await handle.fetch_history()
    await Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter).replay_workflow(
        history
    )


async def test_recorded_history_replays_deterministically():
    history = load(HISTORY.name)
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_the_replayer_catches_a_nondeterministic_change():
    """The check above can fail: a workflow that now schedules another activity does not replay."""
    history = load(HISTORY.name)
    replayer = Replayer(
        workflows=[ChangedClusterHealthWorkflow], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
