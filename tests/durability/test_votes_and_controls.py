"""A vote while no worker runs answers 503 naming the worker after a bounded wait, instead of
hanging; pause, resume and cancel on an approval request's operation answer 409 saying what to do
instead (withdraw or reject), instead of 200 and nothing."""

from __future__ import annotations

import time

from tests.approvals.setup import consumer_exists, consumer_path, production_org
from tests.durability.faults import stopped
from tests.fixtures import unique


async def test_a_vote_without_a_worker_answers_503_then_counts_once_one_is_back(api, stack, hub_nc):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    second = org.member("admin", "second")
    stream = unique("NOWORKER")
    await hub_nc.jetstream().add_stream(name=stream, subjects=[f"{stream}.>"])
    try:
        asked = api.post(
            consumer_path(org, stream),
            headers=org.admin.headers,
            json={"durable_name": "voted-late"},
        )
        assert asked.status_code == 202, asked.text
        rid = asked.json()["request_id"]
        org.wait_status(rid, "waiting_approval")
        with stopped(stack, "worker"):
            started = time.monotonic()
            vote = org.act(second, rid, "approve", "while the worker is away")
            waited = time.monotonic() - started
            assert vote.status_code == 503, vote.text
            assert vote.headers["content-type"].startswith("application/problem+json")
            assert vote.json()["service"] == "worker" and "worker" in vote.json()["detail"]
            assert waited < 29, waited  # bounded (the client's own timeout is 30 s)
        # The unconfirmed vote may still be counted once a worker takes it; voting again is
        # either that vote or refused as a repeat: never two approvals.
        again = org.act(second, rid, "approve", "again")
        assert again.status_code in (200, 409), again.text
        done = org.wait_status(rid, "executed", timeout=60)
        assert len(done["votes"]) == 1, done["votes"]
        assert await consumer_exists(hub_nc, stream, "voted-late")
    finally:
        await hub_nc.jetstream().delete_stream(stream)


async def test_pause_and_cancel_on_an_approval_answer_409_with_what_to_do(api, stack, hub_nc):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    stream = unique("CTRL")
    await hub_nc.jetstream().add_stream(name=stream, subjects=[f"{stream}.>"])
    try:
        asked = api.post(
            consumer_path(org, stream),
            headers=org.admin.headers,
            json={"durable_name": "not-paused"},
        )
        assert asked.status_code == 202, asked.text
        rid, op_id = asked.json()["request_id"], asked.json()["operation_id"]
        for action in ("pause", "resume", "cancel"):
            reply = api.post(f"/api/v1/operations/{op_id}/{action}", headers=org.admin.headers)
            assert reply.status_code == 409, reply.text
            assert f"/api/v1/approvals/{rid}/withdraw" in reply.json()["detail"]
        assert org.request(rid)["status"] == "waiting_approval"
        withdrawn = org.act(org.admin, rid, "withdraw")
        assert withdrawn.status_code == 200, withdrawn.text
        org.wait_status(rid, "withdrawn")
    finally:
        await hub_nc.jetstream().delete_stream(stream)
