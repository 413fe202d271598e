"""Every stream and consumer field goes through the API and comes back from the NATS server as
given; the config read back posts back unchanged."""

from __future__ import annotations

import json

from tests.fixtures import unique

S = 1_000_000_000


async def server_info(nc, kind: str, *names: str) -> dict:
    reply = await nc.request(f"$JS.API.{kind}.INFO.{'.'.join(names)}", b"", timeout=5)
    return json.loads(reply.data)


def assert_subset(given: dict, stored: dict, path: str = "") -> None:
    for key, value in given.items():
        assert key in stored, f"{path}{key} missing on the server"
        if isinstance(value, dict) and key != "metadata":
            assert_subset(value, stored[key], f"{path}{key}.")
        elif key == "metadata":
            assert {k: v for k, v in stored[key].items() if not k.startswith("_nats.")} == value
        else:
            assert stored[key] == value, f"{path}{key}: gave {value!r}, server has {stored[key]!r}"


async def test_every_stream_field_round_trips(api, admin_headers, hub_cluster, hub_nc):
    base = f"/api/v1/clusters/{hub_cluster['id']}/streams"
    origin, name, mirror = unique("origin"), unique("full"), unique("mirror")
    # A mirror serves direct gets only for an origin that allows them.
    assert (
        api.post(
            base,
            headers=admin_headers,
            json={"name": origin, "subjects": [f"{origin}.>"], "allow_direct": True},
        ).status_code
        == 201
    )
    full = {
        "name": name,
        "description": "every field",
        "subjects": [f"{name}.in.>"],
        "retention": "limits",
        "max_consumers": 10,
        "max_msgs": 100_000,
        "max_bytes": 64 * 2**20,
        "max_age": 7 * 86400 * S,
        "max_msgs_per_subject": 50,
        "max_msg_size": 65536,
        "discard": "new",
        "discard_new_per_subject": True,
        "storage": "file",
        "num_replicas": 1,
        "duplicate_window": 60 * S,
        "sources": [
            {"name": origin, "filter_subject": f"{origin}.eu.>", "subject_transforms": None},
        ],
        "subject_transform": {"src": f"{name}.in.>", "dest": f"{name}.stored.>"},
        "republish": {"src": f"{name}.stored.>", "dest": f"{name}.out.>", "headers_only": True},
        "compression": "s2",
        "metadata": {"team": "payments", "tier": "gold"},
        "deny_delete": True,
        "deny_purge": False,
        "allow_rollup_hdrs": True,
        "allow_direct": True,
        "allow_msg_ttl": True,
        "subject_delete_marker_ttl": 60 * S,
        "first_seq": 1000,
        "consumer_limits": {"inactive_threshold": 3600 * S, "max_ack_pending": 500},
    }
    full["sources"][0].pop("subject_transforms")
    created = api.post(base, headers=admin_headers, json=full)
    assert created.status_code == 201, created.text
    assert_subset(full, (await server_info(hub_nc, "STREAM", name))["config"])

    read = api.get(f"{base}/{name}", headers=admin_headers).json()["config"]
    same = api.patch(f"{base}/{name}", headers=admin_headers, json=read)
    assert same.status_code == 200 and same.json()["config"] == read

    sealed = api.patch(f"{base}/{name}", headers=admin_headers, json={"sealed": True})
    assert sealed.status_code == 200, sealed.text
    assert (await server_info(hub_nc, "STREAM", name))["config"]["sealed"] is True

    mirrored = {
        "name": mirror,
        "mirror": {"name": origin, "opt_start_seq": 1, "filter_subject": f"{origin}.>"},
        "mirror_direct": True,
        "allow_direct": True,
        "placement": {"tags": []},
    }
    made = api.post(base, headers=admin_headers, json=mirrored)
    assert made.status_code == 201, made.text
    stored = (await server_info(hub_nc, "STREAM", mirror))["config"]
    assert (
        stored["mirror"]["name"] == origin and stored["mirror"]["filter_subject"] == f"{origin}.>"
    )
    assert stored["mirror_direct"] is True
    # Some fields exclude others (counters: TTLs and schedules; atomic batches: async persistence),
    # so three more streams carry the remaining fields.
    counter = {
        "name": unique("counter"),
        "subjects": [f"{name}-c.>"],
        "allow_msg_counter": True,
        "allow_atomic": True,
        "allow_batched": True,
    }
    scheduled = {
        "name": unique("scheduled"),
        "subjects": [f"{name}-s.>"],
        "allow_msg_schedules": True,
        "allow_msg_ttl": True,
        "no_ack": False,
    }
    persisted = {"name": unique("persisted"), "subjects": [f"{name}-p.>"], "persist_mode": "async"}
    for extra in (counter, scheduled, persisted):
        made = api.post(base, headers=admin_headers, json=extra)
        assert made.status_code == 201, made.text
        assert_subset(
            {k: v for k, v in extra.items() if v is not False},
            (await server_info(hub_nc, "STREAM", extra["name"]))["config"],
        )
    for stream in (name, mirror, origin, counter["name"], scheduled["name"], persisted["name"]):
        api.delete(f"{base}/{stream}", headers=admin_headers)


async def test_every_consumer_field_round_trips(api, admin_headers, hub_cluster, hub_nc):
    base = f"/api/v1/clusters/{hub_cluster['id']}/streams"
    stream = unique("consumed")
    api.post(base, headers=admin_headers, json={"name": stream, "subjects": [f"{stream}.>"]})
    pull = {
        "durable_name": "everything",
        "description": "every field",
        "deliver_policy": "by_start_sequence",
        "opt_start_seq": 5,
        "ack_policy": "explicit",
        "max_deliver": 7,
        "backoff": [S, 5 * S, 30 * S],
        "filter_subjects": [f"{stream}.a", f"{stream}.b.>"],
        "replay_policy": "instant",
        "sample_freq": "50%",
        "max_waiting": 64,
        "max_ack_pending": 200,
        "headers_only": True,
        "max_batch": 100,
        "max_expires": 60 * S,
        "max_bytes": 2**20,
        "inactive_threshold": 3600 * S,
        "num_replicas": 1,
        "mem_storage": True,
        "metadata": {"owner": "billing"},
        "priority_groups": ["jobs"],
        "priority_policy": "overflow",
    }
    created = api.post(f"{base}/{stream}/consumers", headers=admin_headers, json=pull)
    assert created.status_code == 201, created.text
    assert_subset(pull, (await server_info(hub_nc, "CONSUMER", stream, "everything"))["config"])

    push = {
        "durable_name": "pushed",
        "deliver_subject": f"deliver.{stream}",
        "deliver_group": "g",
        "ack_policy": "explicit",
        "ack_wait": 45 * S,
        "deliver_policy": "last_per_subject",
        "filter_subject": f"{stream}.a",
        "flow_control": True,
        "idle_heartbeat": 5 * S,
        "rate_limit_bps": 10_000_000,
        "replay_policy": "original",
    }
    made = api.post(f"{base}/{stream}/consumers", headers=admin_headers, json=push)
    assert made.status_code == 201, made.text
    assert_subset(push, (await server_info(hub_nc, "CONSUMER", stream, "pushed"))["config"])

    read = api.get(f"{base}/{stream}/consumers/everything", headers=admin_headers).json()["config"]
    same = api.patch(f"{base}/{stream}/consumers/everything", headers=admin_headers, json=read)
    assert same.status_code == 200, same.text
    assert same.json()["config"] == read
    api.delete(f"{base}/{stream}", headers=admin_headers)
