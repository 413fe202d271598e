"""Object stores through the API, checked against NATS with nats-py's own ObjectStore client;
a 100 MB object goes up and down through the API with the API process's memory bounded."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path

import pytest
from nats.js.errors import BucketNotFoundError, ObjectNotFoundError

from tests.api.conftest import unique, wait_for_audit

MB = 1024 * 1024


def objects_path(cluster: dict, *parts: str) -> str:
    return "/".join([f"/api/v1/clusters/{cluster['id']}/objects", *parts]).rstrip("/")


@pytest.fixture
def make_store(api, admin_headers, hub_cluster):
    """``make_store(**config)`` -> name: an object store on hub, deleted after the test."""
    made: list[str] = []

    def _make(**config) -> str:
        bucket = unique("obj")
        reply = api.post(
            objects_path(hub_cluster), headers=admin_headers, json={"bucket": bucket, **config}
        )
        assert reply.status_code == 201, reply.text
        made.append(bucket)
        return bucket

    yield _make
    for bucket in made:
        api.delete(objects_path(hub_cluster, bucket), headers=admin_headers)


def nats_digest(data: bytes) -> str:
    return "SHA-256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode()


async def test_store_create_list_info_delete(api, admin_headers, hub_cluster, hub_nc):
    js = hub_nc.jetstream()
    bucket = unique("obj")
    created = api.post(
        objects_path(hub_cluster),
        headers=admin_headers,
        json={
            "bucket": bucket,
            "description": "artefacts",
            "ttl": "24h",
            "max_bytes": 50 * MB,
            "metadata": {"team": "build"},
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["ttl"] == 24 * 3600 * 10**9 and created.json()["max_bytes"] == 50 * MB

    store = await js.object_store(bucket)  # nats-py binds to it as to any object store
    status = await store.status()
    assert status.description == "artefacts" and status.ttl == 24 * 3600
    assert status.stream_info.config.allow_direct is True

    listed = api.get(objects_path(hub_cluster), headers=admin_headers).json()["items"]
    assert [s["metadata"]["team"] for s in listed if s["bucket"] == bucket] == ["build"]
    assert api.get(objects_path(hub_cluster, bucket), headers=admin_headers).json()["size"] == 0
    assert (
        api.post(
            objects_path(hub_cluster), headers=admin_headers, json={"bucket": bucket}
        ).status_code
        == 409
    )

    assert api.delete(objects_path(hub_cluster, bucket), headers=admin_headers).status_code == 204
    with pytest.raises(BucketNotFoundError):
        await js.object_store(bucket)
    assert api.get(objects_path(hub_cluster, bucket), headers=admin_headers).status_code == 404
    for action in ("object_store.create", "object_store.delete"):
        event = wait_for_audit(api, admin_headers, action=action, resource_name=bucket)
        assert event["status"] == "success" and event["resource_type"] == "object_store"


async def test_objects_round_trip_with_the_nats_client(
    api, admin_headers, hub_cluster, hub_nc, make_store
):
    bucket = make_store()
    store = await hub_nc.jetstream().object_store(bucket)
    files = objects_path(hub_cluster, bucket, "files")
    data = os.urandom(300_000)  # three chunks at 128 KiB

    up = api.put(
        f"{files}/reports/2024 Q1.bin",
        headers={**admin_headers, "Content-Type": "application/x-test"},
        content=data,
        params={"description": "quarterly"},
    )
    assert up.status_code == 201, up.text
    info = up.json()
    assert (info["size"], info["chunks"], info["digest"]) == (300_000, 3, nats_digest(data))
    assert info["headers"] == {"Content-Type": ["application/x-test"]}
    assert info["description"] == "quarterly" and info["bucket"] == bucket

    read = await store.get("reports/2024 Q1.bin")  # nats-py reads what the API wrote
    assert read.data == data and read.info.description == "quarterly"

    await store.put("from-python.txt", b"written by nats-py" * 10_000)
    down = api.get(f"{files}/from-python.txt", headers=admin_headers)
    assert down.status_code == 200 and down.content == b"written by nats-py" * 10_000
    assert down.headers["x-object-digest"] == nats_digest(down.content)
    assert down.headers["content-length"] == "180000"
    again = api.get(f"{files}/reports/2024 Q1.bin", headers=admin_headers)
    assert again.content == data and again.headers["content-type"] == "application/x-test"
    assert "2024%20Q1.bin" in again.headers["content-disposition"]

    empty = api.put(f"{files}/empty", headers=admin_headers, content=b"")
    assert empty.status_code == 201 and empty.json()["size"] == 0
    assert api.get(f"{files}/empty", headers=admin_headers).content == b""
    assert (await store.get("empty")).data == b""

    listed = api.get(files, headers=admin_headers).json()["items"]
    assert [o["name"] for o in listed] == ["empty", "from-python.txt", "reports/2024 Q1.bin"]

    replaced = api.put(f"{files}/from-python.txt", headers=admin_headers, content=b"new")
    assert replaced.status_code == 200
    assert (await store.get("from-python.txt")).data == b"new"
    stream = await hub_nc.jetstream().stream_info(f"OBJ_{bucket}")
    # report: 3 chunks + meta; from-python: 1 chunk + meta (its 2 old chunks purged); empty: meta
    assert stream.state.messages == 4 + 2 + 1

    meta = objects_path(hub_cluster, bucket, "info", "reports/2024 Q1.bin")
    assert api.get(meta, headers=admin_headers).json()["digest"] == nats_digest(data)
    patched = api.patch(
        meta,
        headers=admin_headers,
        json={"description": "Q1 numbers", "metadata": {"owner": "finance"}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["metadata"] == {"owner": "finance"}
    assert patched.json()["headers"] == {"Content-Type": ["application/x-test"]}  # kept
    assert (await store.get_info("reports/2024 Q1.bin")).description == "Q1 numbers"
    assert (await store.get("reports/2024 Q1.bin")).data == data  # the data stays

    assert api.delete(f"{files}/reports/2024 Q1.bin", headers=admin_headers).status_code == 204
    with pytest.raises(ObjectNotFoundError):
        await store.get_info("reports/2024 Q1.bin")
    assert api.get(f"{files}/reports/2024 Q1.bin", headers=admin_headers).status_code == 404
    assert api.delete(f"{files}/reports/2024 Q1.bin", headers=admin_headers).status_code == 404
    shown = api.get(files, headers=admin_headers, params={"deleted": "true"}).json()["items"]
    assert [o["name"] for o in shown if o.get("deleted")] == ["reports/2024 Q1.bin"]

    for action, name in (
        ("object.put", "empty"),
        ("object.update", "reports/2024 Q1.bin"),
        ("object.delete", "reports/2024 Q1.bin"),
    ):
        event = wait_for_audit(api, admin_headers, action=action, resource_name=f"{bucket}/{name}")
        assert event["status"] == "success"


def _memory(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields


def test_a_100_mb_object_goes_up_and_down_with_bounded_memory(
    api, admin_headers, hub_cluster, stack, make_store
):
    bucket = make_store()
    path = objects_path(hub_cluster, bucket, "files", "big.bin")
    pid = stack.pid("api")
    assert pid, "the API's process id is needed to measure its memory"
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # restart the peak (VmHWM) from now
    baseline = _memory(pid)["VmRSS"]

    size, block = 100 * MB, os.urandom(MB)
    sent = hashlib.sha256()

    def body():
        for i in range(size // MB):
            piece = bytes([i % 256]) + block[1:]  # every megabyte differs
            sent.update(piece)
            yield piece

    started = time.monotonic()
    up = api.put(path, headers=admin_headers, content=body(), timeout=300)
    assert up.status_code == 201, up.text
    uploaded_in = time.monotonic() - started
    expected = "SHA-256=" + base64.urlsafe_b64encode(sent.digest()).decode()
    assert up.json()["size"] == size and up.json()["digest"] == expected

    got, received = hashlib.sha256(), 0
    started = time.monotonic()
    with api.stream("GET", path, headers=admin_headers, timeout=300) as down:
        assert down.status_code == 200 and int(down.headers["content-length"]) == size
        for piece in down.iter_bytes():
            got.update(piece)
            received += len(piece)
    downloaded_in = time.monotonic() - started
    assert received == size
    assert "SHA-256=" + base64.urlsafe_b64encode(got.digest()).decode() == expected

    growth = _memory(pid)["VmHWM"] - baseline
    print(
        f"\n100 MB up in {uploaded_in:.1f}s, down in {downloaded_in:.1f}s; "
        f"API peak RSS growth {growth / MB:.1f} MB"
    )
    assert growth < 30 * MB, f"the API's peak memory grew by {growth / MB:.0f} MB"


def test_unknown_store_or_object_is_404_and_bad_input_422(
    api, admin_headers, hub_cluster, make_store
):
    missing = objects_path(hub_cluster, "no-such-store")
    for path in (missing, f"{missing}/files", f"{missing}/files/a", f"{missing}/info/a"):
        assert api.get(path, headers=admin_headers).status_code == 404, path
    assert api.put(f"{missing}/files/a", headers=admin_headers, content=b"x").status_code == 404
    bucket = make_store()
    assert (
        api.get(
            objects_path(hub_cluster, bucket, "files", "absent"), headers=admin_headers
        ).status_code
        == 404
    )
    assert (
        api.patch(
            objects_path(hub_cluster, bucket, "info", "absent"),
            headers=admin_headers,
            json={"description": "x"},
        ).status_code
        == 404
    )
    for body, field in (
        ({"bucket": "bad.name"}, "bucket"),
        ({"bucket": "b", "ttl": "later"}, "ttl"),
        ({"bucket": "b", "replicas": 9}, "replicas"),
    ):
        reply = api.post(objects_path(hub_cluster), headers=admin_headers, json=body)
        assert reply.status_code == 422 and reply.json()["errors"][0]["field"] == field
    reply = api.put(
        objects_path(hub_cluster, bucket, "files", "a"),
        headers=admin_headers,
        content=b"x",
        params={"chunk_size": 8 * MB},
    )
    assert reply.status_code == 422 and reply.json()["errors"][0]["field"] == "chunk_size"
    reply = api.patch(
        objects_path(hub_cluster, bucket, "info", "a"),
        headers=admin_headers,
        json={"name": "renamed"},
    )
    assert reply.status_code == 422 and reply.json()["errors"][0]["field"] == "name"
