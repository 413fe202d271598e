"""/metrics exposes the collected gauges, labelled by cluster, stream and consumer, to a scraper
of the organization (or the platform token), and nothing of them to anyone else."""

from __future__ import annotations

from nats.js.api import AckPolicy, ConsumerConfig

from tests.fixtures import unique
from tests.metrics.collecting import org_collector
from tests.waiting import wait_until


async def test_stream_and_consumer_gauges_for_the_organization_only(
    api, stack, tenant, hub_nc, make_member
):
    headers, org_id, cluster = tenant
    name = unique("PROM").upper()
    js = hub_nc.jetstream()
    await js.add_stream(name=name, subjects=[f"{name}.>"])
    try:
        await js.add_consumer(
            name, ConsumerConfig(durable_name="worker", ack_policy=AckPolicy.EXPLICIT)
        )
        for _i in range(7):
            await js.publish(f"{name}.x", b"m")
        async with org_collector(stack.settings, org_id) as collector:
            await collector.pass_once()
        lag = f'jsc_consumer_lag{{cluster="{cluster["id"]}",consumer="worker",stream="{name}"}} 7.0'
        stored = f'jsc_stream_messages{{cluster="{cluster["id"]}",stream="{name}"}} 7.0'

        def scraped():
            text = api.get("/metrics", headers=headers).text
            return text if lag in text else None

        text = wait_until(scraped, "the consumer's gauge on /metrics", 60)
        assert stored in text and "jsc_http_requests_total" in text

        anonymous = api.get("/metrics").text
        assert "jsc_http_requests_total" in anonymous and name not in anonymous
        other, _, _ = await make_member("admin", org="new")
        assert name not in api.get("/metrics", headers=other).text
        assert api.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    finally:
        await js.delete_stream(name)
