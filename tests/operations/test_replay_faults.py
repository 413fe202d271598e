"""The worker is killed with SIGKILL three times during a 100,000-message replay; afterwards the
destination holds every source message exactly once. The destination's duplicate window is one
second and each restart takes longer, so JetStream's de-duplication cannot be what saves it: the
resumed attempt's check of the destination is."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter

from tests.operations.conftest import fill, make_stream, read_all, start_replay, wait_operation

TOTAL = 100_000


async def wait_stored_beyond(js, stream: str, threshold: int, timeout: float = 120) -> int:
    """Waits until the destination holds ``threshold`` messages: the copy is mid-chunk then."""
    deadline = time.monotonic() + timeout
    while True:
        stored = (await js.stream_info(stream)).state.messages
        if stored >= threshold:
            return stored
        assert time.monotonic() < deadline, f"stuck at {stored}"
        await asyncio.sleep(0.1)


async def test_replay_survives_three_worker_kills_exactly_once(
    api, admin_headers, hub_cluster, hub_nc, stack, names
):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"k-{src}.>"], duplicate_window=1.0)
    await fill(js, [f"{src}.a", f"{src}.b", f"{src}.c"], TOTAL, size=64)

    restarts_before = stack.restarts.get("worker", 0)
    op_id = start_replay(
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "rate_limit": 8000,
            "destination": {"stream": dst, "subject_prefix": f"k-{src}"},
        },
    )["id"]
    for threshold in (15_000, 40_000, 65_000):
        await wait_stored_beyond(js, dst, threshold)
        stack.kill("worker")
    op = wait_operation(api, admin_headers, op_id, timeout=240)
    assert op["status"] == "completed", op
    assert op["result"]["replayed"] == TOTAL
    assert stack.restarts.get("worker", 0) >= restarts_before + 3
    # Each retried attempt checked the destination; messages a killed attempt had already stored
    # (beyond its last heartbeat) were found there and skipped.
    log = (stack.data_dir / "logs" / "worker.log").read_text()
    resumes = [
        line for line in log.splitlines() if f"replay-{op_id}" in line and "already stored" in line
    ]
    assert len(resumes) >= 3, resumes
    assert any(int(re.search(r"(\d+) already stored", line).group(1)) > 0 for line in resumes)

    msgs = await read_all(hub_nc, dst, batch=5000)
    seen = Counter(int(m.headers["Nats-Replay-Source"].split(":")[1]) for m in msgs)
    duplicated = [seq for seq, n in seen.items() if n > 1]
    missing = [seq for seq in range(1, TOTAL + 1) if seq not in seen]
    assert not duplicated, f"{len(duplicated)} duplicated, e.g. {duplicated[:5]}"
    assert not missing, f"{len(missing)} missing, e.g. {missing[:5]}"
    assert len(msgs) == TOTAL
    for m in msgs[:: TOTAL // 50]:  # payloads travel unchanged
        seq = int(m.headers["Nats-Replay-Source"].split(":")[1])
        assert m.data.startswith(f"{seq - 1}:".encode())

    # The killed attempts' ephemeral readers expire on the server: nothing durable remains.
    deadline = time.monotonic() + 30
    while (await js.stream_info(src)).state.consumer_count:
        assert time.monotonic() < deadline, "a consumer was left on the source"
        await asyncio.sleep(1)
