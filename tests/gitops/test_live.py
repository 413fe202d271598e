"""The live reader against the real hub: what it reads back for resources made with nats-py and
the console's bucket code plans as nothing to do against the same manifests loaded from files."""

from __future__ import annotations

import uuid

from core.jetstream.api import JetStreamApi
from core.jetstream.kv import KvBucketConfig, create_bucket
from core.jetstream.objects import ObjectStoreConfig, create_store
from gitops.live import read_live
from gitops.loader import load_tree
from gitops.planner import Desired, plan


def manifests(stream: str, bucket: str, store: str) -> str:
    return f"""\
apiVersion: nats.io/v1
kind: Stream
metadata:
  name: {stream}
spec:
  subjects: ["{stream.lower()}.>"]
  storage: file
  maxAge: 1h
  maxMsgsPerSubject: 10
  duplicateWindow: 30s
  consumers:
    - name: worker
      durableName: worker
      ackPolicy: explicit
      ackWait: 30s
      maxDeliver: 5
      filterSubject: "{stream.lower()}.created"
---
apiVersion: jetstream.nats.io/v1beta2
kind: KeyValue
metadata:
  name: {bucket.lower()}
spec:
  bucket: {bucket}
  history: 5
  ttl: 2h
---
apiVersion: nats.io/v1
kind: ObjectStore
metadata:
  name: {store}
spec:
  description: files
  maxBytes: 1048576
"""


async def test_live_state_plans_as_nothing_to_do(hub_nc, tmp_path):
    js = JetStreamApi(hub_nc, timeout=30)
    tag = uuid.uuid4().hex[:8]
    stream, bucket, store = f"LIVE_{tag}", f"live_kv_{tag}", f"live_obj_{tag}"
    await js.stream_create(
        {
            "name": stream,
            "subjects": [f"{stream.lower()}.>"],
            "storage": "file",
            "max_age": 3600 * 10**9,
            "max_msgs_per_subject": 10,
            "duplicate_window": 30 * 10**9,
        }
    )
    await js.consumer_create(
        stream,
        {
            "durable_name": "worker",
            "ack_policy": "explicit",
            "ack_wait": 30 * 10**9,
            "max_deliver": 5,
            "filter_subject": f"{stream.lower()}.created",
        },
    )
    await js.consumer_create(stream, {"ack_policy": "none", "inactive_threshold": 60 * 10**9})
    await create_bucket(js, KvBucketConfig(bucket=bucket, history=5, ttl="2h"))
    await create_store(js, ObjectStoreConfig(bucket=store, description="files", max_bytes=1048576))
    try:
        live = await read_live(js)
        mine = {
            (r.kind, r.stream, r.name) for r in live if tag in r.name or tag in (r.stream or "")
        }
        assert mine == {
            ("stream", None, stream),
            ("consumer", stream, "worker"),
            ("kv", None, bucket),
            ("object_store", None, store),
        }  # no ephemeral
        (tmp_path / "environments/dev").mkdir(parents=True)
        (tmp_path / "environments/dev/all.yaml").write_text(manifests(stream, bucket, store))
        loaded = load_tree(tmp_path)
        assert loaded.ok, loaded.errors
        desired = [
            Desired(r.kind, r.name, r.stream, r.config) for r in loaded.resources_by_env["dev"]
        ]
        result = plan(desired, live, managed=lambda kind, name, s: False)
        assert result.changes == [], result.diff()
        # and a field changed behind git's back is seen
        await js.stream_update(
            {**next(r.config for r in live if r.name == stream), "max_msgs_per_subject": 20}
        )
        changed = plan(desired, await read_live(js), managed=lambda kind, name, s: False)
        assert [(c.action, c.name, [f.field for f in c.fields]) for c in changed.changes] == [
            ("update", stream, ["max_msgs_per_subject"])
        ]
    finally:
        for name in (stream, f"KV_{bucket}", f"OBJ_{store}"):
            await js.stream_delete(name)
