"""Benchmark: replay 1,000,000 messages of 1 KB between two file streams on the local stack.

Prints the replay operation's rate (API → Temporal → worker → NATS, unthrottled) beside the rate
of a plain nats-py loop doing the same work with the same batching and no Temporal (an ephemeral
AckNone pull consumer fetching ``BATCH`` at a time, pipelined publishes with ``WINDOW``
acknowledgements outstanding: the replay's own constants), and beside the cheapest copy the
machine allows (the minimal loop: 1,000-message fetches, raw pipelined publishes with the same
headers, acknowledgements counted in a callback), all measured in the same run, with the ratios.
Then it runs the replay again with the worker SIGKILLed half-way and prints what the kill cost
(target: under 5 s). With ``--rate N`` it also replays at a rate limit for ``--rate-seconds`` and
prints the rate held over that span.

    .venv/bin/python bench/replay.py [--messages 1000000] [--size 1024] [--rate 5000]

It starts its own stack (free ports, a temporary data dir) and never runs in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import httpx
import nats
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.replay.pipeline import WINDOW  # noqa: E402
from core.replay.publisher import AsyncPublisher  # noqa: E402
from core.replay.source import BATCH  # noqa: E402
from stack.launcher import Stack  # noqa: E402

PASSWORD = "bench-Pass-1234"


async def fill(js, subject: str, count: int, size: int) -> None:
    payload = b"x" * size
    pending = []
    for _ in range(count):
        pending.append(await js.publish_async(subject, payload))
        if len(pending) >= 4000:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)


async def plain_loop(nc, source: str, dest_prefix: str, count: int) -> float:
    """The baseline: the same pipeline written directly against nats-py."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        "",
        stream=source,
        config=ConsumerConfig(ack_policy=AckPolicy.NONE, mem_storage=True, inactive_threshold=10),
    )
    publisher = await AsyncPublisher(nc).start()
    window: deque = deque()
    done = 0
    started = time.perf_counter()
    while done < count:
        for msg in await sub.fetch(BATCH, timeout=5):
            window.append(
                await publisher.publish(
                    f"{dest_prefix}.{msg.subject}",
                    msg.data,
                    {"Nats-Msg-Id": f"base-{msg.metadata.sequence.stream}"},
                )
            )
            done += 1
            if len(window) >= WINDOW:
                await publisher.ack(window.popleft(), 10)
    for token in window:
        await publisher.ack(token, 10)
    elapsed = time.perf_counter() - started
    await sub.unsubscribe()
    await publisher.close()
    return count / elapsed


async def minimal_loop(nc, source: str, dest_prefix: str, count: int, dest: str) -> float:
    """The cheapest copy this machine allows: 1,000-message fetches and raw pipelined publishes
    carrying the replay's headers, acknowledgements counted in a callback (no future, no object
    per message beyond what the client makes)."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        "",
        stream=source,
        config=ConsumerConfig(ack_policy=AckPolicy.NONE, mem_storage=True, inactive_threshold=10),
    )
    inbox = nc.new_inbox()
    acked = 0
    room = asyncio.Event()

    async def on_ack(_msg) -> None:
        nonlocal acked
        acked += 1
        room.set()

    ack_sub = await nc.subscribe(f"{inbox}.*", cb=on_ack)
    sent = 0
    started = time.perf_counter()
    while sent < count:
        for msg in await sub.fetch(1000, timeout=5):
            meta = msg.metadata
            seq = meta.sequence.stream
            await nc.publish(
                f"{dest_prefix}.{msg.subject}",
                msg.data,
                reply=f"{inbox}.{seq}",
                headers={
                    "Nats-Expected-Stream": dest,
                    "Nats-Msg-Id": f"min-{seq}",
                    "Nats-Replay-Source": f"{source}:{seq}",
                    "Nats-Replay-Original-Time": meta.timestamp.isoformat(),
                },
            )
            sent += 1
            while sent - acked >= WINDOW:
                room.clear()
                await room.wait()
    while acked < count:
        room.clear()
        await room.wait()
    elapsed = time.perf_counter() - started
    await ack_sub.unsubscribe()
    await sub.unsubscribe()
    return count / elapsed


async def wait_finished(api: httpx.AsyncClient, headers: dict, op_id: str) -> dict:
    """Polls as the UI does (each read of a running operation queries its workflow)."""
    while True:
        op = (await api.get(f"/api/v1/operations/{op_id}", headers=headers)).json()
        if op["status"] in ("completed", "failed", "cancelled"):
            return op
        await asyncio.sleep(0.5)


async def replay_rate(api, headers, body: dict, count: int, nc=None) -> tuple[float, dict]:
    """The operation's rate from the request to its completion as read back; with ``nc``, also
    prints the steady rate at the destination (between 10% and 90% of the messages stored)."""
    sampler = (
        asyncio.create_task(steady_rate(nc, body["destination"]["stream"], count)) if nc else None
    )
    started = time.perf_counter()
    reply = await api.post("/api/v1/operations/replay", json=body, headers=headers)
    reply.raise_for_status()
    op = await wait_finished(api, headers, reply.json()["id"])
    elapsed = time.perf_counter() - started
    assert op["status"] == "completed", op
    if sampler:
        print(f"  steady at the destination: {await sampler:,.0f} msg/s")
    return count / elapsed, op


async def steady_rate(nc, stream: str, count: int) -> float:
    js = nc.jetstream()
    marks: dict[float, tuple[float, int]] = {}
    while len(marks) < 2:
        stored = (await js.stream_info(stream)).state.messages
        for fraction in (0.1, 0.9):
            if stored >= count * fraction and fraction not in marks:
                marks[fraction] = (time.perf_counter(), stored)
        await asyncio.sleep(0.05)
    (t0, n0), (t1, n1) = marks[0.1], marks[0.9]
    return (n1 - n0) / (t1 - t0)


async def kill_recovery(
    stack, api, headers, nc, cluster_id: str, count: int, unkilled_s: float
) -> None:
    """The same replay with the worker SIGKILLed once, half-way: how much longer it took, and
    how long from the kill until the retried attempt was copying again (Temporal noticing the
    dead worker, the restart, the lease, the destination check)."""
    js = nc.jetstream()
    log = stack.data_dir / "logs" / "worker.log"
    started = time.perf_counter()
    reply = await api.post(
        "/api/v1/operations/replay",
        headers=headers,
        json={
            "cluster_id": cluster_id,
            "stream": "bench-src",
            "destination": {"stream": "bench-kill", "subject_prefix": "kill"},
        },
    )
    reply.raise_for_status()
    op_id = reply.json()["id"]
    while (await js.stream_info("bench-kill")).state.messages < count // 2:
        await asyncio.sleep(0.02)
    offset = log.stat().st_size
    killed = time.perf_counter()
    stack.kill("worker")
    resumed = None
    while resumed is None:
        with log.open() as f:
            f.seek(offset)
            if any("already stored" in line and op_id in line for line in f):
                resumed = time.perf_counter() - killed
        await asyncio.sleep(0.05)
    op = await wait_finished(api, headers, op_id)
    elapsed = time.perf_counter() - started
    assert op["status"] == "completed" and op["result"]["replayed"] == count, op
    print(
        f"one worker kill:      {elapsed:>10.1f} s  (+{elapsed - unkilled_s:.1f} s over the "
        f"run without; copying again {resumed:.1f} s after the kill, restart included)"
    )


async def held_rate(api, headers, nc, body: dict, dest: str, seconds: float) -> float:
    """Replays at ``body['rate_limit']``; the rate measured at the destination over ``seconds``."""
    js = nc.jetstream()
    reply = await api.post("/api/v1/operations/replay", json=body, headers=headers)
    reply.raise_for_status()
    op_id = reply.json()["id"]
    while (await js.stream_info(dest)).state.messages == 0:
        await asyncio.sleep(0.05)
    await asyncio.sleep(2)  # past the first chunk's start
    first, t0 = (await js.stream_info(dest)).state.messages, time.perf_counter()
    await asyncio.sleep(seconds)
    last, t1 = (await js.stream_info(dest)).state.messages, time.perf_counter()
    await api.post(f"/api/v1/operations/{op_id}/cancel", headers=headers)
    await wait_finished(api, headers, op_id)
    return (last - first) / (t1 - t0)


async def main(args) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="jsc-bench-"))
    stack = Stack(
        data_dir,
        ui=False,
        demo=False,
        auto_ports=True,
        env_overrides={"JSC_ADMIN_PASSWORD": PASSWORD, "JSC_ACCESS_TOKEN_TTL_S": "86400"},
    )
    stack.start()
    try:
        hub = stack.env["JSC_HUB_URL"]
        nc = await nats.connect(hub)
        js = nc.jetstream(timeout=30)
        big = StreamConfig(storage=StorageType.FILE, duplicate_window=120, max_bytes=-1)
        await js.add_stream(big, name="bench-src", subjects=["bench.src.>"])
        for name, prefix in (
            ("bench-base", "base"),
            ("bench-min", "min"),
            ("bench-dst", "dst"),
            ("bench-kill", "kill"),
            ("bench-rate", "rate"),
        ):
            await js.add_stream(big, name=name, subjects=[f"{prefix}.>"])
        t = time.perf_counter()
        await fill(js, "bench.src.orders", args.messages, args.size)
        print(f"filled {args.messages:,} × {args.size} B in {time.perf_counter() - t:.1f} s")

        async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as api:
            token = (
                await api.post(
                    "/api/v1/auth/login", json={"email": stack.admin_email, "password": PASSWORD}
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            cluster = (
                await api.post(
                    "/api/v1/clusters",
                    headers=headers,
                    json={"name": "bench-hub", "environment": "development", "server_urls": [hub]},
                )
            ).json()

            baseline = await plain_loop(nc, "bench-src", "base", args.messages)
            print(f"plain nats-py loop:   {baseline:>10,.0f} msg/s")
            minimal = await minimal_loop(nc, "bench-src", "min", args.messages, "bench-min")
            print(f"minimal copy loop:    {minimal:>10,.0f} msg/s")
            rate, op = await replay_rate(
                api,
                headers,
                {
                    "cluster_id": cluster["id"],
                    "stream": "bench-src",
                    "destination": {"stream": "bench-dst", "subject_prefix": "dst"},
                },
                args.messages,
                nc,
            )
            print(
                f"replay operation:     {rate:>10,.0f} msg/s  "
                f"({args.messages / rate:.1f} s for {args.messages:,}; "
                f"replayed {op['result']['replayed']:,})"
            )
            print(f"ratio replay/plain:   {rate / baseline:>10.2f}")
            print(f"ratio replay/minimal: {rate / minimal:>10.2f}")
            if not args.no_kill:
                await kill_recovery(
                    stack, api, headers, nc, cluster["id"], args.messages, args.messages / rate
                )
            if args.rate:
                held = await held_rate(
                    api,
                    headers,
                    nc,
                    {
                        "cluster_id": cluster["id"],
                        "stream": "bench-src",
                        "rate_limit": args.rate,
                        "destination": {"stream": "bench-rate", "subject_prefix": "rate"},
                    },
                    "bench-rate",
                    args.rate_seconds,
                )
                print(
                    f"rate limit {args.rate:,}/s held at {held:,.0f}/s "
                    f"over {args.rate_seconds:.0f} s "
                    f"({(held - args.rate) / args.rate:+.1%})"
                )
        await nc.close()
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rate", type=float, default=0, help="also check a rate limit (msg/s)")
    parser.add_argument("--rate-seconds", type=float, default=60)
    parser.add_argument("--no-kill", action="store_true", help="skip the worker-kill run")
    asyncio.run(main(parser.parse_args()))
