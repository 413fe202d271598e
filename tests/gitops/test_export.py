"""Exported manifests load back to what the cluster runs; field edits keep the rest of a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.export import export_environment, go_duration, remove_resource, set_fields
from gitops.loader import load_tree
from gitops.planner import Desired, Live, plan

LIVE = [
    Live(
        "stream",
        "ORDERS",
        None,
        {
            "name": "ORDERS",
            "subjects": ["orders.>"],
            "retention": "limits",
            "storage": "file",
            "max_age": 5400 * 10**9,
            "duplicate_window": 120 * 10**9,
            "num_replicas": 1,
            "max_bytes": -1,
            "discard": "old",
            "allow_direct": True,
            "compression": "none",
            "metadata": {"_nats.req.level": "1", "team": "payments"},
            "created": "2026-11-28T10:00:00Z",
            "sealed": False,
        },
    ),
    Live(
        "consumer",
        "worker",
        "ORDERS",
        {
            "durable_name": "worker",
            "name": "worker",
            "ack_policy": "explicit",
            "ack_wait": 30 * 10**9,
            "max_deliver": 5,
            "filter_subject": "orders.created",
            "backoff": [10**9, 5 * 10**9],
            "deliver_policy": "all",
            "replay_policy": "instant",
        },
    ),
    Live(
        "kv",
        "settings",
        None,
        {
            "bucket": "settings",
            "history": 5,
            "ttl": 7200 * 10**9,
            "max_bytes": -1,
            "replicas": 1,
            "storage": "file",
            "compression": False,
        },
    ),
]


def test_go_durations():
    assert [go_duration(n) for n in (0, 1500 * 10**6, 5400 * 10**9, 90 * 10**9 + 5)] == [
        "0s",
        "1s500ms",
        "1h30m",
        "1m30s5ns",
    ]


@pytest.mark.parametrize("fmt", ["nats", "nack"])
def test_export_loads_back_to_an_empty_plan(tmp_path: Path, fmt):
    files = export_environment(LIVE, fmt)
    assert set(files) == {"ORDERS.yaml", "kv-settings.yaml"}
    assert "created:" not in files["ORDERS.yaml"] and "_nats" not in files["ORDERS.yaml"]
    assert "1h30m" in files["ORDERS.yaml"]
    env = tmp_path / "environments" / "prod"
    env.mkdir(parents=True)
    for name, text in files.items():
        (env / name).write_text(text)
    loaded = load_tree(tmp_path)
    assert loaded.ok, loaded.errors
    desired = [Desired(r.kind, r.name, r.stream, r.config) for r in loaded.resources_by_env["prod"]]
    assert {(d.kind, d.name) for d in desired} == {
        ("stream", "ORDERS"),
        ("consumer", "worker"),
        ("kv", "settings"),
    }
    assert plan(desired, LIVE).changes == []


DOC = """\
# orders, owned by payments
apiVersion: nats.io/v1
kind: Stream
metadata:
  name: ORDERS
spec:
  subjects:
    - "orders.>"
  maxAge: 1h   # keep an hour
  consumers:
    - name: worker
      maxDeliver: 5
---
apiVersion: nats.io/v1
kind: Stream
metadata:
  name: OTHER
spec:
  maxAge: 1h
"""


def test_set_fields_edits_one_resource_and_keeps_the_rest(tmp_path: Path):
    text = set_fields(
        DOC,
        2,
        "stream",
        {"max_age": 7200 * 10**9, "subjects": ["orders.>", "x.>"], "max_bytes": 1024},
    )
    assert "# orders, owned by payments" in text
    assert '  maxAge: "2h"' in text and '  subjects: ["orders.>", "x.>"]' in text
    assert "  maxBytes: 1024" in text
    assert text.count("maxAge: 1h") == 1  # OTHER untouched
    assert "maxDeliver: 5" in text  # the inline consumer too
    consumer = set_fields(
        text, text.splitlines().index("    - name: worker") + 1, "consumer", {"max_deliver": 9}
    )
    assert "      maxDeliver: 9" in consumer and "maxDeliver: 5" not in consumer
    env = tmp_path / "environments" / "dev"
    env.mkdir(parents=True)
    (env / "a.yaml").write_text(consumer)
    loaded = load_tree(tmp_path)
    assert loaded.ok, loaded.errors
    by = {(r.kind, r.name): r.config for r in loaded.resources_by_env["dev"]}
    assert by[("stream", "ORDERS")]["max_age"] == 7200 * 10**9
    assert by[("stream", "ORDERS")]["subjects"] == ["orders.>", "x.>"]
    assert by[("consumer", "worker")]["max_deliver"] == 9
    assert by[("stream", "OTHER")]["max_age"] == 3600 * 10**9


def test_remove_resource_keeps_the_other_documents(tmp_path: Path):
    without_orders = remove_resource(DOC, 2)
    assert "ORDERS" not in without_orders and "OTHER" in without_orders
    item = DOC.splitlines().index("    - name: worker") + 1
    without_worker = remove_resource(DOC, item)
    assert "worker" not in without_worker and "ORDERS" in without_worker
    for text in (without_orders, without_worker):
        env = tmp_path / "environments" / "dev"
        env.mkdir(parents=True, exist_ok=True)
        (env / "a.yaml").write_text(text)
        assert load_tree(tmp_path).ok
