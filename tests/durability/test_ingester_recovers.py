"""The ClickHouse ingester does not die silently: with its durable consumer deleted under it (the
fault), it subscribes again by itself and the audit events made meanwhile still arrive; /readyz
reports it as a check of its own."""

from __future__ import annotations

import nats

from core.analytics.ingester import DURABLE
from core.events import STREAM
from tests.durability.faults import wait_until
from tests.fixtures import unique, wait_for_audit


def test_readyz_reports_the_ingester(api):
    ready = wait_until(
        lambda: api.get("/readyz").status_code == 200 and api.get("/readyz"),
        "the API to be ready",
        timeout=60,
    )
    assert ready.json()["checks"]["ingester"] == "ok"


async def test_the_ingester_recovers_when_its_consumer_is_deleted(
    api, admin_headers, stack, hub_cluster, hub_nc
):
    nc = await nats.connect(stack.settings.events_nats_url)
    try:
        await nc.jetstream().delete_consumer(STREAM, DURABLE)
    finally:
        await nc.close()
    name = unique("INGEST")
    made = api.post(
        f"/api/v1/clusters/{hub_cluster['id']}/streams",
        headers=admin_headers,
        json={"name": name, "subjects": [f"{name}.>"]},
    )
    assert made.status_code == 201, made.text
    try:
        wait_for_audit(api, admin_headers, timeout=90, action="stream.create", resource_name=name)
        assert wait_until(lambda: api.get("/readyz").status_code == 200, "ready again", 60)
    finally:
        await hub_nc.jetstream().delete_stream(name)
