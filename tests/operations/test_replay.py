"""Replay through the API against the real stack, checked message by message at the destination."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.fixtures import wait_for_audit
from tests.operations.conftest import fill, make_stream, read_all, start_replay, wait_operation
from tests.waiting import wait_until_async


def source_seqs(msgs) -> list[int]:
    return [int(m.headers["Nats-Replay-Source"].split(":")[1]) for m in msgs]


async def test_sequence_range_to_another_stream(api, admin_headers, hub_cluster, hub_nc, names):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"copy-{src}.>"])
    await fill(js, [f"{src}.a", f"{src}.b"], 50)
    started = start_replay(
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "start_seq": 11,
            "end_seq": 30,
            "destination": {"stream": dst, "subject_prefix": f"copy-{src}"},
        },
    )
    assert started["status"] == "pending" and started["workflow_id"] == f"replay-{started['id']}"
    op = wait_operation(api, admin_headers, started["id"])
    assert op["status"] == "completed", op
    assert op["result"]["replayed"] == 20 and op["progress"]["done"] == 20
    assert op["finished_at"] and op["started_by"]

    msgs = await read_all(hub_nc, dst)
    assert source_seqs(msgs) == list(range(11, 31))
    first = msgs[0]
    assert first.subject == f"copy-{src}.{src}.a"  # seq 11 was published to .a
    assert first.headers["Nats-Msg-Id"] == f"{started['id']}-11"
    assert first.headers["Nats-Replay-Source"] == f"{src}:11"
    original = datetime.fromisoformat(
        first.headers["Nats-Replay-Original-Time"].replace("Z", "+00:00")
    )
    assert original <= datetime.now(UTC)
    assert first.data.startswith(b"10:")
    assert (await js.stream_info(src)).state.consumer_count == 0  # nothing left on the source
    event = wait_for_audit(
        api, admin_headers, action="operation.completed", resource_id=started["id"]
    )
    assert event["changes"]["result"]["replayed"] == 20
    wait_for_audit(api, admin_headers, action="operation.start", resource_id=started["id"])


async def test_time_range_and_subject_filter(api, admin_headers, hub_cluster, hub_nc, names):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"t-{src}.>"])
    await fill(js, [f"{src}.eu", f"{src}.us"], 10)
    await asyncio.sleep(0.05)
    middle = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await fill(js, [f"{src}.eu", f"{src}.us"], 10)  # seqs 11..20 after `middle`
    await asyncio.sleep(0.05)
    end = datetime.now(UTC)
    await fill(js, [f"{src}.eu"], 5)  # after `end`: excluded
    op = wait_operation(
        api,
        admin_headers,
        start_replay(
            api,
            admin_headers,
            {
                "cluster_id": hub_cluster["id"],
                "stream": src,
                "subjects": [f"{src}.eu"],
                "start_time": middle.isoformat(),
                "end_time": end.isoformat(),
                "destination": {"subject_prefix": f"t-{src}"},
            },
        )["id"],
    )
    assert op["status"] == "completed", op
    assert op["progress"]["total"] == 5  # counted within the range, not over the whole stream
    msgs = await read_all(hub_nc, dst)
    assert source_seqs(msgs) == [11, 13, 15, 17, 19]
    assert {m.subject for m in msgs} == {f"t-{src}.{src}.eu"}


async def test_same_stream_under_a_new_prefix(api, admin_headers, hub_cluster, hub_nc, names):
    src = names["src"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await fill(js, [f"{src}.orders"], 8)
    op = wait_operation(
        api,
        admin_headers,
        start_replay(
            api,
            admin_headers,
            {
                "cluster_id": hub_cluster["id"],
                "stream": src,
                "destination": {"subject_prefix": f"{src}.replayed"},
            },
        )["id"],
    )
    assert op["status"] == "completed", op
    msgs = await read_all(hub_nc, src)
    assert len(msgs) == 16  # the range stopped where the plan did: no loop over its own output
    assert [m.subject for m in msgs[8:]] == [f"{src}.replayed.{src}.orders"] * 8


async def test_across_clusters_with_the_same_subjects(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, names
):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(dr_nc, dst, [f"{src}.>"])
    await fill(js, [f"{src}.x", f"{src}.y"], 30)
    op = wait_operation(
        api,
        admin_headers,
        start_replay(
            api,
            admin_headers,
            {
                "cluster_id": hub_cluster["id"],
                "stream": src,
                "destination": {"cluster_id": dr_cluster["id"], "stream": dst},
            },
        )["id"],
    )
    assert op["status"] == "completed", op
    msgs = await read_all(dr_nc, dst)
    assert source_seqs(msgs) == list(range(1, 31))
    assert [m.subject for m in msgs[:2]] == [f"{src}.x", f"{src}.y"]


async def test_dry_run_counts_without_publishing(api, admin_headers, hub_cluster, hub_nc, names):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"d-{src}.>"])
    await fill(js, [f"{src}.a", f"{src}.b"], 40, size=100)
    op = wait_operation(
        api,
        admin_headers,
        start_replay(
            api,
            admin_headers,
            {
                "cluster_id": hub_cluster["id"],
                "stream": src,
                "subjects": [f"{src}.a"],
                "rate_limit": 10,
                "dry_run": True,
                "destination": {"stream": dst, "subject_prefix": f"d-{src}"},
            },
        )["id"],
    )
    assert op["status"] == "completed", op
    assert op["result"] == {
        "count": 20,
        "bytes": 2000,
        "first_seq": 1,
        "last_seq": 39,
        "estimated_duration_s": 2.0,
    }
    assert (await js.stream_info(dst)).state.messages == 0


async def test_redrive_takes_the_subject_from_a_header(
    api, admin_headers, hub_cluster, hub_nc, names
):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"dlq-{src}"])
    await make_stream(hub_nc, dst, [f"{dst}.>"])
    for i, target in enumerate([f"{dst}.a", None, f"{dst}.b"]):
        headers = {"Nats-Original-Subject": target} if target else {"X-Other": "1"}
        await js.publish(f"dlq-{src}", f"m{i}".encode(), headers=headers)
    op = wait_operation(
        api,
        admin_headers,
        start_replay(
            api,
            admin_headers,
            {
                "cluster_id": hub_cluster["id"],
                "stream": src,
                "redrive": {},
                "destination": {"stream": dst},
            },
        )["id"],
    )
    assert op["status"] == "completed", op
    assert op["result"]["replayed"] == 2 and op["result"]["failed"] == 1
    assert op["result"]["failures"][0]["seq"] == 2
    assert "Nats-Original-Subject" in op["result"]["failures"][0]["reason"]
    assert [m.subject for m in await read_all(hub_nc, dst)] == [f"{dst}.a", f"{dst}.b"]


async def test_work_queue_source_is_read_without_consuming(
    api, admin_headers, hub_cluster, hub_nc, names
):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"], retention="workqueue")
    await make_stream(hub_nc, dst, [f"w-{src}.>"])
    await fill(js, [f"{src}.jobs"], 12)
    op = wait_operation(
        api,
        admin_headers,
        start_replay(
            api,
            admin_headers,
            {
                "cluster_id": hub_cluster["id"],
                "stream": src,
                "destination": {"subject_prefix": f"w-{src}"},
            },
        )["id"],
    )
    assert op["status"] == "completed", op
    assert op["result"]["replayed"] == 12
    info = await js.stream_info(src)
    assert info.state.messages == 12 and info.state.consumer_count == 0


async def test_pause_resume_and_cancel(api, admin_headers, hub_cluster, hub_nc, names):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"p-{src}.>"])
    await fill(js, [f"{src}.a"], 30_000)  # at 1,000/s: chunks of about 5,000
    op_id = start_replay(
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "rate_limit": 1000,
            "destination": {"stream": dst, "subject_prefix": f"p-{src}"},
        },
    )["id"]

    async def first_chunk_copied() -> bool:
        running = wait_operation(api, admin_headers, op_id, until=("running",))
        return running["progress"].get("done", 0) > 0

    await wait_until_async(first_chunk_copied, "a first chunk copied", every=0.2)
    assert api.post(f"/api/v1/operations/{op_id}/pause", headers=admin_headers).status_code == 200
    paused = wait_operation(api, admin_headers, op_id, until=("paused",), timeout=30)
    await asyncio.sleep(1.5)
    held = (await js.stream_info(dst)).state.messages
    assert held == paused["progress"]["done"] > 0
    await asyncio.sleep(1)
    assert (await js.stream_info(dst)).state.messages == held  # nothing moves while paused

    assert api.post(f"/api/v1/operations/{op_id}/resume", headers=admin_headers).status_code == 200
    running = wait_operation(api, admin_headers, op_id, until=("running",), timeout=30)
    assert running["progress"]["total"] == 30_000
    await asyncio.sleep(1.5)
    assert api.post(f"/api/v1/operations/{op_id}/cancel", headers=admin_headers).status_code == 200
    op = wait_operation(api, admin_headers, op_id, timeout=30)
    assert op["status"] == "cancelled"
    replayed = op["result"]["replayed"]
    assert held < replayed < 30_000 and op["result"]["stopped_early"]
    assert (await js.stream_info(dst)).state.messages == replayed  # the result says how far
    assert (await js.stream_info(src)).state.consumer_count == 0
    again = api.post(f"/api/v1/operations/{op_id}/resume", headers=admin_headers)
    assert again.status_code == 409
    listed = api.get(
        "/api/v1/operations",
        params={"type": "replay", "status": "cancelled"},
        headers=admin_headers,
    ).json()["items"]
    assert op_id in [o["id"] for o in listed]


async def test_a_refusing_destination_fails_naming_the_sequence(
    api, admin_headers, hub_cluster, hub_nc, names
):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"f-{src}.>"], max_msgs=5, discard="new")
    await fill(js, [f"{src}.a"], 10)
    op = wait_operation(
        api,
        admin_headers,
        start_replay(
            api,
            admin_headers,
            {
                "cluster_id": hub_cluster["id"],
                "stream": src,
                "destination": {"stream": dst, "subject_prefix": f"f-{src}"},
            },
        )["id"],
    )
    assert op["status"] == "failed", op
    assert "source message 6" in op["error"] and "maximum messages" in op["error"]
    assert (await js.stream_info(src)).state.consumer_count == 0


def test_unknown_source_stream_is_404(api, admin_headers, hub_cluster, names):
    body = {
        "cluster_id": hub_cluster["id"],
        "stream": "no-such-stream-either",
        "destination": {"subject_prefix": "x"},
    }
    missing = api.post("/api/v1/operations/replay", json=body, headers=admin_headers)
    assert missing.status_code == 404 and "no-such-stream-either" in missing.json()["detail"]


async def test_idempotent_start(api, admin_headers, hub_cluster, hub_nc, names):
    src = names["src"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await fill(js, [f"{src}.a"], 3)
    body = {
        "cluster_id": hub_cluster["id"],
        "stream": src,
        "dry_run": True,
        "destination": {"subject_prefix": f"i-{src}"},
    }
    first = start_replay(api, admin_headers, body, key=f"key-{src}")
    second = start_replay(api, admin_headers, body, key=f"key-{src}")
    assert first["id"] == second["id"]
    third = start_replay(api, admin_headers, body, key=f"other-{src}")
    assert third["id"] != first["id"]


def test_invalid_requests_name_the_field(api, admin_headers, hub_cluster):
    reply = api.post(
        "/api/v1/operations/replay",
        headers=admin_headers,
        json={"cluster_id": hub_cluster["id"], "stream": "s", "start_seq": 0, "rate_limit": -1},
    )
    assert reply.status_code == 422
    assert {"start_seq", "rate_limit"} <= {e["field"] for e in reply.json()["errors"]}
    loop = api.post(
        "/api/v1/operations/replay",
        headers=admin_headers,
        json={"cluster_id": hub_cluster["id"], "stream": "s"},
    )
    assert loop.status_code == 422 and "source stream" in loop.json()["detail"]


async def test_viewers_cannot_start_and_other_orgs_cannot_see(
    api, make_member, admin_headers, hub_cluster
):
    viewer, _, _ = await make_member("viewer")
    body = {"cluster_id": hub_cluster["id"], "stream": "s", "destination": {"subject_prefix": "x"}}
    assert api.post("/api/v1/operations/replay", json=body, headers=viewer).status_code == 403
    ops = api.get("/api/v1/operations", headers=admin_headers).json()["items"]
    stranger, _, _ = await make_member("admin", org="new")
    assert api.get("/api/v1/operations", headers=stranger).json()["items"] == []
    if ops:
        assert api.get(f"/api/v1/operations/{ops[0]['id']}", headers=stranger).status_code == 404


async def test_a_replayed_rollup_header_removes_nothing(
    api, admin_headers, hub_cluster, hub_nc, names
):
    """A source message that carried Nats-Rollup is copied without it: a replay is a copy, and
    a purge at the destination needs its own permission (and passes the change gate)."""
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"], allow_rollup_hdrs=True)
    await make_stream(hub_nc, dst, [f"r-{src}.>"], allow_rollup_hdrs=True)
    await js.publish(f"r-{src}.{src}.a", b"already at the destination")
    await js.publish(f"{src}.a", b"one")
    await js.publish(f"{src}.a", b"the roll-up", headers={"Nats-Rollup": "sub"})
    op = wait_operation(
        api,
        admin_headers,
        start_replay(
            api,
            admin_headers,
            {
                "cluster_id": hub_cluster["id"],
                "stream": src,
                "start_seq": 2,
                "destination": {"stream": dst, "subject_prefix": f"r-{src}"},
            },
        )["id"],
    )
    assert op["status"] == "completed" and op["result"]["replayed"] == 1, op
    msgs = await read_all(hub_nc, dst)
    assert [m.data for m in msgs] == [b"already at the destination", b"the roll-up"]
    assert "Nats-Rollup" not in (msgs[1].headers or {})


async def test_the_listed_row_follows_a_running_replay(
    api, admin_headers, hub_cluster, hub_nc, names
):
    """The list reads rows only (no workflow query): between chunks the workflow writes its
    progress there while the next chunk runs."""
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"row-{src}.>"])
    await fill(js, [f"{src}.a"], 30_000)  # at 1,000/s: six chunks of about 5 s
    op_id = start_replay(
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "rate_limit": 1000,
            "destination": {"stream": dst, "subject_prefix": f"row-{src}"},
        },
    )["id"]

    def listed() -> dict:
        items = api.get(
            "/api/v1/operations", params={"type": "replay", "limit": 500}, headers=admin_headers
        ).json()["items"]
        return next(o for o in items if o["id"] == op_id)

    deadline = asyncio.get_running_loop().time() + 120
    row = listed()
    while not (row["status"] == "running" and (row["progress"].get("done") or 0) > 0):
        assert row["status"] in ("pending", "running"), row  # it ended with no progress written
        assert asyncio.get_running_loop().time() < deadline, row
        await asyncio.sleep(0.5)
        row = listed()
    assert 0 < row["progress"]["done"] < 30_000 and row["progress"]["total"] == 30_000
    assert api.post(f"/api/v1/operations/{op_id}/cancel", headers=admin_headers).status_code == 200
    assert wait_operation(api, admin_headers, op_id, timeout=60)["status"] == "cancelled"
