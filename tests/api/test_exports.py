"""Large exports as operations: a message export over the inline limit (or asked with
``as_operation=true``) answers ``202`` with an operation whose workflow writes the file in chunks to
the export store; the download (``/api/v1/operations/{id}/download``) is byte for byte what the
inline export streams. Tenancy (another organization's export is a 404), read rights (a viewer
exports what it reads, a team-scoped reader only its teams' streams), audit, cancellation, and the
recorded history of ExportWorkflow. The test stack writes chunks of 50 records and streams up to
300 messages inline (``JSC_EXPORT_CHUNK_RECORDS``, ``JSC_EXPORT_INLINE_MAX_MESSAGES``)."""

from __future__ import annotations

import json
import uuid

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.api.orgs import Account, add_cluster, add_team, invite, signup
from tests.fixtures import unique, wait_for_audit
from tests.waiting import wait_until
from tests.workflows.recorded import record_new, replay_failure
from workflows.worker import WORKFLOWS

FINISHED = ("completed", "failed", "cancelled")
CHUNK = 50  # JSC_EXPORT_CHUNK_RECORDS of the test stack
INLINE_MAX = 300  # JSC_EXPORT_INLINE_MAX_MESSAGES of the test stack


def export_path(cluster: dict, stream: str) -> str:
    return f"/api/v1/clusters/{cluster['id']}/streams/{stream}/messages/export"


def make_stream(api: httpx.Client, owner: Account, cluster: dict, name: str) -> str:
    reply = api.post(
        f"/api/v1/clusters/{cluster['id']}/streams",
        headers=owner.headers,
        json={"name": name, "subjects": [f"{name}.>"]},
    )
    assert reply.status_code == 201, reply.text
    return name


async def fill(hub_nc, stream: str, count: int, start: int = 1) -> None:
    js = hub_nc.jetstream()
    for i in range(start, start + count):
        data = bytes([0, i % 256]) if i % 17 == 0 else json.dumps({"i": i, "é": "ü"}).encode()
        await js.publish(f"{stream}.{'a' if i % 2 else 'b'}", data, headers={"N": str(i)})


def started(reply: httpx.Response) -> dict:
    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert set(body) == {"id", "workflow_id", "status"} and body["workflow_id"].startswith(
        "export-"
    )
    return body


def finished(api: httpx.Client, headers: dict, operation_id: str) -> dict:
    def read():
        op = api.get(f"/api/v1/operations/{operation_id}", headers=headers).json()
        return op if op.get("status") in FINISHED else None

    return wait_until(read, f"export {operation_id} to end", timeout=180)


def download(api: httpx.Client, headers: dict, operation_id: str) -> httpx.Response:
    return api.get(f"/api/v1/operations/{operation_id}/download", headers=headers)


async def record_history(stack, workflow_id: str, name: str) -> None:
    client = await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    assert await replay_failure(history, WORKFLOWS) is None
    record_new(history, name)


async def test_a_large_message_export_is_an_operation_that_downloads_the_inline_file(
    api, stack, hub_nc
):
    owner = signup(api)
    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    stream = make_stream(api, owner, cluster, unique("exp"))
    await fill(hub_nc, stream, 120)
    path = export_path(cluster, stream)

    for params in (
        {},
        {"format": "csv", "subject": f"{stream}.b", "start_seq": 7},
        {"start_seq": 3, "end_seq": 101},
    ):
        inline = api.get(path, headers=owner.headers, params=params)
        assert inline.status_code == 200, inline.text
        op = started(api.get(path, headers=owner.headers, params={**params, "as_operation": True}))
        done = finished(api, owner.headers, op["id"])
        assert done["status"] == "completed", done
        records = len(inline.text.splitlines()) - (1 if params.get("format") == "csv" else 0)
        assert done["progress"]["done"] == done["progress"]["total"] == records
        assert len(done["result"]["chunks"]) == records // CHUNK + 1
        assert done["input"]["stream"] == stream and done["cluster_id"] == cluster["id"]
        file = download(api, owner.headers, op["id"])
        assert file.status_code == 200, file.text
        assert file.content == inline.content
        assert file.headers["content-type"] == inline.headers["content-type"]
        assert file.headers["content-disposition"] == inline.headers["content-disposition"]
    await record_history(stack, op["workflow_id"], "export_messages.json")

    # over the inline limit, the plain export becomes an operation by itself
    await fill(hub_nc, stream, INLINE_MAX, start=121)
    op = started(api.get(path, headers=owner.headers))
    assert finished(api, owner.headers, op["id"])["status"] == "completed"
    lines = [json.loads(line) for line in download(api, owner.headers, op["id"]).text.splitlines()]
    assert [r["seq"] for r in lines] == list(range(1, 121 + INLINE_MAX))
    assert lines[16]["encoding"] == "base64" and lines[0]["headers"] == {"N": ["1"]}
    assert api.get(path, headers=owner.headers, params={"end_seq": 50}).status_code == 200

    # the same Idempotency-Key names the same operation
    keyed = {**owner.headers, "Idempotency-Key": unique("key")}
    first = started(api.get(path, headers=keyed, params={"as_operation": True}))
    assert started(api.get(path, headers=keyed, params={"as_operation": True}))["id"] == first["id"]

    start = wait_for_audit(api, owner.headers, action="operation.start", resource_id=op["id"])
    assert start["resource_name"] == "export" and start["changes"]["input"]["stream"] == stream
    wait_for_audit(api, owner.headers, action="operation.completed", resource_id=op["id"])
    got = wait_for_audit(api, owner.headers, action="export.download", resource_id=op["id"])
    assert got["changes"]["records"] == 120 + INLINE_MAX


async def test_exports_are_scoped_to_the_organization_and_to_what_the_caller_reads(
    api, stack, hub_nc
):
    owner = signup(api)
    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    prefix = f"{unique('pay')}-"
    dev = invite(api, owner, "member")
    add_team(api, owner, (cluster["id"], prefix), members=(dev,))
    mine = make_stream(api, owner, cluster, f"{prefix}orders")
    other = make_stream(api, owner, cluster, unique("ledger"))
    for stream in (mine, other):
        await fill(hub_nc, stream, 60)
    theirs = started(
        api.get(export_path(cluster, other), headers=owner.headers, params={"as_operation": True})
    )
    assert finished(api, owner.headers, theirs["id"])["status"] == "completed"
    expected = download(api, owner.headers, theirs["id"]).content

    # another organization: the operation and its file do not exist
    stranger = signup(api)
    for path in (
        f"/api/v1/operations/{theirs['id']}",
        f"/api/v1/operations/{theirs['id']}/download",
    ):
        assert api.get(path, headers=stranger.headers).status_code == 404, path
    assert (
        api.get(
            export_path(cluster, other), headers=stranger.headers, params={"as_operation": True}
        ).status_code
        == 404
    )

    # a viewer exports what it reads, and downloads what others exported of it
    viewer = invite(api, owner, "viewer")
    own = started(
        api.get(export_path(cluster, other), headers=viewer.headers, params={"as_operation": True})
    )
    assert finished(api, viewer.headers, own["id"])["status"] == "completed"
    assert download(api, viewer.headers, own["id"]).content == expected
    assert download(api, viewer.headers, theirs["id"]).content == expected
    # ... but not the audit log, which it may not read
    assert (
        api.get(
            "/api/v1/audit/logs/export", headers=viewer.headers, params={"as_operation": True}
        ).status_code
        == 403
    )

    # a member reading only its teams' streams: its own stream, not another team's
    made = api.post(
        "/api/v1/roles",
        headers=owner.headers,
        json={
            "name": unique("team-reader"),
            "permissions": [
                "clusters:read:*",
                "streams:read:*",
                "messages:read:team",
                "operations:read:*",
            ],
        },
    )
    assert made.status_code == 201, made.text
    assert (
        api.patch(
            f"/api/v1/users/{dev.user_id}",
            headers=owner.headers,
            json={"role": made.json()["name"]},
        ).status_code
        == 200
    )
    ours = started(
        api.get(export_path(cluster, mine), headers=dev.headers, params={"as_operation": True})
    )
    assert finished(api, dev.headers, ours["id"])["status"] == "completed"
    assert len(download(api, dev.headers, ours["id"]).text.splitlines()) == 60
    refused = api.get(
        export_path(cluster, other), headers=dev.headers, params={"as_operation": True}
    )
    assert refused.status_code == 403 and "outside your teams' namespaces" in refused.text
    assert download(api, dev.headers, theirs["id"]).status_code == 403
    wait_for_audit(api, owner.headers, action="messages.read", status="denied", user_id=dev.user_id)
    assert download(api, owner.headers, str(uuid.uuid4())).status_code == 404


async def test_a_large_audit_export_is_an_operation_that_downloads_the_inline_file(api, stack):
    owner = signup(api)
    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    stream = make_stream(api, owner, cluster, unique("aud"))
    publish = f"/api/v1/clusters/{cluster['id']}/streams/{stream}/messages"
    count = CHUNK * 2 + 7
    for i in range(count):
        reply = api.post(
            publish, headers=owner.headers, json={"subject": f"{stream}.x", "payload": {"i": i}}
        )
        assert reply.status_code == 201, reply.text
    filters = {"action": "message.publish", "resource_name": stream}

    def ingested():
        text = api.get("/api/v1/audit/logs/export", headers=owner.headers, params=filters).text
        return len(text.splitlines()) == count

    wait_until(ingested, f"{count} publish events in the audit log", timeout=60)

    for fmt in ("jsonl", "csv"):
        inline = api.get(
            "/api/v1/audit/logs/export", headers=owner.headers, params={**filters, "format": fmt}
        )
        assert inline.status_code == 200, inline.text
        op = started(
            api.get(
                "/api/v1/audit/logs/export",
                headers=owner.headers,
                params={**filters, "format": fmt, "as_operation": True},
            )
        )
        done = finished(api, owner.headers, op["id"])
        assert done["status"] == "completed", done
        assert done["progress"]["done"] == count and done["progress"]["unit"] == "rows"
        assert len(done["result"]["chunks"]) == count // CHUNK + 1
        file = download(api, owner.headers, op["id"])
        assert file.status_code == 200, file.text
        assert file.content == inline.content
        assert file.headers["content-type"] == inline.headers["content-type"]
    await record_history(stack, op["workflow_id"], "export_audit.json")
    wait_for_audit(api, owner.headers, action="export.download", resource_id=op["id"])
    assert download(api, signup(api).headers, op["id"]).status_code == 404


async def test_cancelling_an_export_stops_it_and_removes_its_chunks(api, stack, hub_nc):
    owner = signup(api)
    cluster = add_cluster(api, owner, stack.env["JSC_HUB_URL"])
    stream = make_stream(api, owner, cluster, unique("big"))
    total = 0
    # Cancelled right after it starts; should the export have ended first, a longer one is tried
    # (the outcome is checked, never a speed).
    for size in (3000, 12000, 48000):
        await fill(hub_nc, stream, size - total, start=total + 1)
        total = size
        op = started(
            api.get(
                export_path(cluster, stream), headers=owner.headers, params={"as_operation": True}
            )
        )
        cancel = api.post(f"/api/v1/operations/{op['id']}/cancel", headers=owner.headers)
        assert cancel.status_code in (200, 409), cancel.text
        done = finished(api, owner.headers, op["id"])
        if done["status"] == "cancelled":
            break
        assert done["status"] == "completed", done
    assert done["status"] == "cancelled", "every export ended before its cancellation"
    assert done["result"]["stopped_early"] and done["progress"]["done"] < total
    late = download(api, owner.headers, op["id"])
    assert late.status_code == 409 and "cancelled" in late.json()["detail"]
    chunks = stack.settings.backups_root / owner.org_id / "exports" / op["id"]
    assert not chunks.exists() or not any(chunks.iterdir())
    wait_for_audit(api, owner.headers, action="operation.cancel", resource_id=op["id"])
    wait_for_audit(api, owner.headers, action="operation.cancelled", resource_id=op["id"])
