"""``gitops.live.read_live`` against the real hub cluster: resources made with nats-py (as another
client would) read back in the shapes the loader validates, so git and the cluster compare equal
when they say the same thing, and differ by exactly the fields that differ."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from nats.js.api import ConsumerConfig, KeyValueConfig, ObjectStoreConfig, StreamConfig

from core.jetstream.api import JetStreamApi
from gitops.live import desired_of, read_live
from gitops.loader import load_tree
from gitops.planner import plan


@pytest.fixture
def prefix() -> str:
    return f"LIVE{uuid.uuid4().hex[:8].upper()}"


@pytest.fixture
async def resources(hub_nc, prefix):
    """A stream with a durable and an ephemeral consumer, a KV bucket and an object store."""
    js = hub_nc.jetstream()
    await js.add_stream(StreamConfig(name=f"{prefix}_ORDERS", subjects=[f"{prefix}.orders.>"],
                                     max_age=3600, max_bytes=10_000_000, storage="file",
                                     duplicate_window=60, description="orders"))
    await js.add_consumer(f"{prefix}_ORDERS", ConsumerConfig(
        durable_name="processor", ack_policy="explicit", ack_wait=30, max_deliver=5,
        filter_subject=f"{prefix}.orders.created"))
    ephemeral = await js.pull_subscribe(f"{prefix}.orders.>", stream=f"{prefix}_ORDERS")
    await js.create_key_value(KeyValueConfig(bucket=f"{prefix}_cfg", history=5, ttl=600,
                                             description="settings"))
    await js.create_object_store(f"{prefix}_files", ObjectStoreConfig(description="files",
                                                                    max_bytes=5_000_000))
    yield prefix
    await ephemeral.unsubscribe()
    for stream in (f"{prefix}_ORDERS", f"KV_{prefix}_cfg", f"OBJ_{prefix}_files"):
        await js.delete_stream(stream)


def _tree(root: Path, prefix: str, max_deliver: int = 5, history: int = 5) -> Path:
    env = root / "environments" / "dev"
    env.mkdir(parents=True)
    (env / "orders.yaml").write_text(f"""\
apiVersion: nats.io/v1
kind: Stream
metadata:
  name: {prefix}_ORDERS
spec:
  description: orders
  subjects: ["{prefix}.orders.>"]
  storage: file
  maxAge: 1h
  maxBytes: 10000000
  duplicateWindow: 1m
  consumers:
    - durableName: processor
      ackPolicy: explicit
      ackWait: 30s
      maxDeliver: {max_deliver}
      filterSubject: {prefix}.orders.created
""")
    (env / "buckets.yaml").write_text(f"""\
apiVersion: jetstream.nats.io/v1beta2
kind: KeyValue
metadata:
  name: cfg
spec:
  bucket: {prefix}_cfg
  description: settings
  history: {history}
  ttl: 10m
---
apiVersion: jetstream.nats.io/v1beta2
kind: ObjectStore
metadata:
  name: files
spec:
  bucket: {prefix}_files
  description: files
  maxBytes: 5000000
""")
    return root


def _mine(prefix: str):
    return lambda kind, name, stream: (stream or name).startswith(prefix) or \
        name.startswith(prefix)


async def test_buckets_are_buckets_and_ephemerals_are_left_out(hub_nc, resources):
    prefix = resources
    live = [r for r in await read_live(JetStreamApi(hub_nc, domain="hub"))
            if (r.stream or r.name).startswith(prefix)]
    assert [(r.kind, r.stream, r.name) for r in live] == [
        ("stream", None, f"{prefix}_ORDERS"),
        ("kv", None, f"{prefix}_cfg"),
        ("object_store", None, f"{prefix}_files"),
        ("consumer", f"{prefix}_ORDERS", "processor"),
    ]
    kv = live[1].config
    assert (kv["bucket"], kv["history"], kv["ttl"], kv["description"]) == \
        (f"{prefix}_cfg", 5, 600 * 10**9, "settings")
    store = live[2].config
    assert (store["bucket"], store["max_bytes"], store["compression"]) == \
        (f"{prefix}_files", 5_000_000, False)
    assert live[3].config["max_deliver"] == 5


async def test_only_the_kinds_asked_for(hub_nc, resources):
    prefix = resources
    live = await read_live(JetStreamApi(hub_nc, domain="hub"), kinds=("kv",))
    assert {r.kind for r in live} == {"kv"}
    assert any(r.name == f"{prefix}_cfg" for r in live)
    with pytest.raises(ValueError, match="unknown kinds"):
        await read_live(JetStreamApi(hub_nc, domain="hub"), kinds=("streams",))


async def test_same_config_in_git_plans_nothing(hub_nc, resources, tmp_path):
    prefix = resources
    loaded = load_tree(_tree(tmp_path, prefix))
    assert loaded.errors == []
    live = await read_live(JetStreamApi(hub_nc, domain="hub"))
    result = plan(desired_of(loaded.resources_by_env["dev"]), live, managed=_mine(prefix))
    assert result.changes == [], result.diff()
    assert result.skipped_deletions == []


async def test_a_different_value_is_one_field_change(hub_nc, resources, tmp_path):
    prefix = resources
    loaded = load_tree(_tree(tmp_path, prefix, max_deliver=9, history=7))
    live = await read_live(JetStreamApi(hub_nc, domain="hub"))
    result = plan(desired_of(loaded.resources_by_env["dev"]), live, managed=_mine(prefix))
    assert [(c.action, c.ref, [(f.field, f.before, f.after) for f in c.fields])
            for c in result.changes] == [
        ("update", f"kv {prefix}_cfg", [("history", 5, 7)]),
        ("update", f"consumer {prefix}_ORDERS/processor", [("max_deliver", 5, 9)]),
    ]
