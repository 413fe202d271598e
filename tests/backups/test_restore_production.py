"""A restore over an existing stream of a production cluster is a change like any other: it waits
for approval (202 waiting_approval) and nothing changes meanwhile; once another admin approves,
the stream's current data is backed up first (a ``pre_restore`` backup, named in the result),
then the stream is replaced by the backup's."""

from __future__ import annotations

import pytest

from tests.approvals.setup import Org
from tests.backups.api_helpers import Streams, backup_org, wait_until
from tests.operations.conftest import read_all


@pytest.fixture
async def streams(hub_nc):
    made = Streams(hub_nc)
    yield made
    await made.remove()


async def contents(nc, stream: str):
    return [(m.metadata.sequence.stream, m.subject, m.data) for m in await read_all(nc, stream)]


async def test_a_production_restore_over_a_stream_waits_for_approval(api, stack, hub_nc, streams):
    org = backup_org(api, stack, environment="production")
    stream = await streams.make(count=10)
    _, backup = org.backup_done([stream])
    backed_up = await contents(hub_nc, stream)
    await streams.fill(stream, 5, start=10)
    current = await contents(hub_nc, stream)

    editor = org.member("editor")
    asked = org.restore(backup["id"], stream, headers=editor.headers, to={"replace": True})
    assert asked.status_code == 202, asked.text
    pending = asked.json()
    assert pending["status"] == "waiting_approval" and pending["request_id"], pending
    assert stream in pending["title"]
    assert await contents(hub_nc, stream) == current  # nothing changed
    listed = api.get("/api/v1/backups", headers=org.headers).json()["items"]
    assert [b["reason"] for b in listed] == ["manual"]

    approvals = Org(api, org.admin, org.hub["id"])
    approved = approvals.act(org.admin, pending["request_id"], "approve")
    assert approved.status_code == 200, approved.text
    done = approvals.wait_status(pending["request_id"], "executed", timeout=60)
    op_id = done["result"]["operation_id"]
    op = wait_until(
        lambda: (
            (r := api.get(f"/api/v1/operations/{op_id}", headers=org.headers)).status_code == 200
            and r.json()
        ),
        "the restore operation to exist",
    )
    assert op["type"] == "restore"
    op = org.wait_operation(op_id)
    assert op["status"] == "completed", op
    set_aside = org.read_backup(op["result"]["set_aside_backup_id"])
    assert (set_aside["reason"], set_aside["kind"], set_aside["status"]) == (
        "pre_restore",
        "full",
        "completed",
    )
    assert set_aside["message_count"] == 15 and set_aside["verification"]["status"] == "verified"
    assert await contents(hub_nc, stream) == backed_up

    # the former data is safe: it restores beside the stream
    former = streams.track(f"{stream}_former")
    back = org.restore(set_aside["id"], former, to={"subjects": []})
    assert back.status_code == 202, back.text
    assert org.wait_operation(back.json()["id"])["status"] == "completed"
    assert await contents(hub_nc, former) == current
