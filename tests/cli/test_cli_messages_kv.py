"""jsc msg and kv commands, checked against the NATS server with nats-py."""

from __future__ import annotations

import json

from tests.cli.conftest import fails, unique


async def test_publish_get_browse(jsc, hub_cluster, hub_nc):
    js = hub_nc.jetstream()
    stream = unique("cli-msg")
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])

    # the stream is found from the subject; headers and Nats-Msg-Id are sent
    out = jsc.ok(
        "msg",
        "publish",
        f"{stream}.orders",
        "hello",
        "-c",
        "test-hub",
        "-H",
        "X-Trace: 42",
        "--msg-id",
        "order-1",
    ).stdout
    assert f"Published to '{stream}' as #1." in out
    dup = jsc.ok(
        "msg",
        "publish",
        f"{stream}.orders",
        "hello",
        "-c",
        "test-hub",
        "--msg-id",
        "order-1",
        "--json",
    ).stdout
    assert json.loads(dup) == {"stream": stream, "seq": 1, "duplicate": True}
    stored = await js.get_msg(stream, 1)
    assert stored.subject == f"{stream}.orders" and stored.data == b"hello"
    assert stored.headers["X-Trace"] == "42" and stored.headers["Nats-Msg-Id"] == "order-1"

    # stdin: JSON text as is, binary bytes exactly
    jsc.ok(
        "msg", "publish", f"{stream}.json", "--stream", stream, "-c", "test-hub", input='{"id": 7}'
    )
    jsc.ok("msg", "publish", f"{stream}.bin", "-", "-c", "test-hub", input=b"\xff\x00\x01")
    assert (await js.get_msg(stream, 2)).data == b'{"id": 7}'
    assert (await js.get_msg(stream, 3)).data == b"\xff\x00\x01"
    fails(jsc("msg", "publish", unique("nowhere") + ".x", "hi", "-c", "test-hub"), "captures")

    got = json.loads(jsc.ok("msg", "get", stream, "2", "-c", "test-hub", "--json").stdout)
    assert got["payload"] == {"id": 7} and got["encoding"] == "json"
    shown = jsc.ok("msg", "get", stream, "1", "-c", "test-hub").stdout
    assert "X-Trace" in shown and "hello" in shown and f"{stream}.orders" in shown
    assert (
        jsc.ok("msg", "get", stream, "3", "-c", "test-hub", "--raw").stdout_bytes == b"\xff\x00\x01"
    )
    fails(jsc("msg", "get", stream, "99", "-c", "test-hub"), "no message with sequence 99")

    # browse across the API's pages (1000 a page), by subject, and the newest
    for i in range(1200):
        await js.publish(f"{stream}.bulk.{i % 3}", f"{i}".encode())
    page = json.loads(
        jsc.ok("msg", "browse", stream, "-c", "test-hub", "--limit", "1100", "--json").stdout
    )
    assert [m["seq"] for m in page["items"]] == list(range(1, 1101)) and page["has_more"]
    page = json.loads(
        jsc.ok(
            "msg",
            "browse",
            stream,
            "-c",
            "test-hub",
            "--subject",
            f"{stream}.bulk.1",
            "--limit",
            "3",
            "--json",
        ).stdout
    )
    assert [m["payload"] for m in page["items"]] == [1, 4, 7]
    page = json.loads(
        jsc.ok("msg", "browse", stream, "-c", "test-hub", "--last", "2", "--json").stdout
    )
    assert [m["seq"] for m in page["items"]] == [1202, 1203]
    table = jsc.ok("msg", "browse", stream, "-c", "test-hub", "--limit", "3").stdout
    assert "SEQ" in table and f"{stream}.orders" in table and "--start-seq 4" in table
    await js.delete_stream(stream)


async def test_kv_put_get_history_rm(jsc, hub_cluster, hub_nc):
    js = hub_nc.jetstream()
    bucket = unique("clikv")
    jsc.ok("kv", "add", bucket, "-c", "test-hub", "--history", "5")
    kv = await js.key_value(bucket)
    assert bucket in jsc.ok("kv", "ls", "-c", "test-hub").stdout

    assert "revision 1" in jsc.ok("kv", "put", bucket, "app.color", "blue", "-c", "test-hub").stdout
    jsc.ok("kv", "put", bucket, "app.color", "red", "-c", "test-hub")
    jsc.ok("kv", "put", bucket, "app.conf", "-c", "test-hub", input='{"debug": true}')
    assert (await kv.get("app.color")).value == b"red"
    assert (await kv.get("app.conf")).value == b'{"debug": true}'
    fails(
        jsc("kv", "put", bucket, "app.color", "green", "-c", "test-hub", "--expect-revision", "1"),
        "is not at revision 1",
    )

    entry = json.loads(jsc.ok("kv", "get", bucket, "app.color", "-c", "test-hub", "--json").stdout)
    assert entry["value"] == "red" and entry["revision"] == 2
    assert (
        "blue"
        in jsc.ok("kv", "get", bucket, "app.color", "-c", "test-hub", "--revision", "1").stdout
    )
    assert (
        jsc.ok("kv", "get", bucket, "app.conf", "-c", "test-hub", "--raw").stdout
        == '{"debug": true}'
    )
    keys = json.loads(jsc.ok("kv", "ls", bucket, "-c", "test-hub", "--json").stdout)
    assert keys["items"] == ["app.color", "app.conf"]

    jsc.ok("kv", "rm", bucket, "app.color", "-c", "test-hub")
    history = json.loads(
        jsc.ok("kv", "history", bucket, "app.color", "-c", "test-hub", "--json").stdout
    )
    assert [(e["revision"], e["operation"]) for e in history["items"]] == [
        (1, "PUT"),
        (2, "PUT"),
        (4, "DEL"),
    ]
    fails(jsc("kv", "get", bucket, "app.color", "-c", "test-hub"), "was deleted")

    # without a key, rm deletes the bucket, once confirmed
    fails(jsc("kv", "rm", bucket, "-c", "test-hub"), "Refusing without confirmation")
    assert bucket in jsc.ok("kv", "ls", "-c", "test-hub").stdout
    assert (
        f"Bucket '{bucket}' deleted"
        in jsc.ok("kv", "rm", bucket, "-c", "test-hub", "--force").stdout
    )
    assert bucket not in jsc.ok("kv", "ls", "-c", "test-hub").stdout
