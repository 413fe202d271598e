"""Benchmark: the metrics collector on the local stack.

``--streams`` streams (default 1,000) with ``--consumers`` durable consumers each (default 10:
10,000 consumers) on hub, registered once; the stack's own collector process (``jsc collector``,
a pass every 10 s) collects them. Over ``--seconds`` (default 60) of steady passes it prints each
pass's time (from the collector's log) and the CPU the collector process used, as a share of one
core (from /proc). Targets: a pass under 2 s, under 20% of one core on average.

    .venv/bin/python bench/collector.py [--streams 1000] [--consumers 10] [--seconds 60]

It starts its own stack (free ports, a temporary data dir) and never runs in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.jetstream.api import JetStreamApi  # noqa: E402
from stack.launcher import Stack  # noqa: E402

PASSWORD = "bench-Pass-1234"
PASS = re.compile(r"pass: (\d+) clusters, (\d+) streams, (\d+) consumers in ([\d.]+) s")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def passes(log: Path) -> list[tuple[int, int, float]]:
    return [(int(m[2]), int(m[3]), float(m[4])) for m in PASS.finditer(log.read_text())]


async def populate(nc, streams: int, consumers: int) -> None:
    js = JetStreamApi(nc, "hub", timeout=30)
    gate = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        name = f"BENCH_{i:04d}"
        async with gate:
            await js.stream_create(
                {"name": name, "subjects": [f"bench.{i}.>"], "storage": "memory"}
            )
            for c in range(consumers):
                await js.consumer_create(name, {"durable_name": f"c{c}", "ack_policy": "explicit"})
            await nc.publish(f"bench.{i}.x", b"hello")

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(streams)))
    print(
        f"made {streams} streams and {streams * consumers} consumers in "
        f"{time.perf_counter() - started:.1f} s"
    )


async def main(args) -> None:
    os.environ.setdefault("JSC_ALLOWED_CLUSTER_NETWORKS", "127.0.0.0/8,::1/128")
    data_dir = Path(tempfile.mkdtemp(prefix="jsc-bench-"))
    stack = Stack(
        data_dir,
        ui=False,
        demo=False,
        auto_ports=True,
        env_overrides={"JSC_ADMIN_PASSWORD": PASSWORD, "JSC_COLLECT_INTERVAL_S": "10"},
    )
    stack.start()
    try:
        hub = await nats.connect(stack.env["JSC_HUB_URL"])
        await populate(hub, args.streams, args.consumers)
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as api:
            login = await api.post(
                "/api/v1/auth/login", json={"email": stack.admin_email, "password": PASSWORD}
            )
            login.raise_for_status()
            admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
            (
                await api.post(
                    "/api/v1/clusters",
                    headers=admin,
                    json={
                        "name": "hub",
                        "environment": "development",
                        "jetstream_domain": "hub",
                        "server_urls": [stack.env["JSC_HUB_URL"]],
                    },
                )
            ).raise_for_status()
        log = data_dir / "logs" / "collector.log"
        want = args.streams * args.consumers
        while not any(c >= want for _, c, _ in passes(log)):  # the first full pass
            await asyncio.sleep(1)
        pid = stack.pid("collector")
        seen = len(passes(log))
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(args.seconds)
        cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        steady = [s for _, c, s in passes(log)[seen:] if c >= want]
        print(
            f"collector: {len(steady)} passes over {args.streams} streams + {want} consumers; "
            f"pass time median {statistics.median(steady):.2f} s, max {max(steady):.2f} s "
            f"(target < 2 s)"
        )
        print(
            f"collector CPU: {cpu * 100:.1f}% of one core on average over {args.seconds} s "
            f"(target < 20%)"
        )
        await hub.close()
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--consumers", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    asyncio.run(main(parser.parse_args()))
