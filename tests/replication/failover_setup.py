"""Failover tests' setup, made directly (not through the DR pair routes, built elsewhere): streams
on hub, the console's durable mirrors of them on dr (``core.replication.mirrors``), and the
``Mirror`` and ``DrPair`` rows; a publisher that follows the pair's active side; readers that
check a stream message by message; and the operation poller."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field

import nats
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NoStreamResponseError, NotFoundError

from core.db.models import DrPair, Mirror
from core.jetstream.api import JetStreamApi, JetStreamError
from core.replication.active_side import BUCKET
from core.replication.failover import CANARY_HEADER
from core.replication.mirrors import (
    consumer_name,
    deliver_subject,
    mirror_stream_config,
    source_consumer_config,
)
from core.replication.models import MirrorRequest
from tests.operations.conftest import read_all  # noqa: F401 (the failover tests read through it)

FINISHED = ("completed", "failed", "cancelled")


@dataclass
class Pair:
    id: str
    name: str
    streams: list[str]
    hub_id: str
    dr_id: str
    org_id: str
    made_on_hub: set[str] = field(default_factory=set)
    made_on_dr: set[str] = field(default_factory=set)


async def make_pair(
    hub_nc,
    dr_nc,
    db_sessions,
    org_id,
    hub_id: str,
    dr_id: str,
    streams: list[str],
    name: str | None = None,
) -> Pair:
    """Each stream on hub (subjects ``<stream>.>``), its console mirror on dr (same name), the
    rows, and the pair."""
    hub, dr = JetStreamApi(hub_nc, "hub"), JetStreamApi(dr_nc, "dr")
    pair_id = uuid.uuid4()
    rows = []
    for stream in streams:
        info = await hub.stream_create(
            {
                "name": stream,
                "subjects": [f"{stream}.>"],
                "storage": "file",
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
                org_id=uuid.UUID(str(org_id)),
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
    name = name or f"pair-{pair_id.hex[:8]}"
    async with db_sessions() as db, db.begin():
        db.add(
            DrPair(
                id=pair_id,
                org_id=uuid.UUID(str(org_id)),
                name=name,
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
    return Pair(str(pair_id), name, streams, hub_id, dr_id, str(org_id), set(streams), set(streams))


async def drop_streams(nc, prefix_of: list[str]) -> None:
    """Every stream whose name starts with one of the test's stream names (mirrors, drill copies,
    data kept aside included)."""
    js = JetStreamApi(nc)
    try:
        names = [s["config"]["name"] for s in await js.stream_list()]
    except Exception:  # the server is down: nothing to clean there now
        return
    for name in names:
        if any(name.startswith(p) for p in prefix_of):
            try:
                await js.stream_delete(name)
            except JetStreamError:
                pass


async def wait_mirrored(dr_nc, stream: str, last_seq: int, timeout: float = 60) -> None:
    dr = JetStreamApi(dr_nc)
    deadline = time.monotonic() + timeout
    while (await dr.stream_info(stream))["state"]["last_seq"] < last_seq:
        assert time.monotonic() < deadline, f"{stream} on dr never reached {last_seq}"
        await asyncio.sleep(0.05)


def start_failover(api, headers, body: dict, expect: int = 202):
    reply = api.post("/api/v1/operations/failover", json=body, headers=headers)
    assert reply.status_code == expect, reply.text
    return reply.json()


async def wait_operation(
    api,
    headers,
    op_id: str,
    until=FINISHED,
    timeout: float = 120,
    step: tuple[str, str] | None = None,
) -> dict:
    """The operation once its status is in ``until`` (or, with ``step``, once that step has that
    status)."""
    deadline = time.monotonic() + timeout
    while True:
        op = api.get(f"/api/v1/operations/{op_id}", headers=headers).json()
        if step is not None:
            steps = {s["name"]: s["status"] for s in (op.get("progress") or {}).get("steps") or []}
            if steps.get(step[0]) == step[1]:
                return op
        elif op["status"] in until:
            return op
        assert op["status"] not in FINISHED or step is None, f"ended before {step}: {op}"
        assert time.monotonic() < deadline, f"operation stayed {op['status']}: {op}"
        await asyncio.sleep(0.1)


def steps_of(op: dict) -> dict[str, str]:
    return {s["name"]: s["status"] for s in op["progress"]["steps"]}


def msg_ids(msgs) -> list[str]:
    """The ``Nats-Msg-Id`` of every message but the failover's canaries."""
    return [
        m.headers["Nats-Msg-Id"]
        for m in msgs
        if m.headers and CANARY_HEADER not in m.headers and "Nats-Msg-Id" in m.headers
    ]


async def stream_exists(nc, name: str) -> bool:
    try:
        await nc.jetstream().stream_info(name)
        return True
    except NotFoundError:
        return False


class Follower:
    """A publisher at a steady rate that follows the pair's active side: it watches the pair's
    key in ``jsc_dr_active`` on hub and publishes to the cluster the key names (``first`` until
    it changes; with ``first`` None, nothing until the key names one: a pair made through the API
    writes it when it is made), retrying a refused message (the fence: no responders) until it
    is acknowledged. ``acked`` maps each acknowledged ``Nats-Msg-Id`` to the side that stored
    it."""

    def __init__(
        self,
        urls: dict[str, str],
        watch_url: str,
        pair_id: str,
        streams: list[str],
        first: str | None,
        rate: float = 200,
    ):
        self.urls, self.watch_url, self.pair_id = urls, watch_url, pair_id
        self.streams, self.active, self.rate = streams, first, rate
        self.acked: dict[str, str] = {}
        self.refused = 0
        self.first_ack_at: dict[str, float] = {}
        self._stop = asyncio.Event()
        self._told = asyncio.Event()  # an active side is known (or the follower stops)
        if first is not None:
            self._told.set()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> Follower:
        self.conns = {side: await nats.connect(url) for side, url in self.urls.items()}
        self.watcher_nc = await nats.connect(self.watch_url)
        self._tasks = [asyncio.create_task(self._watch()), asyncio.create_task(self._publish())]
        return self

    async def _watch(self) -> None:
        kv = None
        while kv is None and not self._stop.is_set():
            try:
                kv = await self.watcher_nc.jetstream().key_value(BUCKET)
            except Exception:  # made when a pair is made through the API, or by a failover
                await asyncio.sleep(0.05)
        if kv is None:
            return
        watcher = await kv.watch(self.pair_id)
        while not self._stop.is_set():
            try:
                entry = await watcher.updates(timeout=0.5)
            except NatsTimeoutError:
                continue
            if entry is not None and entry.value:
                self.active = json.loads(entry.value)["active_cluster_id"]
                self._told.set()
        await watcher.stop()

    async def _publish(self) -> None:
        i = 0
        interval = 1 / self.rate
        next_at = time.monotonic()
        await self._told.wait()  # told by the key only
        next_at = time.monotonic()
        while not self._stop.is_set():
            stream = self.streams[i % len(self.streams)]
            msg_id = f"m-{i}"
            while not self._stop.is_set():
                side = self.active
                try:
                    await (
                        self.conns[side]
                        .jetstream()
                        .publish(
                            f"{stream}.data",
                            str(i).encode(),
                            timeout=2,
                            headers={"Nats-Msg-Id": msg_id},
                        )
                    )
                    self.acked[msg_id] = side
                    self.first_ack_at.setdefault(side, time.monotonic())
                    break
                except (NoRespondersError, NoStreamResponseError, NatsTimeoutError):
                    self.refused += 1
                    await asyncio.sleep(0.01)
            i += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def stop(self) -> None:
        self._stop.set()
        self._told.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for nc in [*self.conns.values(), self.watcher_nc]:
            await nc.close()


async def start_directly(
    stack,
    db_sessions,
    api,
    headers,
    body: dict,
    nats_by_domain: dict,
    start_signal: str | None = None,
) -> str:
    """Start a ``FailoverWorkflow`` the way the API does (the plan, the operation row, then the
    workflow), with a signal delivered with its start (e.g. ``pause``, to hold it before the
    fence). Returns the operation id; read it back through the API."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from core.db.models import Operation
    from core.operations import OperationContext, workflow_id_for
    from core.replication import planning
    from core.replication.models import FailoverRequest
    from workflows.failover import FailoverWorkflow
    from workflows.inputs import FailoverInput

    me = api.get("/api/v1/auth/me", headers=headers).json()
    org_id = uuid.UUID(me["organization"]["id"])

    async def connect(cluster):
        return JetStreamApi(nats_by_domain[cluster.jetstream_domain], cluster.jetstream_domain)

    async with db_sessions() as db:
        plan, primary, target = await planning.resolve(
            db, org_id, FailoverRequest.model_validate(body), connect
        )
    plan = plan.model_copy(
        update={
            "approval": "auto",
            "measured": await planning.measure(plan, await connect(primary), await connect(target)),
        }
    )
    op_id = uuid.uuid4()
    workflow_id = workflow_id_for("failover", op_id)
    async with db_sessions() as db, db.begin():
        db.add(
            Operation(
                id=op_id,
                org_id=org_id,
                type="failover",
                workflow_id=workflow_id,
                status="pending",
                progress={},
                input=plan.model_dump(mode="json"),
                cluster_id=target.id,
                started_by=uuid.UUID(me["id"]),
            )
        )
    context = OperationContext(
        operation_id=str(op_id),
        org_id=str(org_id),
        user_id=me["id"],
        user_email=me["email"],
        type="failover",
    )
    client = await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    await client.start_workflow(
        FailoverWorkflow.run,
        FailoverInput(context=context, plan=plan),
        id=workflow_id,
        task_queue=stack.settings.task_queue,
        start_signal=start_signal,
    )
    return str(op_id)


def signal(api, headers, op_id: str, name: str) -> None:
    reply = api.post(f"/api/v1/operations/{op_id}/{name}", headers=headers)
    assert reply.status_code == 200, reply.text
