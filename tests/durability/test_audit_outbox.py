"""A change and its audit event stand or fall together. While the internal event stream refuses
publishes, a stream change is applied and answered as done (not "retry"), and its audit event,
kept in the outbox in the change's own transaction, reaches the audit log exactly once when the
stream takes events again."""

from __future__ import annotations

import asyncio
import time

from tests.durability.faults import events_refused
from tests.fixtures import unique


def audit_events(api, headers, **match) -> list[dict]:
    reply = api.get("/api/v1/audit/logs", params={"limit": 1000}, headers=headers)
    assert reply.status_code == 200, reply.text
    return [e for e in reply.json()["items"] if all(e.get(k) == v for k, v in match.items())]


async def test_a_change_made_while_events_are_refused_is_audited_once(
    api, admin_headers, stack, hub_cluster, hub_nc
):
    name = unique("AUDITED")
    path = f"/api/v1/clusters/{hub_cluster['id']}/streams"
    async with events_refused(stack.settings.events_nats_url):
        made = api.post(path, headers=admin_headers, json={"name": name, "subjects": [f"{name}.>"]})
        assert made.status_code == 201, made.text  # done: the caller is not told to retry
        purged = api.post(f"{path}/{name}/purge", headers=admin_headers, json={})
        assert purged.status_code == 200, purged.text
    try:
        deadline = time.monotonic() + 60
        while len(audit_events(api, admin_headers, resource_name=name)) < 2:
            assert time.monotonic() < deadline, audit_events(api, admin_headers, resource_name=name)
            await asyncio.sleep(0.3)
        events = audit_events(api, admin_headers, resource_name=name)
        assert sorted(e["action"] for e in events) == ["stream.create", "stream.purge"], events
        assert all(e["status"] == "success" for e in events)
    finally:
        await hub_nc.jetstream().delete_stream(name)
