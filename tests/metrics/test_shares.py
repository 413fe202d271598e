"""Collectors share the clusters: real ``jsc collector`` processes, each cluster collected by one
of them only; when one is killed (SIGKILL: it gives nothing back), its clusters are taken over by
the others once its leases expire (JSC_COLLECTOR_LEASE_S, 6 s in the test stack)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict

from nats.js.api import ConsumerConfig, DeliverPolicy

from core.live import subjects
from core.live.samples import ClusterSample
from stack.services import REPO
from tests.fixtures import register, unique
from tests.waiting import wait_until_async

CLUSTERS = 6


def start_collector(stack, org_id) -> subprocess.Popen:
    env = {
        **os.environ,
        **stack.env,
        "JSC_COLLECT_ORGS": str(org_id),
        "JSC_COLLECT_INTERVAL_S": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "collector"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def samples_since(live_nc, org_id, start_seq: int) -> list[tuple[int, ClusterSample]]:
    """Every cluster sample of the organization published from ``start_seq`` on, in order."""
    js = live_nc.jetstream()
    sub = await js.subscribe(
        f"{subjects.PREFIX}.{org_id}.metrics.cluster.*",
        ordered_consumer=True,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start_seq
        ),
    )
    found = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=1)
            except Exception:  # noqa: BLE001 - caught up
                return found
            found.append(
                (msg.metadata.sequence.stream, ClusterSample.model_validate_json(msg.data))
            )
            if msg.metadata.num_pending == 0:  # caught up (collectors keep publishing)
                return found
    finally:
        await sub.unsubscribe()


def owners(samples) -> dict[str, list[str]]:
    """cluster -> the collectors of its samples, in order, consecutive repeats folded."""
    seen: dict[str, list[str]] = defaultdict(list)
    for _, sample in samples:
        run = seen[str(sample.cluster_id)]
        if not run or run[-1] != sample.collector:
            run.append(sample.collector)
    return seen


async def test_collectors_share_clusters_and_take_over_a_dead_ones(
    api, stack, make_member, live_nc
):
    headers, _, org_id = await make_member("admin", org="new")
    clusters = {
        register(api, headers, stack.env["JSC_HUB_URL"], name=unique("share"), domain="hub")["id"]
        for _ in range(CLUSTERS)
    }
    start = (await live_nc.jetstream().stream_info(subjects.STREAM)).state.last_seq + 1
    procs = [start_collector(stack, org_id) for _ in range(3)]
    try:

        async def all_collected():
            runs = owners(await samples_since(live_nc, org_id, start))
            return runs if set(runs) == clusters else None

        await wait_until_async(all_collected, "samples of every cluster", 120, every=1)
        steady = (await live_nc.jetstream().stream_info(subjects.STREAM)).state.last_seq + 1

        async def three_passes_each():
            """Three passes of every cluster by one collector each. A collector that joined late
            (a slow start on a busy machine) takes its share from another: such a hand-over
            starts the window again, and the shares must settle within the deadline."""
            nonlocal steady
            found = await samples_since(live_nc, org_id, steady)
            counts = defaultdict(int)
            for _, s in found:
                counts[str(s.cluster_id)] += 1
            if not all(counts[c] >= 3 for c in clusters):
                return None
            if all(len(run) == 1 for run in owners(found).values()):
                return found
            steady = found[-1][0] + 1
            return None

        found = await wait_until_async(
            three_passes_each, "three passes of every cluster, one collector each", 180, every=1
        )
        runs = owners(found)
        assert all(len(run) == 1 for run in runs.values()), f"a cluster had two collectors: {runs}"
        by_collector = defaultdict(set)
        for cluster, run in runs.items():
            by_collector[run[0]].add(cluster)

        # Kill (SIGKILL) the collector of the most clusters: its id says its pid.
        victim_id = max(by_collector, key=lambda c: len(by_collector[c]))
        orphans = by_collector[victim_id]
        victim = next(p for p in procs if victim_id.split("-")[-2] == str(p.pid))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        after_kill = (await live_nc.jetstream().stream_info(subjects.STREAM)).state.last_seq + 1

        async def taken_over():
            recent = owners(await samples_since(live_nc, org_id, after_kill))
            ok = all(c in recent and recent[c][-1] != victim_id for c in orphans)
            return recent if ok else None

        recent = await wait_until_async(
            taken_over, "the dead collector's clusters taken over", 120, every=1
        )
        assert all(victim_id not in recent[c] for c in orphans), recent
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
