"""Key-value buckets through the API, checked against NATS with nats-py's own KeyValue client."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from nats.js.errors import BucketNotFoundError, KeyNotFoundError

from tests.api.conftest import unique, wait_for_audit


def kv_path(cluster: dict, *parts: str) -> str:
    return "/".join([f"/api/v1/clusters/{cluster['id']}/kv", *parts]).rstrip("/")


@pytest.fixture
def make_bucket(api, admin_headers, hub_cluster):
    """``make_bucket(**config)`` -> name: a bucket on hub, deleted after the test."""
    made: list[str] = []

    def _make(**config) -> str:
        bucket = unique("kv")
        reply = api.post(
            kv_path(hub_cluster), headers=admin_headers, json={"bucket": bucket, **config}
        )
        assert reply.status_code == 201, reply.text
        made.append(bucket)
        return bucket

    yield _make
    for bucket in made:
        api.delete(kv_path(hub_cluster, bucket), headers=admin_headers)


async def test_bucket_create_list_info_delete(api, admin_headers, hub_cluster, hub_nc):
    js = hub_nc.jetstream()
    bucket = unique("kv")
    created = api.post(
        kv_path(hub_cluster),
        headers=admin_headers,
        json={
            "bucket": bucket,
            "history": 5,
            "ttl": "1h",
            "max_value_size": 1024,
            "storage": "memory",
            "description": "settings",
            "metadata": {"team": "payments"},
        },
    )
    assert created.status_code == 201, created.text
    status = created.json()
    assert (status["bucket"], status["history"], status["ttl"]) == (bucket, 5, 3600 * 10**9)
    assert status["storage"] == "memory" and status["max_value_size"] == 1024

    kv = await js.key_value(bucket)  # nats-py binds to it as to any bucket
    server = await kv.status()
    assert server.history == 5 and server.ttl == 3600
    assert server.stream_info.config.allow_direct is True
    await kv.put("from.python", b"1")

    listed = api.get(kv_path(hub_cluster), headers=admin_headers).json()["items"]
    mine = [b for b in listed if b["bucket"] == bucket]
    assert mine and mine[0]["values"] == 1 and mine[0]["metadata"]["team"] == "payments"
    info = api.get(kv_path(hub_cluster, bucket), headers=admin_headers).json()
    assert info["keys"] == 1 and info["description"] == "settings"
    again = api.post(kv_path(hub_cluster), headers=admin_headers, json={"bucket": bucket})
    assert again.status_code == 409

    assert api.delete(kv_path(hub_cluster, bucket), headers=admin_headers).status_code == 204
    with pytest.raises(BucketNotFoundError):
        await js.key_value(bucket)
    assert api.get(kv_path(hub_cluster, bucket), headers=admin_headers).status_code == 404
    assert api.delete(kv_path(hub_cluster, bucket), headers=admin_headers).status_code == 404
    for action in ("kv_store.create", "kv_store.delete"):
        event = wait_for_audit(api, admin_headers, action=action, resource_name=bucket)
        assert event["status"] == "success" and event["resource_type"] == "kv_store"


async def test_keys_put_get_revisions_delete_purge_history(
    api, admin_headers, hub_cluster, hub_nc, make_bucket
):
    bucket = make_bucket(history=10)
    kv = await hub_nc.jetstream().key_value(bucket)
    keys = kv_path(hub_cluster, bucket, "keys")

    put = api.put(f"{keys}/config.eu", headers=admin_headers, json={"value": {"rate": 1}})
    assert put.status_code == 200, put.text
    assert put.json() == {"bucket": bucket, "key": "config.eu", "revision": 1}
    assert json.loads((await kv.get("config.eu")).value) == {"rate": 1}
    await kv.put("config.eu", b"second")  # a write by another client, read through the API
    await kv.put("config.us", b"\x00\x01")
    await kv.put("other/path=1", b"x")

    latest = api.get(f"{keys}/config.eu", headers=admin_headers).json()
    assert (latest["revision"], latest["value"], latest["encoding"]) == (2, "second", "text")
    assert latest["operation"] == "PUT" and latest["created"].endswith("Z")
    first = api.get(f"{keys}/config.eu", headers=admin_headers, params={"revision": 1}).json()
    assert (first["value"], first["encoding"]) == ({"rate": 1}, "json")
    binary = api.get(f"{keys}/config.us", headers=admin_headers).json()
    assert binary["encoding"] == "base64" and binary["value"] == "AAE="
    assert api.get(f"{keys}/other/path=1", headers=admin_headers).json()["value"] == "x"
    assert (
        api.get(f"{keys}/config.eu", headers=admin_headers, params={"revision": 3}).status_code
        == 404
    )  # revision 3 is config.us

    listed = api.get(keys, headers=admin_headers).json()
    assert listed["items"] == ["config.eu", "config.us", "other/path=1"]
    assert api.get(keys, headers=admin_headers, params={"filter": "config.*"}).json()["items"] == [
        "config.eu",
        "config.us",
    ]
    assert api.get(keys, headers=admin_headers, params={"limit": 2}).json()["truncated"] is True

    created = api.post(keys, headers=admin_headers, json={"key": "new.key", "value": "v"})
    assert created.status_code == 201 and (await kv.get("new.key")).value == b"v"
    assert (
        api.post(keys, headers=admin_headers, json={"key": "new.key", "value": "w"}).status_code
        == 409
    )
    cas = api.put(
        f"{keys}/config.eu", headers=admin_headers, json={"value": "third", "expected_revision": 1}
    )
    assert cas.status_code == 409
    cas = api.put(
        f"{keys}/config.eu", headers=admin_headers, json={"value": "third", "expected_revision": 2}
    )
    assert cas.status_code == 200 and (await kv.get("config.eu")).value == b"third"
    b64 = api.put(
        f"{keys}/raw", headers=admin_headers, json={"value": "AAEC", "encoding": "base64"}
    )
    assert b64.status_code == 200 and (await kv.get("raw")).value == b"\x00\x01\x02"

    assert api.delete(f"{keys}/config.us", headers=admin_headers).status_code == 204
    with pytest.raises(KeyNotFoundError):
        await kv.get("config.us")
    assert api.get(f"{keys}/config.us", headers=admin_headers).status_code == 404
    assert api.delete(f"{keys}/config.us", headers=admin_headers).status_code == 404
    history = api.get(
        kv_path(hub_cluster, bucket, "history", "config.us"), headers=admin_headers
    ).json()["items"]
    assert [h["operation"] for h in history] == ["PUT", "DEL"]
    # A deleted key may be created again.
    assert (
        api.post(
            keys, headers=admin_headers, json={"key": "config.us", "value": "back"}
        ).status_code
        == 201
    )

    history = api.get(
        kv_path(hub_cluster, bucket, "history", "config.eu"), headers=admin_headers
    ).json()["items"]
    assert [(h["revision"], h["value"]) for h in history] == [
        (1, {"rate": 1}),
        (2, "second"),
        (cas.json()["revision"], "third"),
    ]
    assert (
        api.delete(f"{keys}/config.eu", headers=admin_headers, params={"purge": "true"}).status_code
        == 204
    )
    history = api.get(
        kv_path(hub_cluster, bucket, "history", "config.eu"), headers=admin_headers
    ).json()["items"]
    assert [h["operation"] for h in history] == ["PURGE"]
    assert "config.eu" not in api.get(keys, headers=admin_headers).json()["items"]
    assert (
        api.get(kv_path(hub_cluster, bucket, "history", "never"), headers=admin_headers).status_code
        == 404
    )

    for action, key in (
        ("kv_key.put", "config.eu"),
        ("kv_key.create", "new.key"),
        ("kv_key.delete", "config.us"),
        ("kv_key.purge", "config.eu"),
    ):
        event = wait_for_audit(api, admin_headers, action=action, resource_name=f"{bucket}/{key}")
        assert event["status"] == "success"


async def test_watch_streams_changes_as_server_sent_events(
    stack, admin_headers, hub_cluster, hub_nc, make_bucket
):
    bucket = make_bucket(history=5)
    kv = await hub_nc.jetstream().key_value(bucket)
    await kv.put("orders.1", b"one")
    await kv.put("users.1", b"not watched")

    async def next_event(lines) -> tuple[str, dict]:
        event, data = None, None
        async for line in lines:
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and event:
                return event, data
        raise AssertionError("the event stream ended")

    async with httpx.AsyncClient(base_url=stack.api_url, timeout=20) as client:
        async with client.stream(
            "GET",
            kv_path(hub_cluster, bucket, "watch"),
            headers=admin_headers,
            params={"key": "orders.>"},
        ) as reply:
            assert reply.status_code == 200
            assert reply.headers["content-type"].startswith("text/event-stream")
            lines = reply.aiter_lines()
            event, entry = await asyncio.wait_for(next_event(lines), 10)
            assert event == "entry" and (entry["key"], entry["value"]) == ("orders.1", "one")
            assert (await asyncio.wait_for(next_event(lines), 10))[0] == "caught-up"
            await kv.put("users.2", b"ignored")
            await kv.put("orders.2", b'{"n": 2}')
            event, entry = await asyncio.wait_for(next_event(lines), 10)
            assert (event, entry["key"], entry["value"], entry["operation"]) == (
                "entry",
                "orders.2",
                {"n": 2},
                "PUT",
            )
            await kv.delete("orders.1")
            event, entry = await asyncio.wait_for(next_event(lines), 10)
            assert (entry["key"], entry["operation"]) == ("orders.1", "DEL")


async def test_unknown_bucket_or_key_is_404_and_bad_input_422(
    api, admin_headers, hub_cluster, make_bucket, make_member
):
    missing = kv_path(hub_cluster, "no-such-bucket")
    for path in (
        missing,
        f"{missing}/keys",
        f"{missing}/keys/a",
        f"{missing}/history/a",
        f"{missing}/watch",
    ):
        assert api.get(path, headers=admin_headers).status_code == 404, path
    assert api.put(f"{missing}/keys/a", headers=admin_headers, json={"value": 1}).status_code == 404
    bucket = make_bucket()
    keys = kv_path(hub_cluster, bucket, "keys")
    assert api.get(f"{keys}/absent", headers=admin_headers).status_code == 404
    assert api.delete(f"{keys}/absent", headers=admin_headers).status_code == 404

    for body, field in (
        ({"bucket": "bad.name"}, "bucket"),
        ({"bucket": "b", "history": 65}, "history"),
        ({"bucket": "b", "ttl": "soon"}, "ttl"),
        ({"bucket": "b", "x": 1}, "x"),
        ({"bucket": "b", "storage": "disk"}, "storage"),
    ):
        reply = api.post(kv_path(hub_cluster), headers=admin_headers, json=body)
        assert reply.status_code == 422, reply.text
        assert reply.json()["errors"][0]["field"] == field
    for key in ("a*b", "a..b", ".a", "sp ace"):
        reply = api.put(f"{keys}/{key}", headers=admin_headers, json={"value": "v"})
        assert reply.status_code == 422 and reply.json()["errors"][0]["field"] == "key", key
    reply = api.put(f"{keys}/k", headers=admin_headers, json={"value": "!!", "encoding": "base64"})
    assert reply.status_code == 422 and reply.json()["errors"][0]["field"] == "value"
    reply = api.get(keys, headers=admin_headers, params={"filter": "a.>.b"})
    assert reply.status_code == 422 and reply.json()["errors"][0]["field"] == "filter"
    assert api.get(kv_path(hub_cluster, "bad.name"), headers=admin_headers).status_code == 422

    viewer, _, _ = await make_member("viewer")
    assert api.get(keys, headers=viewer).status_code == 200
    assert api.put(f"{keys}/k", headers=viewer, json={"value": "v"}).status_code == 403
