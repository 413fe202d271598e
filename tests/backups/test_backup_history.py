"""The backup workflows' determinism: real runs' histories replay with the current code (the
committed ``backup.json``, ``backup_verify_only.json``, ``restore.json``,
``restore_replace.json``, ``scheduled_backup.json``, and the one-typed-input versions
``backup_single_input.json``, ``restore_single_input.json``,
``scheduled_backup_single_input.json`` are replayed by ``tests/workflows``; set
JSC_RECORD_HISTORIES=1 to record a new version under a new name: the runs named ``None`` record
no new version)."""

from __future__ import annotations

import pytest

from tests.backups.api_helpers import Streams, backup_org, temporal_client
from tests.workflows.recorded import record_new, replay_failure
from workflows.worker import WORKFLOWS


@pytest.fixture
async def streams(hub_nc):
    made = Streams(hub_nc)
    yield made
    await made.remove()


async def replays(stack, workflow_id: str, name: str | None) -> None:
    client = await temporal_client(stack)
    handle = client.get_workflow_handle(workflow_id)
    await handle.result()  # a whole history (a schedule's run goes on after its backup: retention)
    history = await handle.fetch_history()
    assert await replay_failure(history, WORKFLOWS) is None
    if name is not None:
        record_new(history, name)


async def test_backup_restore_and_scheduled_runs_replay(api, stack, hub_nc, streams):
    org = backup_org(api, stack)
    stream = await streams.make(count=20)
    op, backup = org.backup_done([stream])
    await replays(stack, op["workflow_id"], "backup_single_input.json")

    verify = api.post(f"/api/v1/backups/{backup['id']}/verify", headers=org.headers)
    assert verify.status_code == 202, verify.text
    checked = org.wait_operation(verify.json()["id"])
    assert checked["status"] == "completed", checked
    await replays(stack, checked["workflow_id"], None)

    restored = streams.track(f"{stream}_back")
    started = org.restore(backup["id"], restored, to={"subjects": []})
    assert started.status_code == 202, started.text
    done = org.wait_operation(started.json()["id"])
    assert done["status"] == "completed", done
    await replays(stack, done["workflow_id"], "restore_single_input.json")

    over = org.restore(backup["id"], restored, to={"subjects": [], "replace": True})
    assert over.status_code == 202, over.text  # development: no approval needed
    done = org.wait_operation(over.json()["id"])
    assert done["status"] == "completed" and done["result"]["set_aside_backup_id"], done
    await replays(stack, done["workflow_id"], None)

    schedule = api.post(
        "/api/v1/backup-schedules",
        headers=org.headers,
        json={
            "name": "history",
            "cluster_id": org.hub["id"],
            "streams": [stream],
            "full": {"cron": "0 0 1 1 *", "retention_days": 30},
        },
    )
    assert schedule.status_code == 201, schedule.text
    ran = api.post(f"/api/v1/backup-schedules/{schedule.json()['id']}/run", headers=org.headers)
    assert ran.status_code == 202, ran.text
    op = org.wait_operation(ran.json()["id"])
    assert op["status"] == "completed", op
    await replays(
        stack,
        f"backup-schedule-{schedule.json()['id']}-run-{ran.json()['id']}",
        "scheduled_backup_single_input.json",
    )
