"""Real-time benchmark: 100 concurrent SSE clients of ``/api/v1/stream/metrics``; samples published
to ``JSC_LIVE`` with their send time; prints p50/p95/p99 of publish -> client received.

    .venv/bin/python bench/realtime.py              # starts a local stack in a temporary dir
    .venv/bin/python bench/realtime.py --clients 100 --samples 200 --interval 0.05

Every client subscribes to the same stream channel; each sample carries ``sent_at`` (the
publisher's clock, the same machine). Target: p99 under 100 ms. It prints the figures and never
asserts them; not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and would shadow the `api` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import httpx  # noqa: E402
import nats  # noqa: E402

ADMIN_EMAIL, ADMIN_PASSWORD = "bench@example.com", "bench-Pass-1234"


async def client(
    api_url: str,
    params: dict,
    latencies: list[float],
    ready: asyncio.Event,
    opened: list[int],
    want: int,
) -> None:
    seen = 0
    async with httpx.AsyncClient(base_url=api_url, timeout=httpx.Timeout(30, read=None)) as http:
        async with http.stream("GET", "/api/v1/stream/metrics", params=params) as reply:
            reply.raise_for_status()
            async for line in reply.aiter_lines():
                if line.startswith(": connected"):
                    opened.append(1)
                    ready.set()
                elif line.startswith("data:"):
                    sent = json.loads(line[5:]).get("sent_at")
                    if sent is not None:
                        latencies.append((time.time() - sent) * 1000)
                        seen += 1
                        if seen >= want:
                            return


async def run(api_url: str, internal_url: str, clients: int, samples: int, interval: float) -> None:
    from core.live import subjects
    from core.live.publisher import LivePublisher, ensure_live_stream
    from core.live.samples import StreamSample

    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        me = (await http.get("/api/v1/auth/me", headers=headers)).json()
        token = (await http.post("/api/v1/stream/token", headers=headers)).json()["token"]
    org, cluster, stream = me["organization"]["id"], str(uuid.uuid4()), "BENCH"
    # a cluster channel needs a registered cluster; the organization's `metrics` channel does not
    params = {"channels": "metrics", "token": token}
    latencies: list[float] = []
    opened: list[int] = []
    ready = asyncio.Event()
    tasks = [
        asyncio.create_task(client(api_url, params, latencies, ready, opened, samples))
        for _ in range(clients)
    ]
    deadline = time.monotonic() + 60
    while len(opened) < clients and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    print(f"{len(opened)} of {clients} clients connected", file=sys.stderr)
    nc = await nats.connect(internal_url)
    await ensure_live_stream(nc)
    live = LivePublisher(nc)
    subject = subjects.stream_sample(org, cluster, stream)
    for i in range(samples):
        sample = StreamSample(
            id=uuid.uuid4(),
            org_id=org,
            cluster_id=cluster,
            stream=stream,
            timestamp=datetime.now(UTC),
            messages=i,
            bytes=i,
            first_seq=1,
            last_seq=i,
            consumer_count=0,
        )
        body = {**sample.model_dump(mode="json"), "sent_at": time.time()}
        await live.publish(subject, body, uuid.uuid4().hex)
        await asyncio.sleep(interval)
    done, pending = await asyncio.wait(tasks, timeout=60)
    for task in pending:
        task.cancel()
    await nc.close()
    report(latencies, clients, samples)


def report(latencies: list[float], clients: int, samples: int) -> None:
    if len(latencies) < 2:
        print("no latencies measured")
        return
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    print(
        f"SSE clients: {clients}, samples: {samples}, deliveries: {len(latencies)} "
        f"(expected {clients * samples})"
    )
    print(
        f"publish -> received: p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {cuts[94]:.1f} ms, p99 {cuts[98]:.1f} ms, max {max(latencies):.1f} ms "
        "(target p99 < 100 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between samples")
    args = parser.parse_args()

    from stack.launcher import Stack

    data_dir = Path(tempfile.mkdtemp(prefix="jsc-bench-"))
    data_dir.chmod(0o755)  # PostgreSQL runs as an unprivileged user who must enter it
    stack = Stack(
        data_dir,
        ui=False,
        demo=False,
        auto_ports=True,
        env_overrides={
            "JSC_ADMIN_EMAIL": ADMIN_EMAIL,
            "JSC_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "JSC_RATE_LIMIT_PER_MINUTE": "1000000",
        },
    )
    print(f"starting a local stack in {data_dir} ...", file=sys.stderr)
    try:
        stack.start()
        asyncio.run(
            run(
                stack.api_url,
                stack.settings.events_nats_url,
                args.clients,
                args.samples,
                args.interval,
            )
        )
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
