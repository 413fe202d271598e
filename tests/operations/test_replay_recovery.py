"""Replay recovery that does not depend on the machine's speed: five worker kills at random
moments (one while a resumed attempt is still checking the destination), a NATS server restart,
reads that time out, a replay long enough to continue as new, live progress while a chunk runs,
and a count that always adds up. Every wait is on a condition with a generous deadline."""

from __future__ import annotations

import asyncio
import os
import random
import time
from functools import partial

from core.jetstream.api import JetStreamApi
from core.replay.models import ReplayCarry
from core.replay.source import ConsumerReader
from tests.operations.conftest import (
    fill,
    make_stream,
    read_all,
    source_seqs,
    start_replay,
    start_replay_with,
    wait_operation,
)
from tests.waiting import wait_until_async
from workflows.replay import CHUNK_HEARTBEAT_TIMEOUT

KILLS = 5


class WorkerLog:
    """Follows the worker's log file: lines appended since the test started."""

    def __init__(self, stack):
        self.path = stack.data_dir / "logs" / "worker.log"
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def new_lines(self) -> list[str]:
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        return data[:end].decode(errors="replace").splitlines()

    def skip_to_end(self) -> None:
        self.offset = self.path.stat().st_size

    def count(self, text: str) -> int:
        return self.path.read_text(errors="replace").count(text)


wait_for = partial(wait_until_async, timeout=180.0, every=0.05)


async def stored(js, stream: str) -> int:
    return (await js.stream_info(stream)).state.messages


def assert_exactly_once(msgs, total: int) -> None:
    seen = source_seqs(msgs)
    duplicated = [seq for seq, n in seen.items() if n > 1]
    missing = [seq for seq in range(1, total + 1) if seq not in seen]
    assert not duplicated, f"{len(duplicated)} duplicated, e.g. {duplicated[:5]}"
    assert not missing, f"{len(missing)} missing, e.g. {missing[:5]}"
    assert len(msgs) == total


async def timed_replay(api, headers, body: dict, timeout: float) -> tuple[dict, float]:
    started = time.monotonic()
    op_id = start_replay(api, headers, body)["id"]
    op = await asyncio.to_thread(wait_operation, api, headers, op_id, timeout=timeout)
    return op, time.monotonic() - started


async def restart_worker(stack, log: WorkerLog) -> float:
    """SIGKILL the worker; returns how long until a new one polls again."""
    polling = log.count("worker polling task queue")
    log.skip_to_end()  # what follows is the killed attempt's last words and the retry's
    killed = time.monotonic()
    stack.kill("worker")
    await wait_for(
        lambda: _async(log.count("worker polling task queue") > polling),
        "the restarted worker",
        timeout=120,
        every=0.1,
    )
    return time.monotonic() - killed


async def _async(value):
    return value


async def test_replay_survives_five_random_kills_exactly_once(
    api, admin_headers, hub_cluster, hub_nc, stack, names
):
    total = 300_000
    seed = int(os.environ.get("JSC_FAULT_SEED", random.randrange(1_000_000)))
    print(f"\nfault seed {seed} (JSC_FAULT_SEED={seed} repeats this run)")
    rng = random.Random(seed)
    src, dst, base = names["src"], names["dst"], f"base-{names['tag']}"
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"k-{src}.>"], duplicate_window=1.0)
    await make_stream(hub_nc, base, [f"b-{src}.>"], duplicate_window=1.0)
    await fill(js, [f"{src}.a", f"{src}.b", f"{src}.c"], total, size=64)

    # The same replay without kills, on this machine, now: the yardstick.
    op, baseline = await timed_replay(
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "destination": {"stream": base, "subject_prefix": f"b-{src}"},
        },
        timeout=600,
    )
    assert op["status"] == "completed" and op["result"]["replayed"] == total, op

    log = WorkerLog(stack)
    thresholds = sorted(rng.sample(range(total // 20, total * 9 // 10), KILLS - 1))
    verifying_kill = rng.randrange(1, KILLS)  # this kill waits for a resumed attempt's check
    print(
        f"kills when the destination holds {thresholds}; kill #{verifying_kill + 1} lands "
        f"while a resumed attempt verifies"
    )
    started = time.monotonic()
    op_id = start_replay(
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "destination": {"stream": dst, "subject_prefix": f"k-{src}"},
        },
    )["id"]
    restart_costs: list[float] = []
    landed_mid_check = False
    pending = list(thresholds)
    for kill in range(KILLS):
        if kill == verifying_kill:
            await wait_for(
                lambda: _async(
                    any(
                        "verifying the destination" in line and op_id in line
                        for line in log.new_lines()
                    )
                ),
                "a resumed attempt checking the destination",
                every=0.01,
            )
            restart_costs.append(await restart_worker(stack, log))
            landed_mid_check = not any(
                "already stored" in line and op_id in line for line in log.new_lines()
            )
            continue
        threshold = pending.pop(0)
        await wait_for(
            lambda threshold=threshold: _async_stored_beyond(js, dst, threshold),
            f"{threshold} stored",
        )
        restart_costs.append(await restart_worker(stack, log))
    op = await asyncio.to_thread(wait_operation, api, admin_headers, op_id, timeout=900)
    elapsed = time.monotonic() - started
    print(
        f"baseline {baseline:.1f} s; with {KILLS} kills {elapsed:.1f} s; restarts "
        f"{[round(c, 1) for c in restart_costs]} s; the verifying kill landed mid-check: "
        f"{landed_mid_check}"
    )
    assert op["status"] == "completed", op
    assert op["result"]["replayed"] == total and op["result"]["missing"] is None, op["result"]
    assert_exactly_once(await read_all(hub_nc, dst, batch=5000), total)
    # Recovery is bounded: each kill costs its restart and Temporal's notice of the dead
    # worker, never a replay of the work done so far.
    notice = CHUNK_HEARTBEAT_TIMEOUT.total_seconds()
    assert elapsed <= 2 * baseline + sum(restart_costs) + KILLS * notice, (
        elapsed,
        baseline,
        restart_costs,
    )


async def _async_stored_beyond(js, stream: str, threshold: int) -> bool:
    return await stored(js, stream) >= threshold


async def test_replay_survives_a_nats_restart(
    api, admin_headers, hub_cluster, hub_nc, stack, names
):
    total = 60_000
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"n-{src}.>"], duplicate_window=1.0)
    await fill(js, [f"{src}.a", f"{src}.b"], total, size=64)
    op_id = start_replay(
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "rate_limit": 6000,
            "destination": {"stream": dst, "subject_prefix": f"n-{src}"},
        },
    )["id"]
    await wait_for(lambda: _async_stored_beyond(js, dst, 15_000), "15,000 stored")
    stack.stop_service("hub")
    stack.start_service("hub")
    op = await asyncio.to_thread(wait_operation, api, admin_headers, op_id, timeout=600)
    assert op["status"] == "completed", (op["error"], op["result"])
    assert op["result"]["replayed"] == total, op["result"]
    await wait_for(lambda: _async(hub_nc.is_connected), "the test's own reconnection")
    assert_exactly_once(await read_all(hub_nc, dst, batch=5000), total)


async def test_reads_that_time_out_never_end_the_range(stack, hub_nc, names):
    """A fetch that times out is not the end of the range: with a fetch timeout far shorter than
    the server needs to answer, most fetches time out, and every message is still read."""
    src = names["src"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await fill(js, [f"{src}.a", f"{src}.b"], 20_000, size=512)
    api = JetStreamApi(hub_nc)
    reader = ConsumerReader(api, src, [], fetch_timeout=0.002)
    seqs = []
    try:
        async for msg in reader.read(1, 20_000):
            seqs.append(msg.seq)
    finally:
        await reader.close()
    assert seqs == list(range(1, 20_001))
    filtered = ConsumerReader(api, src, [f"{src}.b"], fetch_timeout=0.002)
    try:
        got = [msg.seq async for msg in filtered.read(1, 20_000)]
    finally:
        await filtered.close()
    assert got == list(range(2, 20_001, 2))


async def test_progress_is_live_while_a_chunk_runs(
    api, admin_headers, hub_cluster, hub_nc, stack, db_sessions, names
):
    total = 12_000
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"p-{src}.>"])
    await fill(js, [f"{src}.a"], total)
    # One chunk for the whole replay: the workflow learns nothing until it ends.
    op_id = await start_replay_with(
        stack,
        db_sessions,
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "rate_limit": 1500,
            "destination": {"stream": dst, "subject_prefix": f"p-{src}"},
        },
        ReplayCarry(chunk_seconds=600),
    )
    seen: list[dict] = []
    deadline = time.monotonic() + 300
    while True:
        op = api.get(f"/api/v1/operations/{op_id}", headers=admin_headers).json()
        if op["status"] in ("completed", "failed", "cancelled"):
            break
        progress = op["progress"]
        if 0 < (progress.get("done") or 0) < total:
            seen.append(progress)
        assert time.monotonic() < deadline, op
        await asyncio.sleep(0.3)
    assert op["status"] == "completed" and op["result"]["replayed"] == total, op
    dones = [p["done"] for p in seen]
    assert len(set(dones)) >= 3, f"progress did not move while the chunk ran: {dones}"
    assert dones == sorted(dones)
    assert any((p.get("rate_per_s") or 0) > 0 and p.get("eta_s") is not None for p in seen), seen


async def test_a_purged_range_is_explained_in_the_result(
    api, admin_headers, hub_cluster, hub_nc, names
):
    total = 20_000
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"m-{src}.>"])
    await fill(js, [f"{src}.a"], total)
    op_id = start_replay(
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "rate_limit": 1000,
            "destination": {"stream": dst, "subject_prefix": f"m-{src}"},
        },
    )["id"]
    await wait_for(lambda: _async_stored_beyond(js, dst, 1), "the first copy")
    await js.purge_stream(src, seq=15_000)  # removes 1..14,999, most of them not yet read
    op = await asyncio.to_thread(wait_operation, api, admin_headers, op_id, timeout=300)
    result = op["result"]
    assert op["status"] == "completed", op
    assert result["planned"] == total
    assert result["replayed"] < total
    assert result["missing"]["count"] == total - result["replayed"] - result["failed"]
    assert "removed from the source" in result["missing"]["reason"]
