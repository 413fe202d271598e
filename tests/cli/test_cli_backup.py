"""jsc backup against the real stack (hub and dr NATS servers): a full backup of a stream with a
consumer, taken to dr's object store with --wait and verified; listed in 80 columns and as JSON;
shown; restored with --wait into a new stream (messages, sequences and the consumer's ack floor
checked on NATS); an incremental backup then a restore of the newest point of the chain; a taken
name refused with the API's sentence, and a viewer refused a restore. The parsing of the options
without the stack."""

from __future__ import annotations

import json
import re

import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from cli.client import CliError
from cli.commands.backup import cadence_text, parse_point, parse_target, status_key
from tests.api.orgs import invite, signup
from tests.cli.conftest import fails, signed_in, unique
from tests.operations.conftest import fill


def wide_lines(text: str, width: int = 80) -> list[str]:
    return [line for line in text.splitlines() if len(line) > width]


def backup_id_of(out: str) -> str:
    match = re.search(r"\(backup ([0-9a-f]{8})\)", out)
    assert match, out
    return match.group(1)


async def drop(js, *names: str) -> None:
    for name in names:
        try:
            await js.delete_stream(name)
        except Exception:  # noqa: BLE001 - not made when a step failed
            pass


async def test_backup_list_show_restore_then_an_incremental_chain(
    jsc, hub_cluster, dr_cluster, hub_nc
):
    js = hub_nc.jetstream()
    src = unique("CLI-BK").upper()
    first, newest = f"{src}_R1", f"{src}_R2"
    await js.add_stream(name=src, subjects=[f"{src}.>"])
    await fill(js, [f"{src}.a", f"{src}.b"], 30)
    await js.add_consumer(src, ConsumerConfig(durable_name="worker", ack_policy=AckPolicy.EXPLICIT))
    sub = await js.pull_subscribe_bind("worker", src)
    for msg in await sub.fetch(10, timeout=10):
        await msg.ack_sync()
    try:
        out = jsc.ok(
            "backup",
            "create",
            "-c",
            "test-hub",
            "--stream",
            src,
            "--target-cluster",
            "test-dr",
            "--wait",
        ).stdout
        assert re.search(r"operation [0-9a-f-]{36}", out), out
        short = backup_id_of(out)
        assert re.search(rf"Backup {short} \(full\): 1 stream\(s\), 30 messages", out), out
        assert f"{src}: full, #1..#30, 30 messages" in out, out
        assert "Verification: verified" in out, out

        listed = jsc.ok("backup", "ls", "-c", "test-hub", COLUMNS="80").stdout
        assert not wide_lines(listed), listed
        [line] = [row for row in listed.splitlines() if row.startswith(short)]
        assert "full" in line and "✔ verified" in line, line
        items = json.loads(jsc.ok("backup", "ls", "--json").stdout)["items"]
        [item] = [b for b in items if b["id"].startswith(short)]
        assert item["stream_count"] == 1 and item["verification"]["status"] == "verified"
        assert item["target"]["cluster_id"] == dr_cluster["id"]

        shown = jsc.ok("backup", "show", short, COLUMNS="80").stdout
        assert item["id"] in shown and "test-dr/jsc-backups" in shown and src in shown
        assert json.loads(jsc.ok("backup", "show", item["id"], "--json").stdout)["id"] == item["id"]

        out = jsc.ok(
            "backup",
            "restore",
            short,
            "--to-cluster",
            "test-hub",
            "--to-stream",
            first,
            "--subject",
            f"{first}.>",
            "--wait",
        ).stdout
        assert f"Restored test-hub/{first}: 30 messages (#1..#30), 1 consumer(s): worker." in out, (
            out
        )
        info = await js.stream_info(first)
        assert info.state.messages == 30 and info.config.subjects == [f"{first}.>"]
        consumer = await js.consumer_info(first, "worker")
        assert consumer.ack_floor.stream_seq == 10  # its ack floor came back with it

        fails(
            jsc(
                "backup",
                "restore",
                short,
                "--to-cluster",
                "test-hub",
                "--to-stream",
                first,
                "--subject",
                f"{first}.>",
            ),
            "exists",
        )

        await fill(js, [f"{src}.a"], 12)
        out = jsc.ok(
            "backup",
            "create",
            "-c",
            "test-hub",
            "-s",
            src,
            "--kind",
            "incremental",
            "--target-cluster",
            "test-dr",
            "--wait",
        ).stdout
        assert re.search(r"\(incremental\): 1 stream\(s\), 12 messages", out), out
        assert f"{src}: incremental, #31..#42" in out, out
        out = jsc.ok(
            "backup",
            "restore",
            short,
            "--to-cluster",
            "test-hub",
            "--to-stream",
            newest,
            "--subject",
            f"{newest}.>",
            "--point",
            "latest",
            "--wait",
        ).stdout
        assert f"Restored test-hub/{newest}: 42 messages (#1..#42)" in out, out
        assert "From a chain of 2 backups" in out, out
        assert (await js.stream_info(newest)).state.last_seq == 42
    finally:
        await drop(js, src, first, newest)


def test_refusals_are_sentences(jsc, hub_cluster, dr_cluster):
    fails(jsc("backup", "create", "-c", "test-hub", "--bucket", "b"), "--target-cluster")
    fails(jsc("backup", "create", "-c", "test-hub", "--all", "-s", "X"), "not both")
    fails(jsc("backup", "create", "-c", "test-hub", "--kind", "weekly"), "--kind")
    missing = unique("MISSING").upper()
    fails(
        jsc("backup", "create", "-c", "test-hub", "-s", missing, "--target-cluster", "test-dr"),
        missing,
    )
    fails(jsc("backup", "create", "-c", "test-hub", "-s", "X", "--directory", "../up"), "directory")
    fails(
        jsc("backup", "restore", "0000", "--to-cluster", "test-hub", "--to-stream", "X"),
        "No backup '0000'",
    )
    fails(
        jsc(
            "backup",
            "restore",
            "00000000-0000-0000-0000-000000000000",
            "--to-cluster",
            "test-hub",
            "--to-stream",
            "X",
        )
    )
    assert (
        "No backup schedules." in jsc.ok("backup", "schedules").stdout
        or "NAME" in jsc.ok("backup", "schedules").stdout
    )


async def test_a_viewer_reads_but_cannot_restore(api, stack, tmp_path, hub_nc):
    js = hub_nc.jetstream()
    src = unique("CLI-BK-VIEW").upper()
    await js.add_stream(name=src, subjects=[f"{src}.>"])
    try:
        admin = signup(api)
        viewer = invite(api, admin, "viewer")
        boss = signed_in(stack.api_url, tmp_path / "admin.json", admin.email, admin.password)
        for name, url, domain in (("v-hub", "JSC_HUB_URL", "hub"), ("v-dr", "JSC_DR_URL", "dr")):
            reply = api.post(
                "/api/v1/clusters",
                headers=admin.headers,
                json={
                    "name": name,
                    "environment": "development",
                    "server_urls": [stack.env[url]],
                    "jetstream_domain": domain,
                },
            )
            assert reply.status_code == 201, reply.text
        out = boss.ok(
            "backup", "create", "-c", "v-hub", "-s", src, "--target-cluster", "v-dr", "--wait"
        ).stdout
        short = backup_id_of(out)
        reader = signed_in(stack.api_url, tmp_path / "viewer.json", viewer.email, viewer.password)
        assert short in reader.ok("backup", "ls").stdout
        fails(
            reader("backup", "restore", short, "--to-cluster", "v-hub", "--to-stream", f"{src}_V"),
            "viewer",
        )
        fails(reader("backup", "create", "-c", "v-hub", "-s", src), "viewer")
    finally:
        await drop(js, src)


# -- parsing, without the stack ----------------------------------------------------------------


def test_targets_points_and_words():
    assert parse_target(None, None, None) is None
    assert parse_target({"id": "d"}, None, None) == {"cluster_id": "d"}
    assert parse_target({"id": "d"}, "b", None) == {"cluster_id": "d", "bucket": "b"}
    assert parse_target(None, None, "nightly") == {"directory": "nightly"}
    with pytest.raises(CliError, match="not both"):
        parse_target({"id": "d"}, None, "nightly")
    with pytest.raises(CliError, match="--target-cluster"):
        parse_target(None, "b", None)
    assert parse_point(None) == "backup" and parse_point("LATEST") == "latest"
    assert parse_point("2025-06-01T12:00:00Z") == {"time": "2025-06-01T12:00:00+00:00"}
    with pytest.raises(CliError, match="--point"):
        parse_point("soonish")
    assert (
        status_key({"status": "completed", "verification": {"status": "failed"}})
        == "verification_failed"
    )
    assert status_key({"status": "running"}) == "running"
    assert (
        cadence_text({"cron": "0 2 * * *", "retention_days": 30}) == "cron 0 2 * * * UTC, kept 30d"
    )
    assert cadence_text({"every": "1h", "retention_days": 7.5}) == "every 1h, kept 7.5d"
