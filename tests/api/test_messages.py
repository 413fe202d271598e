"""Messages of a stream through the API (browse, last, get, publish, delete, export), checked
against the NATS server itself; browsing work-queue and interest streams leaves them unchanged."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from datetime import UTC, datetime

import pytest
from nats.js.errors import NotFoundError

from tests.api.conftest import unique, wait_for_audit


def streams_path(cluster: dict, *parts: str) -> str:
    return "/".join([f"/api/v1/clusters/{cluster['id']}/streams", *parts]).rstrip("/")


def messages_path(cluster: dict, stream: str, *parts: str) -> str:
    return streams_path(cluster, stream, "messages", *parts)


@pytest.fixture
def make_stream(api, admin_headers, hub_cluster):
    """``make_stream(**config)`` -> name: a stream on hub capturing ``<name>.>``, deleted after."""
    made: list[str] = []

    def _make(**config) -> str:
        name = unique("msgs")
        reply = api.post(
            streams_path(hub_cluster),
            headers=admin_headers,
            json={"name": name, "subjects": [f"{name}.>"], **config},
        )
        assert reply.status_code == 201, reply.text
        made.append(name)
        return name

    yield _make
    for name in made:
        api.delete(streams_path(hub_cluster, name), headers=admin_headers)


def browse_all(api, headers, path: str, **params) -> list[dict]:
    """Every page of a browse, following next_cursor."""
    items: list[dict] = []
    reply = api.get(path, headers=headers, params=params)
    while True:
        assert reply.status_code == 200, reply.text
        page = reply.json()
        items.extend(page["items"])
        if not page["has_more"]:
            return items
        reply = api.get(
            path,
            headers=headers,
            params={"cursor": page["next_cursor"], "limit": params.get("limit", 50)},
        )


@pytest.mark.parametrize("direct", [False, True], ids=["msg-get", "direct-get"])
async def test_browse_forwards_backwards_filtered_with_cursors(
    api, admin_headers, hub_cluster, hub_nc, make_stream, direct
):
    js = hub_nc.jetstream()
    name = make_stream(allow_direct=direct)
    for i in range(1, 26):
        await js.publish(
            f"{name}.{'eu' if i % 3 == 0 else 'us'}",
            json.dumps({"i": i}).encode(),
            headers={"X-Index": str(i)},
        )
    await js.delete_msg(name, 5)
    path = messages_path(hub_cluster, name)
    everything = [s for s in range(1, 26) if s != 5]
    eu = [s for s in everything if s % 3 == 0]

    first = api.get(path, headers=admin_headers, params={"limit": 10}).json()
    assert [m["seq"] for m in first["items"]] == everything[:10]
    assert first["has_more"] and first["next_cursor"]
    assert (first["first_seq"], first["last_seq"]) == (1, 25)
    message = first["items"][2]
    server = await js.get_msg(name, 3)
    assert message["subject"] == server.subject == f"{name}.eu"
    assert message["payload"] == {"i": 3} and message["encoding"] == "json"
    assert message["headers"]["X-Index"] == ["3"] and message["size"] == len(server.data)
    assert message["time"].endswith("Z") and message["truncated"] is False

    assert [m["seq"] for m in browse_all(api, admin_headers, path, limit=7)] == everything
    backwards = browse_all(api, admin_headers, path, limit=7, direction="backward")
    assert [m["seq"] for m in backwards] == everything[::-1]
    assert [
        m["seq"] for m in browse_all(api, admin_headers, path, limit=3, subject=f"{name}.eu")
    ] == eu
    assert [
        m["seq"]
        for m in browse_all(
            api, admin_headers, path, limit=3, subject=f"{name}.eu", direction="backward"
        )
    ] == eu[::-1]
    assert [
        m["seq"] for m in browse_all(api, admin_headers, path, subject=f"{name}.*", start_seq=20)
    ] == list(range(20, 26))

    down = api.get(
        path, headers=admin_headers, params={"start_seq": 7, "limit": 3, "direction": "backward"}
    ).json()
    assert [m["seq"] for m in down["items"]] == [7, 6, 4] and down["has_more"]
    tail = api.get(path, headers=admin_headers, params={"start_seq": 25}).json()
    assert [m["seq"] for m in tail["items"]] == [25] and not tail["has_more"]
    # A forward cursor at the end picks up what arrives later (a live tail).
    await js.publish(f"{name}.us", b"later")
    more = api.get(path, headers=admin_headers, params={"cursor": tail["next_cursor"]}).json()
    assert [(m["seq"], m["payload"]) for m in more["items"]] == [(26, "later")]
    oldest = api.get(
        path, headers=admin_headers, params={"start_seq": 2, "direction": "backward"}
    ).json()
    assert [m["seq"] for m in oldest["items"]] == [2, 1] and oldest["next_cursor"] is None


async def test_browse_by_time(api, admin_headers, hub_cluster, hub_nc, make_stream):
    js = hub_nc.jetstream()
    name = make_stream()
    for i in range(5):
        await js.publish(f"{name}.a", f"before {i}".encode())
    await asyncio.sleep(0.05)
    middle = datetime.now(UTC)
    await asyncio.sleep(0.05)
    for i in range(5):
        await js.publish(f"{name}.a", f"after {i}".encode())
    path = messages_path(hub_cluster, name)
    params = {"start_time": middle.isoformat()}
    forward = api.get(path, headers=admin_headers, params=params).json()
    assert [m["seq"] for m in forward["items"]] == [6, 7, 8, 9, 10]
    backward = api.get(path, headers=admin_headers, params={**params, "direction": "backward"})
    assert [m["seq"] for m in backward.json()["items"]] == [5, 4, 3, 2, 1]
    future = api.get(path, headers=admin_headers, params={"start_time": "2999-01-01T00:00:00Z"})
    assert future.status_code == 200 and future.json()["items"] == []


async def test_payloads_are_decoded_and_capped(
    api, admin_headers, hub_cluster, hub_nc, make_stream
):
    js = hub_nc.jetstream()
    name = make_stream()
    payloads = [
        b'{"order": 1, "items": [1, 2]}',
        "plain text é".encode(),
        bytes(range(256)),
        ("é" * 50_000).encode(),
        b"",
        b"NaN",
    ]
    for payload in payloads:
        await js.publish(f"{name}.p", payload)

    def get(seq, **p):
        return api.get(
            messages_path(hub_cluster, name, str(seq)), headers=admin_headers, params=p
        ).json()

    assert get(1)["payload"] == {"order": 1, "items": [1, 2]} and get(1)["encoding"] == "json"
    assert (get(2)["payload"], get(2)["encoding"]) == ("plain text é", "text")
    binary = get(3)
    assert binary["encoding"] == "base64" and base64.b64decode(binary["payload"]) == bytes(
        range(256)
    )
    big = get(4)
    assert big["truncated"] and big["size"] == 100_000 and big["encoding"] == "text"
    assert big["payload"] == "é" * 32_768  # 64 KiB cap
    cut = get(4, payload_limit=5)  # cuts a two-byte character: the half is dropped
    assert (cut["payload"], cut["truncated"]) == ("éé", True)
    assert (get(5)["payload"], get(5)["encoding"], get(5)["size"]) == ("", "text", 0)
    assert (get(6)["payload"], get(6)["encoding"]) == ("NaN", "text")
    whole = get(4, payload_limit=200_000)
    assert not whole["truncated"] and len(whole["payload"]) == 50_000


async def test_last_message_and_last_per_subject(
    api, admin_headers, hub_cluster, hub_nc, make_stream
):
    js = hub_nc.jetstream()
    name = make_stream()
    for region in ("eu", "us", "eu", "ap", "us", "eu"):
        await js.publish(f"{name}.orders.{region}", region.encode())
    last = api.get(
        messages_path(hub_cluster, name, "last"),
        headers=admin_headers,
        params={"subject": f"{name}.orders.us"},
    )
    assert last.status_code == 200 and last.json()["seq"] == 5
    newest = api.get(
        messages_path(hub_cluster, name, "last"),
        headers=admin_headers,
        params={"subject": f"{name}.orders.*"},
    )
    assert newest.json()["seq"] == 6
    per_subject = api.get(
        messages_path(hub_cluster, name, "last-per-subject"), headers=admin_headers
    ).json()
    assert [(m["subject"].rsplit(".", 1)[1], m["seq"]) for m in per_subject["items"]] == [
        ("ap", 4),
        ("eu", 6),
        ("us", 5),
    ]
    assert per_subject["subjects"] == 3 and not per_subject["truncated"]
    limited = api.get(
        messages_path(hub_cluster, name, "last-per-subject"),
        headers=admin_headers,
        params={"subject": f"{name}.orders.*", "limit": 2},
    ).json()
    assert len(limited["items"]) == 2 and limited["truncated"]
    none = api.get(
        messages_path(hub_cluster, name, "last"),
        headers=admin_headers,
        params={"subject": f"{name}.nothing"},
    )
    assert none.status_code == 404


async def test_publish_with_headers_and_msg_id(
    api, admin_headers, hub_cluster, hub_nc, make_stream
):
    js = hub_nc.jetstream()
    name = make_stream(duplicate_window="1m")
    path = messages_path(hub_cluster, name)
    body = {
        "subject": f"{name}.orders",
        "payload": {"id": 7},
        "headers": {"X-Trace": "abc"},
        "msg_id": "order-7",
    }
    first = api.post(path, headers=admin_headers, json=body)
    assert first.status_code == 201, first.text
    assert first.json() == {"stream": name, "seq": 1, "duplicate": False}
    stored = await js.get_msg(name, 1)
    assert json.loads(stored.data) == {"id": 7}
    assert stored.headers["X-Trace"] == "abc" and stored.headers["Nats-Msg-Id"] == "order-7"
    again = api.post(path, headers=admin_headers, json=body)
    assert again.status_code == 200 and again.json() == {
        "stream": name,
        "seq": 1,
        "duplicate": True,
    }
    assert (await js.stream_info(name)).state.messages == 1

    raw = api.post(
        path,
        headers=admin_headers,
        json={
            "subject": f"{name}.bin",
            "payload": base64.b64encode(b"\x00\xff").decode(),
            "encoding": "base64",
            "headers": {"X-One": ["only"]},
        },
    )
    assert raw.status_code == 201 and (await js.get_msg(name, 2)).data == b"\x00\xff"
    text = api.post(path, headers=admin_headers, json={"subject": f"{name}.t", "payload": "hi"})
    assert (await js.get_msg(name, text.json()["seq"])).data == b"hi"

    event = wait_for_audit(
        api,
        admin_headers,
        action="message.publish",
        resource_name=name,
        resource_id=f"{hub_cluster['id']}/{name}/1",
    )
    assert event["changes"]["msg_id"] == "order-7" and event["status"] == "success"

    for bad, field in (
        ({"subject": "elsewhere.x", "payload": "x"}, "subject"),
        ({"subject": f"{name}.*", "payload": "x"}, "subject"),
        ({"subject": f"{name}..x", "payload": "x"}, "subject"),
        ({"subject": f"{name}.x", "payload": "%%", "encoding": "base64"}, "payload"),
        ({"subject": f"{name}.x", "payload": 5, "encoding": "text"}, "payload"),
        ({"subject": f"{name}.x", "headers": {"A": ["1", "2"]}}, "headers.A"),
        ({"subject": f"{name}.x", "headers": {"Bad Name": "1"}}, "headers.Bad Name"),
        ({"subject": f"{name}.x", "surprise": 1}, "surprise"),
    ):
        reply = api.post(path, headers=admin_headers, json=bad)
        assert reply.status_code == 422, (bad, reply.text)
        assert reply.json()["errors"][0]["field"] == field, reply.text
    assert (await js.stream_info(name)).state.messages == 3


async def test_delete_one_message(
    api, admin_headers, hub_cluster, hub_nc, make_stream, make_member
):
    js = hub_nc.jetstream()
    name = make_stream()
    for i in range(3):
        await js.publish(f"{name}.x", f"m{i}".encode())
    path = messages_path(hub_cluster, name, "2")
    editor, _, _ = await make_member("editor")
    assert api.delete(path, headers=editor).status_code == 403  # needs streams:purge
    assert api.delete(path, headers=admin_headers).status_code == 204
    with pytest.raises(NotFoundError):
        await js.get_msg(name, 2)
    assert (await js.stream_info(name)).state.messages == 2
    assert api.delete(path, headers=admin_headers).status_code == 404
    assert api.get(path, headers=admin_headers).status_code == 404
    assert (
        api.delete(
            messages_path(hub_cluster, name, "3"), headers=admin_headers, params={"erase": "true"}
        ).status_code
        == 204
    )
    event = wait_for_audit(
        api, admin_headers, action="message.delete", resource_id=f"{hub_cluster['id']}/{name}/2"
    )
    assert event["changes"]["subject"] == f"{name}.x"
    wait_for_audit(api, admin_headers, action="streams.purge", status="denied", resource_name=path)


async def test_export_json_lines_and_csv(api, admin_headers, hub_cluster, hub_nc, make_stream):
    js = hub_nc.jetstream()
    name = make_stream()
    for i in range(1, 21):
        data = bytes([0, i]) if i == 7 else json.dumps({"i": i}).encode()
        await js.publish(f"{name}.{'a' if i % 2 else 'b'}", data, headers={"N": str(i)})
    path = messages_path(hub_cluster, name, "export")
    with api.stream(
        "GET", path, headers=admin_headers, params={"start_seq": 5, "end_seq": 15}
    ) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("application/x-ndjson")
        assert "attachment" in reply.headers["content-disposition"]
        lines = [json.loads(line) for line in reply.iter_lines() if line]
    assert [r["seq"] for r in lines] == list(range(5, 16))
    assert lines[0]["payload"] == '{"i": 5}' and lines[0]["encoding"] == "text"
    assert lines[2]["encoding"] == "base64" and base64.b64decode(lines[2]["payload"]) == b"\x00\x07"
    assert lines[0]["headers"] == {"N": ["5"]}

    reply = api.get(path, headers=admin_headers, params={"format": "csv", "subject": f"{name}.b"})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert [int(r["seq"]) for r in rows] == list(range(2, 21, 2))
    assert rows[0]["subject"] == f"{name}.b" and json.loads(rows[0]["payload"]) == {"i": 2}
    assert json.loads(rows[0]["headers"]) == {"N": ["2"]}

    bad = api.get(path, headers=admin_headers, params={"start_seq": 9, "end_seq": 3})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "end_seq"
    assert api.get(path, headers=admin_headers, params={"format": "xml"}).status_code == 422


@pytest.mark.parametrize("retention,direct", [("workqueue", False), ("interest", True)])
async def test_browsing_leaves_work_queue_and_interest_streams_unchanged(
    api, admin_headers, hub_cluster, hub_nc, make_stream, retention, direct
):
    js = hub_nc.jetstream()
    name = make_stream(retention=retention, allow_direct=direct)
    consumers = streams_path(hub_cluster, name, "consumers")
    created = api.post(
        consumers, headers=admin_headers, json={"durable_name": "workers", "ack_policy": "explicit"}
    )
    assert created.status_code == 201, created.text
    for i in range(30):
        await js.publish(f"{name}.{'x' if i % 2 else 'y'}", f"job {i}".encode())
    before_stream = (await js.stream_info(name)).state
    before_consumer = await js.consumer_info(name, "workers")
    assert before_stream.messages == 30 and before_consumer.num_pending == 30

    path = messages_path(hub_cluster, name)
    assert len(browse_all(api, admin_headers, path, limit=7)) == 30
    assert len(browse_all(api, admin_headers, path, limit=7, direction="backward")) == 30
    assert len(browse_all(api, admin_headers, path, limit=4, subject=f"{name}.x")) == 15
    assert api.get(messages_path(hub_cluster, name, "3"), headers=admin_headers).status_code == 200
    assert (
        api.get(
            messages_path(hub_cluster, name, "last"),
            headers=admin_headers,
            params={"subject": f"{name}.x"},
        ).status_code
        == 200
    )
    assert (
        api.get(
            messages_path(hub_cluster, name, "last-per-subject"), headers=admin_headers
        ).status_code
        == 200
    )
    assert (
        len(
            api.get(
                messages_path(hub_cluster, name, "export"), headers=admin_headers
            ).text.splitlines()
        )
        == 30
    )

    after_stream = (await js.stream_info(name)).state
    after_consumer = await js.consumer_info(name, "workers")
    assert after_stream.messages == 30
    assert (after_stream.first_seq, after_stream.last_seq, after_stream.bytes) == (
        before_stream.first_seq,
        before_stream.last_seq,
        before_stream.bytes,
    )
    assert after_stream.consumer_count == 1
    assert [c.name for c in await js.consumers_info(name)] == ["workers"]
    assert after_consumer.num_pending == 30 and after_consumer.num_ack_pending == 0
    assert after_consumer.delivered.stream_seq == before_consumer.delivered.stream_seq == 0


def test_unknown_stream_or_message_is_404_and_bad_input_422(
    api, admin_headers, hub_cluster, make_stream
):
    missing = messages_path(hub_cluster, "no-such-stream")
    for path in (missing, f"{missing}/1", f"{missing}/last-per-subject"):
        assert api.get(path, headers=admin_headers).status_code == 404
    assert (
        api.post(
            missing, headers=admin_headers, json={"subject": "a.b", "payload": "x"}
        ).status_code
        == 404
    )
    name = make_stream()
    path = messages_path(hub_cluster, name)
    assert api.get(f"{path}/1", headers=admin_headers).status_code == 404
    for params, field in (
        ({"start_seq": 0}, "start_seq"),
        ({"limit": 5000}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"subject": "a..b"}, "subject"),
        ({"subject": "a.>.b"}, "subject"),
        ({"direction": "sideways"}, "direction"),
        ({"start_seq": 3, "start_time": "2024-01-01T00:00:00Z"}, "start_time"),
    ):
        reply = api.get(path, headers=admin_headers, params=params)
        assert reply.status_code == 422, (params, reply.text)
        assert reply.json()["errors"][0]["field"] == field
    cursor = api.get(path, headers=admin_headers).json()["next_cursor"]
    turned = api.get(
        path, headers=admin_headers, params={"cursor": cursor, "direction": "backward"}
    )
    assert turned.status_code == 422 and turned.json()["errors"][0]["field"] == "direction"
    assert api.get(f"{path}/last", headers=admin_headers).status_code == 422
    assert api.get(messages_path(hub_cluster, "bad.name"), headers=admin_headers).status_code == 422


async def test_viewer_reads_but_cannot_publish(api, hub_cluster, make_stream, make_member):
    viewer, _, _ = await make_member("viewer")
    name = make_stream()
    path = messages_path(hub_cluster, name)
    assert api.get(path, headers=viewer).status_code == 200
    denied = api.post(path, headers=viewer, json={"subject": f"{name}.x", "payload": "x"})
    assert denied.status_code == 403
