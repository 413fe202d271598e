"""Exports of every setting the console manages, mirrors, sources, transforms, republish and
consumer limits included: they load back to an empty plan in both formats, and what the NACK format
writes uses only NACK's own field names (its v1beta2 Go types, github.com/nats-io/nack
pkg/jetstream/apis/jetstream/v1beta2), since a Kubernetes API server drops fields a CRD does not
know, so a file NACK would half-read must not be written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gitops.export import export_environment, set_fields
from gitops.loader import load_tree
from gitops.planner import Desired, Live, plan

S = 10**9
LIVE = [
    Live(
        "stream",
        "SRC",
        None,
        {
            "name": "SRC",
            "subjects": ["a.>", "b.*"],
            "retention": "workqueue",
            "storage": "memory",
            "max_msgs": 100,
            "max_bytes": 1048576,
            "max_age": 0,
            "max_msgs_per_subject": -1,
            "discard": "new",
            "num_replicas": 1,
            "duplicate_window": 120 * S,
            "deny_delete": True,
            "allow_rollup_hdrs": True,
            "compression": "s2",
            "placement": {"cluster": "hub", "tags": ["ssd"]},
            "republish": {"src": "a.>", "dest": "re.a.>", "headers_only": True},
            "subject_transform": {"src": "b.*", "dest": "bb.{{wildcard(1)}}"},
            "consumer_limits": {"inactive_threshold": 30 * S, "max_ack_pending": 100},
            "metadata": {"_nats.ver": "2.11", "owner": "x"},
            "description": 'a "quoted": desc',
            "allow_msg_ttl": True,
            "subject_delete_marker_ttl": 300 * S,
        },
    ),
    Live(
        "stream",
        "MIR",
        None,
        {
            "name": "MIR",
            "storage": "file",
            "num_replicas": 1,
            "mirror": {
                "name": "SRC",
                "opt_start_seq": 5,
                "filter_subject": "a.x",
                "external": {"api": "$JS.hub.API", "deliver": ""},
            },
        },
    ),
    Live(
        "stream",
        "AGG",
        None,
        {
            "name": "AGG",
            "storage": "file",
            "sources": [
                {"name": "SRC", "subject_transforms": [{"src": "a.>", "dest": "agg.a.>"}]},
                {"name": "MIR", "opt_start_time": "2026-01-01T00:00:00Z"},
            ],
        },
    ),
    Live(
        "consumer",
        "pull",
        "SRC",
        {
            "durable_name": "pull",
            "name": "pull",
            "ack_policy": "explicit",
            "ack_wait": 30 * S,
            "max_deliver": -1,
            "filter_subjects": ["a.x", "a.y"],
            "deliver_policy": "by_start_sequence",
            "opt_start_seq": 10,
            "replay_policy": "instant",
            "max_waiting": 512,
            "max_ack_pending": 1000,
            "max_batch": 10,
            "max_expires": 60 * S,
            "backoff": [S, 2 * S],
            "metadata": {"k": "v"},
            "priority_groups": ["g"],
            "priority_policy": "pinned_client",
            "priority_timeout": 120 * S,
            "sample_freq": "100%",
        },
    ),
    Live(
        "consumer",
        "push",
        "SRC",
        {
            "durable_name": "push",
            "ack_policy": "none",
            "deliver_subject": "deliver.push",
            "deliver_group": "grp",
            "flow_control": True,
            "idle_heartbeat": 5 * S,
            "rate_limit_bps": 1000,
            "deliver_policy": "last_per_subject",
            "replay_policy": "original",
            "filter_subject": "a.>",
        },
    ),
    Live(
        "kv",
        "cfg",
        None,
        {
            "bucket": "cfg",
            "description": "c",
            "history": 10,
            "ttl": 3600 * S,
            "max_value_size": 1024,
            "max_bytes": 1 << 20,
            "replicas": 1,
            "storage": "memory",
            "compression": True,
            "metadata": {"a": "b"},
        },
    ),
    Live(
        "object_store",
        "blobs",
        None,
        {
            "bucket": "blobs",
            "ttl": 0,
            "max_bytes": -1,
            "replicas": 1,
            "storage": "file",
            "compression": False,
        },
    ),
]

# NACK v1beta2's JSON field names (streamtypes.go, consumertypes.go, types.go).
NACK_STREAM = {
    "name",
    "description",
    "subjects",
    "retention",
    "maxConsumers",
    "maxMsgsPerSubject",
    "maxMsgs",
    "maxBytes",
    "maxAge",
    "maxMsgSize",
    "storage",
    "discard",
    "replicas",
    "noAck",
    "duplicateWindow",
    "placement",
    "mirror",
    "sources",
    "compression",
    "subjectTransform",
    "republish",
    "sealed",
    "denyDelete",
    "denyPurge",
    "allowDirect",
    "allowRollup",
    "mirrorDirect",
    "discardPerSubject",
    "firstSequence",
    "metadata",
    "consumerLimits",
    "allowMsgTtl",
    "subjectDeleteMarkerTtl",
    "allowMsgCounter",
    "allowAtomicPublish",
    "allowMsgSchedules",
    "persistMode",
}
NACK_SOURCE = {
    "name",
    "optStartSeq",
    "optStartTime",
    "filterSubject",
    "externalApiPrefix",
    "externalDeliverPrefix",
    "subjectTransforms",
}
NACK_NESTED = {
    "placement": {"cluster", "tags"},
    "subjectTransform": {"source", "dest"},
    "republish": {"source", "destination", "headers_only"},
    "consumerLimits": {"inactiveThreshold", "maxAckPending"},
}
NACK_CONSUMER = {
    "description",
    "ackPolicy",
    "ackWait",
    "deliverPolicy",
    "deliverSubject",
    "deliverGroup",
    "durableName",
    "filterSubject",
    "filterSubjects",
    "flowControl",
    "heartbeatInterval",
    "maxAckPending",
    "maxDeliver",
    "backoff",
    "maxWaiting",
    "optStartSeq",
    "optStartTime",
    "rateLimitBps",
    "replayPolicy",
    "sampleFreq",
    "headersOnly",
    "maxRequestBatch",
    "maxRequestExpires",
    "maxRequestMaxBytes",
    "inactiveThreshold",
    "replicas",
    "memStorage",
    "metadata",
    "pauseUntil",
    "priorityPolicy",
    "pinnedTtl",
    "priorityGroups",
    "streamName",
}


def load_back(tmp_path: Path, files: dict[str, str]):
    env = tmp_path / "environments" / "prod"
    env.mkdir(parents=True)
    for name, text in files.items():
        (env / name).write_text(text)
    loaded = load_tree(tmp_path)
    assert loaded.ok, loaded.errors
    assert loaded.warnings == []
    return [Desired(r.kind, r.name, r.stream, r.config) for r in loaded.resources_by_env["prod"]]


@pytest.mark.parametrize("fmt", ["nats", "nack"])
def test_every_setting_loads_back_to_an_empty_plan(tmp_path, fmt):
    desired = load_back(tmp_path, export_environment(LIVE, fmt))
    assert {(d.kind, d.stream, d.name) for d in desired} == {
        (r.kind, r.stream, r.name) for r in LIVE
    }
    result = plan(desired, LIVE)
    assert result.changes == [], result.diff()


def test_the_nack_format_writes_only_fields_nack_knows(tmp_path):
    files = export_environment(LIVE, "nack")
    docs = [d for text in files.values() for d in yaml.safe_load_all(text)]
    streams = [d["spec"] for d in docs if d["kind"] == "Stream"]
    consumers = [d["spec"] for d in docs if d["kind"] == "Consumer"]
    assert len(streams) == 3 and len(consumers) == 2
    for spec in streams:
        assert set(spec) <= NACK_STREAM, set(spec) - NACK_STREAM
        for key, allowed in NACK_NESTED.items():
            if key in spec:
                assert set(spec[key]) <= allowed, (key, spec[key])
        for source in [spec["mirror"]] if "mirror" in spec else spec.get("sources", []):
            assert set(source) <= NACK_SOURCE, source
            for transform in source.get("subjectTransforms", []):
                assert set(transform) == {"source", "dest"}
    for spec in consumers:
        assert set(spec) <= NACK_CONSUMER, set(spec) - NACK_CONSUMER
    src = next(s for s in streams if s["name"] == "SRC")
    assert src["consumerLimits"] == {"inactiveThreshold": "30s", "maxAckPending": 100}
    assert src["republish"] == {"source": "a.>", "destination": "re.a.>", "headers_only": True}
    mirror = next(s for s in streams if s["name"] == "MIR")["mirror"]
    assert mirror == {
        "name": "SRC",
        "optStartSeq": 5,
        "filterSubject": "a.x",
        "externalApiPrefix": "$JS.hub.API",
    }
    pull = next(c for c in consumers if c["durableName"] == "pull")
    assert (pull["maxRequestExpires"], pull["pinnedTtl"], pull["backoff"]) == (
        "1m",
        "2m",
        ["1s", "2s"],
    )


def test_set_fields_writes_nested_settings_with_manifest_names(tmp_path):
    text = export_environment([LIVE[1]], "nats")["MIR.yaml"]
    edited = set_fields(
        text,
        2,
        "stream",
        {
            "mirror": {"name": "SRC", "opt_start_seq": 7, "filter_subject": "a.y"},
            "consumer_limits": {"inactive_threshold": 60 * S},
        },
    )
    changed = Live(
        "stream",
        "MIR",
        None,
        {
            **LIVE[1].config,
            "consumer_limits": {"inactive_threshold": 60 * S},
            "mirror": {"name": "SRC", "opt_start_seq": 7, "filter_subject": "a.y"},
        },
    )
    desired = load_back(tmp_path, {"MIR.yaml": edited})
    assert plan(desired, [changed]).changes == []
    assert "inactiveThreshold" in edited and "opt_start_seq" not in edited
