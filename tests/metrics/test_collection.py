"""Collection against the real hub: rates, lag and their trend computed from known publishes and
acks match to the message; an unreachable cluster is sampled as such; the stack's own collector
publishes the admin organization's clusters."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from stack.ports import free_port
from tests.fixtures import register, unique
from tests.metrics.collecting import last_cluster_sample, last_stream_sample, org_collector
from tests.waiting import wait_until_async


async def test_rates_and_lag_match_the_publishes_and_acks(stack, tenant, hub_nc, live_nc):
    _, org_id, cluster = tenant
    name = unique("RATES").upper()
    js = hub_nc.jetstream()
    await js.add_stream(name=name, subjects=[f"{name}.>"])
    try:
        await js.add_consumer(
            name, ConsumerConfig(durable_name="worker", ack_policy=AckPolicy.EXPLICIT)
        )
        async with org_collector(stack.settings, org_id) as collector:
            first = await collector.pass_once()
            assert cluster["id"] in collector.shares.held and not first.failed
            before = await last_stream_sample(live_nc, org_id, cluster["id"], name)
            assert before.messages == 0 and before.consumers[0].lag == 0

            for i in range(50):
                await js.publish(f"{name}.orders", f"m{i}".encode())
            sub = await js.pull_subscribe_bind("worker", stream=name)
            fetched = await sub.fetch(30, timeout=10)
            assert len(fetched) == 30
            for msg in fetched[:20]:
                await msg.ack_sync()
            await asyncio.sleep(0.05)  # not a wait on speed: only a non-zero interval for rates
            await collector.pass_once()
            after = await last_stream_sample(live_nc, org_id, cluster["id"], name)

        seconds = (after.timestamp - before.timestamp).total_seconds()
        assert after.messages == 50 and after.last_seq == 50 and after.messages_in == 50
        assert after.messages_rate == pytest.approx(50 / seconds)
        worker = after.consumers[0]
        assert (worker.name, worker.delivered_delta, worker.acked_delta) == ("worker", 30, 20)
        assert (worker.pending, worker.ack_pending, worker.lag) == (20, 10, 30)
        assert worker.ack_rate == pytest.approx(20 / seconds)
        assert worker.lag_trend == pytest.approx(30 / seconds)
        assert after.consumer_count == 1 and after.subjects == [f"{name}.>"]
    finally:
        await js.delete_stream(name)


async def test_an_unreachable_cluster_is_sampled_as_unreachable(api, stack, tenant, live_nc):
    headers, org_id, _ = tenant
    down = register(api, headers, f"nats://127.0.0.1:{free_port()}", name=unique("down"))
    async with org_collector(stack.settings, org_id) as collector:
        report = await collector.pass_once()
    assert down["id"] in report.failed
    sample = await last_cluster_sample(live_nc, org_id, down["id"])
    assert sample.reachable is False and "could not connect" in (sample.error or "")
    assert sample.collector == collector.me


async def test_the_stacks_collector_samples_the_admin_organization(
    stack, hub_cluster, admin_org_id, live_nc
):
    """``jsc up`` runs a collector (JSC_COLLECT_ORGS=default in the test stack): hub's samples
    keep coming, each newer than the last. (A pass on a machine busy enough to miss hub's connect
    timeout samples it as unreachable, rightly: the samples waited for are reachable ones.)"""

    async def fresh():
        try:
            sample = await last_cluster_sample(live_nc, admin_org_id, hub_cluster["id"])
        except Exception:  # noqa: BLE001 - none yet
            return None
        return sample if sample.reachable else None

    first = await wait_until_async(
        fresh, "a reachable sample of hub from the stack's collector", 180
    )
    assert first.collector

    async def newer():
        sample = await fresh()
        return sample if sample and sample.timestamp > first.timestamp else None

    second = await wait_until_async(newer, "a later reachable sample of hub", 180)
    assert second.streams >= 0
    assert uuid.UUID(str(second.org_id)) == admin_org_id


async def test_a_mirror_that_cannot_reach_its_source_is_sampled_with_the_servers_error(
    stack, tenant, hub_nc, live_nc
):
    """The mirror's lag and the server's word on why it cannot reach its source travel in the
    sample (the mirror_lag alert counts such a mirror as lagging)."""
    _, org_id, cluster = tenant
    name = unique("ORPHAN_MIRROR").upper()
    js = hub_nc.jetstream()
    await js.add_stream(name=name, mirror={"name": unique("GONE").upper()})
    try:
        async with org_collector(stack.settings, org_id) as collector:

            async def reported():
                await collector.pass_once()
                sample = await last_stream_sample(live_nc, org_id, cluster["id"], name)
                return sample if sample.mirror and sample.mirror.error else None

            sample = await wait_until_async(
                reported, "the mirror's error in a sample", 60, every=0.5
            )
        assert sample.mirror.lag == 0 and sample.mirror.active_ms is None
    finally:
        await js.delete_stream(name)


async def test_server_stats_from_the_monitoring_url_and_only_where_allowed(
    api, stack, tenant, live_nc
):
    """With a monitoring URL the cluster sample carries each server's varz; a monitoring URL
    pointing where the outbound policy refuses (cloud metadata) is never fetched."""
    headers, org_id, _ = tenant
    monitoring = stack.info["services"]["hub"]["monitoring"]
    seen = register(
        api,
        headers,
        stack.env["JSC_HUB_URL"],
        name=unique("varz"),
        domain="hub",
        monitoring_url=monitoring,
    )
    refused = register(
        api,
        headers,
        stack.env["JSC_HUB_URL"],
        name=unique("meta"),
        domain="hub",
        monitoring_url="http://169.254.169.254/latest",
    )
    async with org_collector(stack.settings, org_id) as collector:
        await collector.pass_once()
    sample = await last_cluster_sample(live_nc, org_id, seen["id"])
    assert [s.server_name for s in sample.servers] == ["hub"]
    assert sample.servers[0].connections >= 1 and sample.servers[0].memory_bytes > 0
    blocked = await last_cluster_sample(live_nc, org_id, refused["id"])
    assert blocked.reachable and blocked.servers == []
    assert "169.254.169.254" in (blocked.error or "") and "varz" in blocked.error
