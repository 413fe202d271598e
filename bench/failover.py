"""Benchmark: disaster-recovery failover of a pair of 10 streams under a steady publisher.

A publisher writes at a steady rate (default 2,000 msg/s, spread over the 10 streams, one
``Nats-Msg-Id`` per message) and follows the pair's active side as the README shows: it watches
the pair's key in ``jsc_dr_active`` on both clusters and publishes where it says, retrying a
message the fence refused. The pair is a production one, so each operation waits for approval and
a second admin approves it through the API. It runs, in order:

1. a drill (hub → dr, on copies): the drill's own RTO and RPO, and whether the publisher noticed;
2. a planned failover hub → dr with ``reverse``;
3. the fail-back dr → hub with ``reverse``;

and prints for each failover the RTO as a client sees it (from the approval to the first publish
accepted on the new side), the write gap (last acknowledgement on the old side to the first on
the new one), the operation's own RTO (fence point to canary), and the messages lost and
duplicated, counted message by message on the new primary. Target on the local stack: RTO under
3 s, none lost, none duplicated.

    .venv/bin/python bench/failover.py [--rate 2000] [--streams 10] [--warmup 5]

It starts its own stack (free ports, a temporary data dir) and never runs in the test suite. The
pair and its mirrors are made directly (``core.replication.mirrors`` and the ``dr_pairs`` /
``mirrors`` rows), as the tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import nats
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NoStreamResponseError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db.base import make_engine, make_sessionmaker  # noqa: E402
from core.db.models import DrPair, Mirror  # noqa: E402
from core.jetstream.api import JetStreamApi  # noqa: E402
from core.replication.active_side import BUCKET  # noqa: E402
from core.replication.failover import CANARY_HEADER  # noqa: E402
from core.replication.mirrors import (  # noqa: E402
    consumer_name,
    deliver_subject,
    mirror_stream_config,
    source_consumer_config,
)
from core.replication.models import MirrorRequest  # noqa: E402
from stack.launcher import Stack  # noqa: E402

PASSWORD = "bench-Pass-1234"


class Follower:
    """Publishers (one per stream) at ``rate`` in all, following the active side."""

    def __init__(
        self, urls: dict[str, str], pair_id: str, streams: list[str], first: str, rate: float
    ):
        self.urls, self.pair_id, self.streams, self.rate = urls, pair_id, streams, rate
        self.active, self.epoch = first, 0
        self.acked: dict[str, str] = {}
        self.acks: list[tuple[float, str]] = []  # (time, side) of every acknowledgement
        self.refused = self.timeouts = 0
        self.stop_event = asyncio.Event()

    async def start(self) -> Follower:
        self.conns = {cid: await nats.connect(url) for cid, url in self.urls.items()}
        self.tasks = [asyncio.create_task(self.watch(nc)) for nc in self.conns.values()]
        self.tasks += [asyncio.create_task(self.publish(s)) for s in self.streams]
        return self

    async def watch(self, nc) -> None:
        while not self.stop_event.is_set():
            try:
                watcher = await (await nc.jetstream().key_value(BUCKET)).watch(self.pair_id)
                break
            except Exception:  # the first failover makes the bucket
                await asyncio.sleep(0.2)
        else:
            return
        while not self.stop_event.is_set():
            try:
                entry = await watcher.updates(timeout=0.5)
            except NatsTimeoutError:
                continue
            if entry and entry.value:
                value = json.loads(entry.value)
                if value["epoch"] > self.epoch:
                    self.active, self.epoch = value["active_cluster_id"], value["epoch"]

    async def publish(self, stream: str) -> None:
        interval = len(self.streams) / self.rate
        next_at, n = time.monotonic(), 0
        while not self.stop_event.is_set():
            msg_id = f"{stream}-{n}"
            while not self.stop_event.is_set():
                side = self.active
                try:
                    await (
                        self.conns[side]
                        .jetstream()
                        .publish(
                            f"{stream}.data", b"x" * 128, headers={"Nats-Msg-Id": msg_id}, timeout=2
                        )
                    )
                    self.acked[msg_id] = side
                    self.acks.append((time.monotonic(), side))
                    break
                except (NoRespondersError, NoStreamResponseError):
                    self.refused += 1
                    await asyncio.sleep(0.005)
                except NatsTimeoutError:
                    self.timeouts += 1
            n += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def first_on(self, side: str, after: float) -> float | None:
        return next((t for t, s in self.acks if s == side and t >= after), None)

    def last_on(self, side: str, before: float) -> float | None:
        return next((t for t, s in reversed(self.acks) if s == side and t <= before), None)

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for nc in self.conns.values():
            await nc.close()


async def make_pair(
    hub_nc, dr_nc, db_url: str, org_id: str, hub_id: str, dr_id: str, streams: list[str]
) -> str:
    hub, dr = JetStreamApi(hub_nc, "hub"), JetStreamApi(dr_nc, "dr")
    pair_id, rows = uuid.uuid4(), []
    for stream in streams:
        info = await hub.stream_create(
            {
                "name": stream,
                "subjects": [f"{stream}.>"],
                "storage": "file",
                "num_replicas": 1,
                "duplicate_window": 120 * 10**9,
            }
        )
        mirror_id = uuid.uuid4()
        request = MirrorRequest(
            source_cluster_id=uuid.UUID(hub_id),
            source_stream=stream,
            target_cluster_id=uuid.UUID(dr_id),
            target_stream=stream,
        )
        await hub.consumer_create(stream, source_consumer_config(request, mirror_id, 0))
        await dr.stream_create(
            mirror_stream_config(request, mirror_id, info["config"], "hub", cross_domain=True)
        )
        rows.append(
            Mirror(
                id=mirror_id,
                org_id=uuid.UUID(org_id),
                source_cluster_id=uuid.UUID(hub_id),
                source_stream=stream,
                target_cluster_id=uuid.UUID(dr_id),
                target_stream=stream,
                consumer_name=consumer_name(mirror_id),
                deliver_subject=deliver_subject(mirror_id),
                spec=request.model_dump(mode="json"),
                state="active",
                pair_id=pair_id,
            )
        )
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as db, db.begin():
        db.add(
            DrPair(
                id=pair_id,
                org_id=uuid.UUID(org_id),
                name="bench-pair",
                primary_cluster_id=uuid.UUID(hub_id),
                standby_cluster_id=uuid.UUID(dr_id),
                active_cluster_id=uuid.UUID(hub_id),
                streams=[{"stream": s, "mirror_stream": s} for s in streams],
                rpo_seconds=5,
                rto_seconds=30,
            )
        )
        await db.flush()
        db.add_all(rows)
    await engine.dispose()
    return str(pair_id)


async def read_ids(nc, stream: str) -> list[str]:
    js = nc.jetstream()
    info = await js.stream_info(stream)
    sub = await js.pull_subscribe(
        "",
        stream=stream,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            inactive_threshold=10,
            mem_storage=True,
            headers_only=True,
        ),
    )
    ids: list[str] = []
    seen = 0
    try:
        while seen < info.state.messages:
            batch = await sub.fetch(5000, timeout=5)
            seen += len(batch)
            ids += [
                m.headers["Nats-Msg-Id"]
                for m in batch
                if m.headers and CANARY_HEADER not in m.headers
            ]
    finally:
        await sub.unsubscribe()
    return ids


async def lost_and_duplicated(nc, streams: list[str], acked: set[str]) -> tuple[int, int]:
    stored: Counter = Counter()
    for stream in streams:
        stored.update(await read_ids(nc, stream))
    return len(acked - set(stored)), sum(n - 1 for n in stored.values() if n > 1)


class Console:
    def __init__(self, api: httpx.AsyncClient, admin: dict, approver: dict):
        self.api, self.admin, self.approver = api, admin, approver

    async def run(self, body: dict) -> tuple[float, dict]:
        """Ask, approve (the moment returned), and wait for the operation's end."""
        asked = await self.api.post("/api/v1/operations/failover", json=body, headers=self.admin)
        asked.raise_for_status()
        pending = asked.json()
        assert pending["status"] == "waiting_approval", pending
        approved_at = time.monotonic()
        vote = await self.api.post(
            f"/api/v1/approvals/{pending['request_id']}/approve",
            headers=self.approver,
            json={"comment": "bench"},
        )
        vote.raise_for_status()
        while True:  # the failover operation exists once the request is executed
            request = (
                await self.api.get(f"/api/v1/approvals/{pending['request_id']}", headers=self.admin)
            ).json()
            if request["status"] in ("executed", "failed"):
                break
            await asyncio.sleep(0.1)
        op_id = str(uuid.uuid5(uuid.UUID(pending["request_id"]), "failover"))
        while True:
            op = (await self.api.get(f"/api/v1/operations/{op_id}", headers=self.admin)).json()
            if op.get("status") in ("completed", "failed", "cancelled"):
                return approved_at, op
            await asyncio.sleep(0.2)


async def login(api: httpx.AsyncClient, email: str, password: str) -> dict:
    reply = await api.post("/api/v1/auth/login", json={"email": email, "password": password})
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


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
    follower = None
    try:
        urls = {"hub": stack.env["JSC_HUB_URL"], "dr": stack.env["JSC_DR_URL"]}
        hub_nc, dr_nc = await nats.connect(urls["hub"]), await nats.connect(urls["dr"])
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as api:
            admin = await login(api, stack.admin_email, PASSWORD)
            me = (await api.get("/api/v1/auth/me", headers=admin)).json()
            invited = await api.post(
                "/api/v1/users/invite",
                headers=admin,
                json={"email": "approver@example.com", "role": "admin"},
            )
            invited.raise_for_status()
            (
                await api.post(
                    "/api/v1/auth/register",
                    json={"token": invited.json()["token"], "password": PASSWORD},
                )
            ).raise_for_status()
            approver = await login(api, "approver@example.com", PASSWORD)
            ids = {}
            for side in ("hub", "dr"):
                made = await api.post(
                    "/api/v1/clusters",
                    headers=admin,
                    json={
                        "name": f"bench-{side}",
                        "environment": "production",
                        "server_urls": [urls[side]],
                        "jetstream_domain": side,
                    },
                )
                made.raise_for_status()
                ids[side] = made.json()["id"]
            streams = [f"bench-dr-{i}" for i in range(args.streams)]
            pair_id = await make_pair(
                hub_nc,
                dr_nc,
                stack.env["JSC_DATABASE_URL"],
                me["organization"]["id"],
                ids["hub"],
                ids["dr"],
                streams,
            )
            console = Console(api, admin, approver)
            follower = await Follower(
                {ids["hub"]: urls["hub"], ids["dr"]: urls["dr"]},
                pair_id,
                streams,
                ids["hub"],
                args.rate,
            ).start()
            await asyncio.sleep(args.warmup)
            sent_before = len(follower.acked)
            t = time.monotonic()
            await asyncio.sleep(2)
            print(
                f"publisher: {(len(follower.acked) - sent_before) / (time.monotonic() - t):,.0f}"
                f" msg/s over {args.streams} streams, following the active side"
            )

            refused = follower.refused
            _, drill = await console.run(
                {"pair_id": pair_id, "target_cluster_id": ids["dr"], "drill": True}
            )
            result = drill["result"]
            print(
                f"drill:      {drill['status']}; RTO {result['rto_s']:.3f} s (fence point to "
                f"canary on the copies), RPO {result['data_loss_messages']} message(s); "
                f"publishes refused meanwhile: {follower.refused - refused}"
            )

            for name, old, new, nc in (
                ("failover", "hub", "dr", dr_nc),
                ("fail-back", "dr", "hub", hub_nc),
            ):
                approved_at, op = await console.run(
                    {
                        "pair_id": pair_id,
                        "target_cluster_id": ids[new],
                        "mode": "planned",
                        "reverse": True,
                        "fence_timeout_s": 30,
                    }
                )
                while follower.first_on(ids[new], approved_at) is None:
                    await asyncio.sleep(0.05)
                first = follower.first_on(ids[new], approved_at)
                last_old = follower.last_on(ids[old], first)
                await asyncio.sleep(1)
                acked = set(follower.acked)
                lost, dup = await lost_and_duplicated(nc, streams, acked)
                result = op["result"]
                print(
                    f"{name + ':':11} {op['status']}; RTO {first - approved_at:.3f} s (approval "
                    f"to the first publish accepted on {new}), write gap "
                    f"{first - last_old:.3f} s, operation's own RTO {result['rto_s']:.3f} s "
                    f"(fence to canary); lost {lost}, duplicated {dup} of {len(acked):,} "
                    f"acknowledged; refused and retried {follower.refused - refused}, "
                    f"timeouts {follower.timeouts}"
                )
                refused = follower.refused
    finally:
        if follower is not None:
            await follower.stop()
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--warmup", type=float, default=5, help="seconds before the drill")
    asyncio.run(main(parser.parse_args()))
