"""jsc stream and consumer commands, checked against the NATS server itself with nats-py."""

from __future__ import annotations

import json

import pytest
from nats.js.errors import NotFoundError

from tests.cli.conftest import fails, unique

HOUR_NS = 3600 * 10**9


async def test_stream_add_info_edit_purge_rm(jsc, hub_cluster, hub_nc, tmp_path):
    js = hub_nc.jetstream()
    name = unique("cli-stream")
    out = jsc.ok(
        "stream",
        "add",
        name,
        "-c",
        "test-hub",
        "--subjects",
        f"{name}.a,{name}.b",
        "--subjects",
        f"{name}.c.>",
        "--max-age",
        "72h",
        "--storage",
        "memory",
        "--max-bytes",
        "10MB",
        "--retention",
        "limits",
    ).stdout
    assert f"Stream '{name}' created on test-hub" in out and "3d" in out
    info = await js.stream_info(name)
    assert info.config.subjects == [f"{name}.a", f"{name}.b", f"{name}.c.>"]
    storage = getattr(info.config.storage, "value", info.config.storage)
    assert info.config.max_age == 72 * 3600 and storage == "memory"
    assert info.config.max_bytes == 10 * 1024 * 1024

    shown = json.loads(jsc.ok("stream", "info", name, "-c", hub_cluster["id"], "--json").stdout)
    assert shown["config"]["max_age"] == 72 * HOUR_NS
    assert name in jsc.ok("stream", "ls", "-c", "test-hub").stdout

    out = jsc.ok(
        "stream", "edit", name, "-c", "test-hub", "--max-age", "1d", "--max-msgs", "500"
    ).stdout
    assert "max_age: 3d -> 1d" in out and "max_msgs: unlimited -> 500" in out, out
    info = await js.stream_info(name)
    assert info.config.max_age == 24 * 3600 and info.config.max_msgs == 500

    # a JetStream JSON config, from a file and from stdin
    config = tmp_path / "stream.json"
    config.write_text(json.dumps({"description": "from a file", "max_msgs_per_subject": 10}))
    jsc.ok("stream", "edit", name, "-c", "test-hub", "--config", str(config))
    info = await js.stream_info(name)
    assert info.config.description == "from a file" and info.config.max_msgs_per_subject == 10
    other = unique("cli-stream")
    jsc.ok(
        "stream",
        "add",
        "-c",
        "test-hub",
        "--config",
        "-",
        "--replicas",
        "1",
        input=json.dumps({"name": other, "subjects": [f"{other}.>"], "max_age": "2h"}),
    )
    assert (await js.stream_info(other)).config.max_age == 2 * 3600

    for i in range(6):
        await js.publish(f"{name}.a" if i % 2 else f"{name}.b", f"m{i}".encode())
    preview = jsc.ok(
        "stream", "purge", name, "-c", "test-hub", "--subject", f"{name}.a", "--dry-run"
    ).stdout
    assert "Would purge 3 messages" in preview
    assert (await js.stream_info(name)).state.messages == 6
    out = jsc.ok(
        "stream", "purge", name, "-c", "test-hub", "--subject", f"{name}.a", "--force"
    ).stdout
    assert "Purged 3 messages" in out
    assert (await js.stream_info(name)).state.messages == 3
    fails(
        jsc("stream", "purge", name, "-c", "test-hub"), "Refusing without confirmation", "--force"
    )
    assert (await js.stream_info(name)).state.messages == 3
    assert (
        json.loads(
            jsc.ok(
                "stream", "purge", name, "-c", "test-hub", "--keep", "1", "--force", "--json"
            ).stdout
        )["purged"]
        == 2
    )

    jsc.ok("stream", "rm", name, "-c", "test-hub", "--force")
    jsc.ok("stream", "rm", other, "-c", "test-hub", "--force")
    for gone in (name, other):
        with pytest.raises(NotFoundError):
            await js.stream_info(gone)


async def test_stream_input_errors_name_the_field(jsc, hub_cluster):
    name = unique("cli-bad")
    fails(
        jsc("stream", "add", name, "-c", "test-hub", "--subjects", "has blank"),
        "Invalid input",
        "subjects",
    )
    fails(
        jsc(
            "stream",
            "add",
            name,
            "-c",
            "test-hub",
            "--config",
            "-",
            input='{"subjects": ["x"], "max_agee": 1}',
        ),
        "max_agee",
        "is not a known field",
    )
    fails(
        jsc("stream", "add", name, "-c", "test-hub", "--max-age", "3 days"),
        "--max-age: '3 days' is not a duration",
    )
    fails(
        jsc("stream", "add", name, "-c", "test-hub", "--config", "-", input="{not json"),
        "not valid JSON",
    )
    fails(jsc("stream", "edit", name, "-c", "test-hub"), "Nothing to change")


async def test_consumers(jsc, hub_cluster, hub_nc):
    js = hub_nc.jetstream()
    stream = unique("cli-cons")
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    for i in range(4):
        await js.publish(f"{stream}.x" if i % 2 else f"{stream}.y", b"m")

    out = jsc.ok(
        "consumer",
        "add",
        stream,
        "worker",
        "-c",
        "test-hub",
        "--filter",
        f"{stream}.x",
        "--ack-wait",
        "45s",
        "--max-deliver",
        "5",
    ).stdout
    assert "Consumer 'worker' created" in out
    info = await js.consumer_info(stream, "worker")
    assert info.config.filter_subject == f"{stream}.x" and info.config.ack_wait == 45
    assert info.config.max_deliver == 5 and info.num_pending == 2

    jsc.ok(
        "consumer",
        "add",
        stream,
        "-c",
        "test-hub",
        "--config",
        "-",
        input=json.dumps({"durable_name": "audit", "ack_policy": "none", "deliver_policy": "new"}),
    )
    listed = jsc.ok("consumer", "ls", stream, "-c", "test-hub").stdout
    assert "worker" in listed and "audit" in listed
    shown = json.loads(
        jsc.ok("consumer", "info", stream, "worker", "-c", "test-hub", "--json").stdout
    )
    assert shown["num_pending"] == 2

    jsc.ok("consumer", "pause", stream, "worker", "-c", "test-hub", "--for", "1h")
    assert (await js.consumer_info(stream, "worker")).paused
    jsc.ok("consumer", "resume", stream, "worker", "-c", "test-hub")
    assert not (await js.consumer_info(stream, "worker")).paused

    out = jsc.ok(
        "consumer",
        "edit",
        stream,
        "worker",
        "-c",
        "test-hub",
        "--ack-wait",
        "1m",
        "--max-deliver",
        "7",
    ).stdout
    assert "ack_wait: 45s -> 1m" in out and "max_deliver: 5 -> 7" in out, out
    info = await js.consumer_info(stream, "worker")
    assert info.config.ack_wait == 60 and info.config.max_deliver == 7
    assert info.config.filter_subject == f"{stream}.x"  # the rest is kept
    fails(jsc("consumer", "edit", stream, "worker", "-c", "test-hub"), "Nothing to change")

    fails(jsc("consumer", "add", stream, "-c", "test-hub"), "Give the consumer's name")
    jsc.ok("consumer", "rm", stream, "audit", "-c", "test-hub", "--force")
    with pytest.raises(NotFoundError):
        await js.consumer_info(stream, "audit")
    await js.delete_stream(stream)
