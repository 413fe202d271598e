"""A purge is fixed when it is decided: an approved purge, executed later (or retried after a
worker crash), removes what the stream held at the request, never the messages stored since."""

from __future__ import annotations

from tests.approvals.setup import production_org
from tests.fixtures import unique


async def test_an_approved_purge_spares_messages_stored_after_the_request(api, stack, hub_nc):
    org = production_org(api, stack.env["JSC_HUB_URL"])
    second = org.member("admin", "second")
    stream = unique("PURGEPT")
    js = hub_nc.jetstream()
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    try:
        for i in range(10):
            await js.publish(f"{stream}.old", f"old {i}".encode())
        asked = api.post(
            f"/api/v1/clusters/{org.cluster_id}/streams/{stream}/purge",
            headers=org.admin.headers,
            json={},
        )
        assert asked.status_code == 202, asked.text
        rid = asked.json()["request_id"]
        for i in range(5):  # stored between the request and its execution
            await js.publish(f"{stream}.new", f"new {i}".encode())
        approved = org.act(second, rid, "approve")
        assert approved.status_code == 200, approved.text
        done = org.wait_status(rid, "executed", timeout=60)
        assert done["result"]["applied"]["purged"] == 10, done["result"]
        state = (await js.stream_info(stream)).state
        assert (state.messages, state.first_seq, state.last_seq) == (5, 11, 15)
    finally:
        await js.delete_stream(stream)
