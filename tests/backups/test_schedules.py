"""Backup schedules through the API, checked against Temporal itself: creating one makes a
Temporal schedule per cadence with that spec, a change updates it, pausing (enabled=false)
pauses it, deleting removes them (its backups stay); another organization and roles without
``backups:manage`` are refused; invalid cadences are 422 with a sentence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.service import RPCError

from core.backups.schedules import schedule_id
from tests.backups.api_helpers import backup_org, temporal_client


@pytest.fixture
def org(api, stack):
    return backup_org(api, stack)


@pytest.fixture
async def temporal(stack):
    return await temporal_client(stack)


async def describe(temporal, sid: str):
    try:
        return await temporal.get_schedule_handle(sid).describe()
    except RPCError:
        return None


async def test_a_schedule_is_a_temporal_schedule_per_cadence(api, org, temporal):
    body = {
        "name": "nightly",
        "cluster_id": org.hub["id"],
        "streams": ["orders"],
        "full": {"cron": "0 2 * * *", "retention_days": 30},
        "incremental": {"every": "1h", "retention_days": 7},
    }
    made = api.post("/api/v1/backup-schedules", headers=org.headers, json=body)
    assert made.status_code == 201, made.text
    row = made.json()
    assert row["target"] == {
        "type": "object_store",
        "cluster_id": org.dr["id"],
        "bucket": "jsc-backups",
    }
    assert row["streams"] == ["orders"] and row["enabled"] and len(row["next_runs"]) >= 2
    full = await describe(temporal, schedule_id(row["id"], "full"))
    hourly = await describe(temporal, schedule_id(row["id"], "incremental"))
    assert full.schedule.action.workflow == "ScheduledBackupWorkflow"
    assert list(full.schedule.spec.cron_expressions) == ["0 2 * * *"] or [
        (c.hour[0].start, c.minute[0].start) for c in full.schedule.spec.calendars
    ] == [(2, 0)]
    assert [i.every for i in hourly.schedule.spec.intervals] == [timedelta(hours=1)]
    assert not full.schedule.state.paused
    assert all(t.hour == 2 and t.minute == 0 for t in full.info.next_action_times)

    assert (
        api.get(
            f"/api/v1/backup-schedules/{row['id']}", headers=org.member("viewer").headers
        ).status_code
        == 200
    )
    listed = api.get("/api/v1/backup-schedules", headers=org.headers).json()["items"]
    assert [s["id"] for s in listed] == [row["id"]]

    changed = api.patch(
        f"/api/v1/backup-schedules/{row['id']}",
        headers=org.headers,
        json={
            "full": {"every": "12h", "retention_days": 10},
            "incremental": None,
            "enabled": False,
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["full"] == {"every": "12h", "retention_days": 10}
    assert changed.json()["incremental"] is None and changed.json()["next_runs"] == []
    full = await describe(temporal, schedule_id(row["id"], "full"))
    assert [i.every for i in full.schedule.spec.intervals] == [timedelta(hours=12)]
    assert full.schedule.state.paused
    assert await describe(temporal, schedule_id(row["id"], "incremental")) is None

    deleted = api.delete(f"/api/v1/backup-schedules/{row['id']}", headers=org.headers)
    assert deleted.status_code == 204, deleted.text
    assert await describe(temporal, schedule_id(row["id"], "full")) is None
    assert api.get(f"/api/v1/backup-schedules/{row['id']}", headers=org.headers).status_code == 404


async def test_schedules_are_refused_what_they_cannot_be(api, stack, org):
    base = {"name": "s", "cluster_id": org.hub["id"], "full": {"every": "1h", "retention_days": 1}}
    for full, word in (
        ({"cron": "every day", "retention_days": 1}, "cron"),
        ({"every": "0m", "retention_days": 1}, "often"),
        ({"every": "1h", "cron": "0 * * * *", "retention_days": 1}, "exactly one"),
        ({"every": "1h", "retention_days": 0}, "retention_days"),
    ):
        reply = api.post(
            "/api/v1/backup-schedules", headers=org.headers, json={**base, "full": full}
        )
        assert reply.status_code == 422 and word in reply.text, (full, reply.text)
    made = api.post("/api/v1/backup-schedules", headers=org.headers, json=base)
    assert made.status_code == 201, made.text
    again = api.post("/api/v1/backup-schedules", headers=org.headers, json=base)
    assert again.status_code == 409 and "exists" in again.json()["detail"]
    sid = made.json()["id"]
    bad = api.patch(
        f"/api/v1/backup-schedules/{sid}",
        headers=org.headers,
        json={"full": {"cron": "61 * * * *", "retention_days": 1}},
    )
    assert bad.status_code == 422, bad.text
    no_incremental = api.post(
        f"/api/v1/backup-schedules/{sid}/run?kind=incremental", headers=org.headers
    )
    assert no_incremental.status_code == 409, no_incremental.text

    other = backup_org(api, stack)
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/run")):
        reply = api.request(
            method,
            f"/api/v1/backup-schedules/{sid}{path}",
            headers=other.headers,
            json={} if method != "GET" else None,
        )
        assert reply.status_code == 404, (method, path, reply.text)
    assert api.get("/api/v1/backup-schedules", headers=other.headers).json()["items"] == []
    foreign = api.post(
        "/api/v1/backup-schedules",
        headers=other.headers,
        json={**base, "cluster_id": org.hub["id"]},
    )
    assert foreign.status_code == 404, foreign.text
    viewer = org.member("viewer")
    assert (
        api.patch(
            f"/api/v1/backup-schedules/{sid}", headers=viewer.headers, json={"enabled": False}
        ).status_code
        == 403
    )
    assert (
        api.post(f"/api/v1/backup-schedules/{sid}/run", headers=viewer.headers).status_code == 403
    )
    assert api.delete(f"/api/v1/backup-schedules/{sid}", headers=org.headers).status_code == 204
