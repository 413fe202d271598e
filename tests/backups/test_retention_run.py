"""Retention through a real run of a schedule (``POST /backup-schedules/{id}/run``): backups made
by the schedule, some back-dated in the database to be old, then one more run; exactly the
expired ones are gone afterwards (rows and data at the target, audited ``backup.expired``), and
a needed chain member and the newest full stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from core.db.models import Backup
from tests.backups.api_helpers import Streams, backup_org, wait_until
from tests.fixtures import wait_for_audit


@pytest.fixture
async def streams(hub_nc):
    made = Streams(hub_nc)
    yield made
    await made.remove()


def run(org, schedule_id: str, kind: str) -> dict:
    started = org.api.post(
        f"/api/v1/backup-schedules/{schedule_id}/run", params={"kind": kind}, headers=org.headers
    )
    assert started.status_code == 202, started.text
    op = org.wait_operation(started.json()["id"])
    assert op["status"] == "completed", op
    # retention runs after the backup, in the run's own workflow: its end is the last_run
    wait_until(
        lambda: (
            (
                org.api.get(f"/api/v1/backup-schedules/{schedule_id}", headers=org.headers)
                .json()
                .get("last_run")
                or {}
            ).get("operation_id")
            == op["id"]
        ),
        "the run's retention",
    )
    return op


def schedule_backups(org, schedule_id: str) -> list[dict]:
    reply = org.api.get("/api/v1/backups", headers=org.headers, params={"schedule_id": schedule_id})
    assert reply.status_code == 200, reply.text
    return reply.json()["items"]


async def age(db_sessions, backup_id: str, days: float) -> None:
    at = datetime.now(UTC) - timedelta(days=days)
    async with db_sessions() as db, db.begin():
        await db.execute(
            update(Backup)
            .where(Backup.id == uuid.UUID(backup_id))
            .values(created_at=at, started_at=at, completed_at=at)
        )


async def test_retention_removes_exactly_the_expired_backups(
    api, stack, hub_nc, dr_nc, streams, db_sessions
):
    org = backup_org(api, stack)
    stream = await streams.make(count=10)
    made = api.post(
        "/api/v1/backup-schedules",
        headers=org.headers,
        json={
            "name": "kept-a-day",
            "cluster_id": org.hub["id"],
            "streams": [stream],
            "full": {"cron": "0 0 1 1 *", "retention_days": 1},
            "incremental": {"cron": "0 0 1 1 *", "retention_days": 1},
        },
    )
    assert made.status_code == 201, made.text
    sid = made.json()["id"]

    names = ["f1", "i1", "f2", "i2"]
    for n, name in enumerate(names):
        await streams.fill(stream, 3, start=10 + 3 * n)
        run(org, sid, "full" if name.startswith("f") else "incremental")
    found = list(reversed(schedule_backups(org, sid)))  # oldest first
    ids = dict(zip(names, (b["id"] for b in found), strict=False))
    assert [b["reason"] for b in found] == ["scheduled"] * 4
    assert found[3]["chain"] == [ids["f2"], ids["i2"]]
    # f1, i1 and f2 are old; i2 is young and needs f2
    for name, days in (("f1", 4), ("i1", 3.5), ("f2", 3)):
        await age(db_sessions, ids[name], days)

    op = run(org, sid, "full")  # f3, the newest full, then retention
    remaining = {b["id"] for b in schedule_backups(org, sid)}
    f3 = op["result"]["backup_id"]
    assert remaining == {ids["f2"], ids["i2"], f3}, (ids, remaining)
    store = await dr_nc.jetstream().object_store("jsc-backups")
    listed = {o.name for o in await store.list()}
    for name in ("f1", "i1"):
        assert not any(k.startswith(f"{org.admin.org_id}/{ids[name]}/") for k in listed), name
        event = wait_for_audit(
            api, org.headers, timeout=30, action="backup.expired", resource_id=ids[name]
        )
        assert event["status"] == "success"
    assert any(k.startswith(f"{org.admin.org_id}/{ids['f2']}/") for k in listed)
    schedule = api.get(f"/api/v1/backup-schedules/{sid}", headers=org.headers).json()
    assert sorted(schedule["last_run"]["expired"]) == sorted([ids["f1"], ids["i1"]])

    # everything old now: the newest full (f3) alone stays, with nothing it needs
    for backup_id, days in ((ids["f2"], 2.5), (ids["i2"], 2.4), (f3, 2)):
        await age(db_sessions, backup_id, days)
    op = run(org, sid, "incremental")
    i3 = op["result"]["backup_id"]
    assert {b["id"] for b in schedule_backups(org, sid)} == {f3, i3}
