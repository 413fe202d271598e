"""jsc on a production cluster of an organization of its own: changes that policy sends for
approval are announced and change nothing on the NATS server (checked with nats-py), and
``jsc approval`` lists, reads and decides them until the worker applies the approved change."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.approvals.setup import consumer_exists, production_org
from tests.cli.conftest import fails, signed_in, unique


@pytest.fixture
async def prod(api, stack, hub_nc, tmp_path):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    org.stream = unique("CLIPROD")
    js = hub_nc.jetstream()
    await js.add_stream(name=org.stream, subjects=[f"{org.stream}.>"])
    org.second = org.member("admin", "second")
    org.as_admin, org.as_second = (
        signed_in(
            stack.api_url, tmp_path / who.user_id / "credentials.json", who.email, who.password
        )
        for who in (org.admin, org.second)
    )
    yield org
    await js.delete_stream(org.stream)


def request_id_of(out: str) -> str:
    found = re.search(r"Follow it with: jsc approval get ([0-9a-f-]{36})", out)
    assert found, out
    return found.group(1)


def request(jsc, request_id: str) -> dict:
    return json.loads(jsc.ok("approval", "get", request_id, "--json").stdout)


def wait_status(jsc, request_id: str, *statuses: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        current = request(jsc, request_id)
        if current["status"] in statuses:
            return current
        assert time.monotonic() < deadline, f"request still {current['status']}: {current}"
        time.sleep(0.3)


async def test_a_pending_consumer_is_listed_approved_and_applied(prod, hub_nc):
    cid = prod.cluster_id
    out = prod.as_admin.ok("consumer", "add", prod.stream, "c1", "-c", cid).stdout
    assert f"Sent for approval: Create consumer {prod.stream}/c1 (request " in out, out
    assert "Policy 'Production Changes' (v1) applies." in out
    assert "Needs 1 approval(s) from role admin or role team_lead" in out
    assert "Consumer 'c1' created" not in out
    rid = request_id_of(out)
    assert not await consumer_exists(hub_nc, prod.stream, "c1")

    waiting = prod.as_second.ok("approval", "ls", "--waiting-for-me").stdout
    assert rid[:8] in waiting and f"Create consumer {prod.stream}/c1" in waiting
    assert prod.admin.email in waiting and "production" in waiting
    own = prod.as_admin.ok("approval", "ls", "--waiting-for-me").stdout
    assert rid[:8] not in own and "No change requests waiting for you." in own
    mine = json.loads(prod.as_admin.ok("approval", "ls", "--mine", "--json").stdout)["items"]
    assert [r["id"] for r in mine] == [rid]

    shown = prod.as_second.ok("approval", "get", rid[:8]).stdout
    assert f"Create consumer {prod.stream}/c1" in shown and "waiting_approval" in shown
    assert "Production Changes (v1)" in shown and prod.admin.email in shown
    assert "You can approve, reject or request changes" in shown

    fails(prod.as_admin("approval", "approve", rid), "own request")
    approved = prod.as_second.ok("approval", "approve", rid[:8], "--comment", "looks right").stdout
    assert f"Approved request {rid[:8]}: Create consumer {prod.stream}/c1." in approved
    done = wait_status(prod.as_admin, rid, "executed")
    assert [(v["voter"]["email"], v["action"], v["comment"]) for v in done["votes"]] == [
        (prod.second.email, "approve", "looks right")
    ]
    assert await consumer_exists(hub_nc, prod.stream, "c1")
    text = prod.as_admin.ok("approval", "get", rid).stdout
    assert "executed" in text and prod.second.email in text and "looks right" in text

    # a delete answers 202 with a body too: announced, and the stream is still there
    gone = prod.as_admin.ok("stream", "rm", prod.stream, "-c", cid, "--force").stdout
    assert f"Sent for approval: Delete stream {prod.stream}" in gone, gone
    assert "deleted" not in gone
    assert (await hub_nc.jetstream().stream_info(prod.stream)).config.name == prod.stream


async def test_reject_needs_a_reason_and_a_pending_replay_starts_nothing(prod, hub_nc):
    cid = prod.cluster_id
    pending = json.loads(
        prod.as_admin.ok("consumer", "add", prod.stream, "c2", "-c", cid, "--json").stdout
    )
    assert pending["status"] == "waiting_approval"
    assert pending["title"] == f"Create consumer {prod.stream}/c2"
    rid = pending["request_id"]

    fails(
        prod.as_second("approval", "reject", rid), "Give --reason", "a reason is required to reject"
    )
    fails(prod.as_second("approval", "request-changes", rid), "Give --comment")
    assert request(prod.as_second, rid)["status"] == "waiting_approval"
    out = prod.as_second.ok("approval", "reject", rid, "--reason", "use the shared consumer").stdout
    assert f"Rejected request {rid[:8]}" in out and "It is now rejected." in out
    rejected = request(prod.as_admin, rid)
    assert rejected["status"] == "rejected"
    assert rejected["votes"][0]["comment"] == "use the shared consumer"
    fails(prod.as_second("approval", "approve", rid), "already rejected")
    assert not await consumer_exists(hub_nc, prod.stream, "c2")

    js = hub_nc.jetstream()
    await js.publish(f"{prod.stream}.orders", b"m")
    out = prod.as_admin.ok(
        "replay", "-c", cid, "-s", prod.stream, "--prefix", f"{prod.stream}.again"
    ).stdout
    assert "Sent for approval: " in out, out
    assert "Replay started" not in out and "%" not in out  # no operation, no progress bar
    replay_id = request_id_of(out)
    assert request(prod.as_admin, replay_id)["kind"] == "replay"
    withdrawn = prod.as_admin.ok("approval", "withdraw", replay_id).stdout
    assert "It is now withdrawn." in withdrawn
    assert (await js.stream_info(prod.stream)).state.messages == 1
