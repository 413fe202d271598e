"""Streams and consumers through the API, checked against the NATS server itself."""

from __future__ import annotations

import pytest

from tests.fixtures import unique, wait_for_audit


def streams_path(cluster: dict, *parts: str) -> str:
    return "/".join([f"/api/v1/clusters/{cluster['id']}/streams", *parts]).rstrip("/")


@pytest.fixture
def stream_name() -> str:
    return unique("orders")


async def test_stream_round_trip(api, admin_headers, hub_cluster, hub_nc, stream_name):
    js = hub_nc.jetstream()
    subject = f"{stream_name}.>"
    created = api.post(
        streams_path(hub_cluster),
        headers=admin_headers,
        json={
            "name": stream_name,
            "subjects": [subject],
            "max_age": "72h",
            "storage": "file",
            "max_msgs_per_subject": 100,
            "duplicate_window": "1m",
            "description": "round trip",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["config"]["max_age"] == 72 * 3600 * 10**9

    server = await js.stream_info(stream_name)
    assert server.config.subjects == [subject]
    assert server.config.max_age == 72 * 3600  # nats-py speaks seconds
    assert server.config.max_msgs_per_subject == 100
    assert server.config.description == "round trip"

    read = api.get(streams_path(hub_cluster, stream_name), headers=admin_headers)
    assert read.status_code == 200
    config = read.json()["config"]
    assert api.get(streams_path(hub_cluster), headers=admin_headers).json()["items"]

    # The config as read posts back unchanged: the server sees no difference.
    same = api.patch(streams_path(hub_cluster, stream_name), headers=admin_headers, json=config)
    assert same.status_code == 200, same.text
    assert same.json()["config"] == config

    updated = api.patch(
        streams_path(hub_cluster, stream_name),
        headers=admin_headers,
        json={"max_msgs": 1000, "description": "updated"},
    )
    assert updated.status_code == 200
    server = await js.stream_info(stream_name)
    assert server.config.max_msgs == 1000 and server.config.description == "updated"
    assert server.config.max_msgs_per_subject == 100  # untouched fields stay

    # The unchanged patch above is audited too: wait for the one that changed max_msgs.
    event = wait_for_audit(
        api,
        admin_headers,
        action="stream.update",
        resource_name=stream_name,
        where=lambda e: "max_msgs" in (e.get("changes") or {}),
    )
    assert event["changes"]["max_msgs"] == {"before": -1, "after": 1000}

    assert (
        api.delete(streams_path(hub_cluster, stream_name), headers=admin_headers).status_code == 204
    )
    assert stream_name not in await js.streams_info() and not [
        s for s in await js.streams_info() if s.config.name == stream_name
    ]
    assert api.get(streams_path(hub_cluster, stream_name), headers=admin_headers).status_code == 404


async def test_a_config_read_from_one_cluster_creates_the_same_stream_on_another(
    api, admin_headers, hub_cluster, dr_cluster, stream_name
):
    api.post(
        streams_path(hub_cluster),
        headers=admin_headers,
        json={
            "name": stream_name,
            "subjects": [f"{stream_name}.*"],
            "retention": "workqueue",
            "max_bytes": 10_000_000,
            "discard": "new",
            "allow_direct": True,
            "metadata": {"owner": "payments"},
        },
    )
    config = api.get(streams_path(hub_cluster, stream_name), headers=admin_headers).json()["config"]
    copy = api.post(streams_path(dr_cluster), headers=admin_headers, json=config)
    assert copy.status_code == 201, copy.text
    copied = copy.json()["config"]
    for field in ("subjects", "retention", "max_bytes", "discard", "allow_direct", "storage"):
        assert copied[field] == config[field], field
    assert copied["metadata"]["owner"] == "payments"
    for cluster in (hub_cluster, dr_cluster):
        api.delete(streams_path(cluster, stream_name), headers=admin_headers)


async def test_purge_by_subject_sequence_and_keep(
    api, admin_headers, hub_cluster, hub_nc, stream_name
):
    js = hub_nc.jetstream()
    api.post(
        streams_path(hub_cluster),
        headers=admin_headers,
        json={"name": stream_name, "subjects": [f"{stream_name}.*"]},
    )
    for i in range(10):
        await js.publish(f"{stream_name}.{'a' if i < 4 else 'b'}", b"x")
    purge = streams_path(hub_cluster, stream_name, "purge")

    # Dry runs say what would go and remove nothing.
    preview = api.post(
        purge, headers=admin_headers, json={"subject": f"{stream_name}.a", "dry_run": True}
    )
    assert preview.json()["dry_run"] is True and preview.json()["purged"] == 0
    assert preview.json()["would_purge"]["messages"] == 4
    assert (
        api.post(purge, headers=admin_headers, json={"sequence": 7, "dry_run": True}).json()[
            "would_purge"
        ]["messages"]
        == 6
    )
    assert (
        api.post(purge, headers=admin_headers, json={"keep": 3, "dry_run": True}).json()[
            "would_purge"
        ]["messages"]
        == 7
    )
    whole = api.post(purge, headers=admin_headers, json={"dry_run": True}).json()["would_purge"]
    assert whole["messages"] == 10 and not whole["bytes_estimated"]
    assert whole["bytes"] == (await js.stream_info(stream_name)).state.bytes
    assert (await js.stream_info(stream_name)).state.messages == 10
    assert (await js.stream_info(stream_name)).state.consumer_count == 0

    assert (
        api.post(purge, headers=admin_headers, json={"subject": f"{stream_name}.a"}).json()[
            "purged"
        ]
        == 4
    )
    assert (await js.stream_info(stream_name)).state.messages == 6
    assert api.post(purge, headers=admin_headers, json={"sequence": 7}).json()["purged"] == 2
    assert (await js.stream_info(stream_name)).state.first_seq == 7
    assert api.post(purge, headers=admin_headers, json={"keep": 1}).json()["purged"] == 3
    assert (await js.stream_info(stream_name)).state.messages == 1
    bad = api.post(purge, headers=admin_headers, json={"sequence": 5, "keep": 1})
    assert bad.status_code == 422
    assert api.post(purge, headers=admin_headers).json()["purged"] == 1
    event = wait_for_audit(api, admin_headers, action="stream.purge", resource_name=stream_name)
    assert event["status"] == "success"
    api.delete(streams_path(hub_cluster, stream_name), headers=admin_headers)


def test_invalid_stream_config_is_422_naming_the_field(api, admin_headers, hub_cluster):
    reply = api.post(
        streams_path(hub_cluster),
        headers=admin_headers,
        json={
            "name": "bad.name",
            "subjects": ["x"],
            "max_age": "forever",
            "retention": "sometimes",
            "max_agee": 1,
        },
    )
    assert reply.status_code == 422
    fields = {e["field"] for e in reply.json()["errors"]}
    assert fields == {"name", "max_age", "retention", "max_agee"}
    assert "forever" in reply.json()["detail"]


def test_the_servers_own_refusal_is_400_with_its_message(api, admin_headers, hub_cluster):
    first, second = unique("overlap"), unique("overlap")
    subject = f"{first}.>"
    assert (
        api.post(
            streams_path(hub_cluster),
            headers=admin_headers,
            json={"name": first, "subjects": [subject]},
        ).status_code
        == 201
    )
    clash = api.post(
        streams_path(hub_cluster),
        headers=admin_headers,
        json={"name": second, "subjects": [subject]},
    )
    assert clash.status_code == 400
    assert "subjects overlap" in clash.json()["detail"]
    api.delete(streams_path(hub_cluster, first), headers=admin_headers)


def test_unknown_stream_is_404(api, admin_headers, hub_cluster):
    for method in ("GET", "DELETE"):
        reply = api.request(
            method, streams_path(hub_cluster, "no-such-stream"), headers=admin_headers
        )
        assert reply.status_code == 404
        assert "not found" in reply.json()["detail"].lower()
    reply = api.patch(streams_path(hub_cluster, "no-such-stream"), headers=admin_headers, json={})
    assert reply.status_code == 404


async def test_consumer_round_trip(api, admin_headers, hub_cluster, hub_nc, stream_name):
    js = hub_nc.jetstream()
    api.post(
        streams_path(hub_cluster),
        headers=admin_headers,
        json={"name": stream_name, "subjects": [f"{stream_name}.>"]},
    )
    consumers = streams_path(hub_cluster, stream_name, "consumers")
    created = api.post(
        consumers,
        headers=admin_headers,
        json={
            "durable_name": "billing",
            "ack_policy": "explicit",
            "ack_wait": "45s",
            "max_deliver": 5,
            "filter_subject": f"{stream_name}.eu",
            "backoff": ["1s", "5s"],
            "deliver_policy": "all",
        },
    )
    assert created.status_code == 201, created.text
    server = await js.consumer_info(stream_name, "billing")
    # With a backoff, JetStream takes the ack wait from its first step.
    assert server.config.backoff == [1, 5] and server.config.ack_wait == 1
    assert server.config.max_deliver == 5
    assert server.config.filter_subject == f"{stream_name}.eu"

    config = api.get(f"{consumers}/billing", headers=admin_headers).json()["config"]
    same = api.patch(f"{consumers}/billing", headers=admin_headers, json=config)
    assert same.status_code == 200, same.text
    assert same.json()["config"] == config

    updated = api.patch(
        f"{consumers}/billing",
        headers=admin_headers,
        json={"max_deliver": 10, "description": "bills"},
    )
    assert updated.status_code == 200
    assert (await js.consumer_info(stream_name, "billing")).config.max_deliver == 10
    assert [c["name"] for c in api.get(consumers, headers=admin_headers).json()["items"]] == [
        "billing"
    ]

    renamed = api.patch(f"{consumers}/billing", headers=admin_headers, json={"durable_name": "x"})
    assert renamed.status_code == 422
    unnamed = api.post(consumers, headers=admin_headers, json={"ack_policy": "explicit"})
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "name"
    bad = api.post(
        consumers, headers=admin_headers, json={"durable_name": "c2", "ack_wait": "soon"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ack_wait"

    assert api.delete(f"{consumers}/billing", headers=admin_headers).status_code == 204
    assert api.get(f"{consumers}/billing", headers=admin_headers).status_code == 404
    assert (
        api.get(f"{consumers}/billing", headers=admin_headers)
        .json()["detail"]
        .lower()
        .startswith("consumer not found")
    )
    api.delete(streams_path(hub_cluster, stream_name), headers=admin_headers)
