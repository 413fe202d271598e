"""jsc replay and jsc op against the real worker: the progress bar to completion, the copies
checked at the destination with nats-py, and Ctrl-C in a real terminal cancelling the operation."""

from __future__ import annotations

import json
import re

from tests.cli.conftest import fails, unique
from tests.operations.conftest import fill, read_all


async def test_replay_to_a_prefix_with_a_progress_bar(jsc, hub_cluster, hub_nc):
    js = hub_nc.jetstream()
    src = unique("cli-src")
    await js.add_stream(name=src, subjects=[f"{src}.>"])
    await fill(js, [f"{src}.eu", f"{src}.us"], 300)

    result = jsc.ok(
        "replay", "-c", "test-hub", "--stream", src, "--prefix", f"{src}.again", "--to-stream", src
    )
    out = result.stdout
    assert re.search(r"Replay started: operation [0-9a-f-]{36}", out), out
    assert re.search(r"300/300\s+100%", out), out  # the bar reached completion
    assert "Replayed 300 messages" in out and "0 failed" in out

    msgs = await read_all(hub_nc, src)
    copies = msgs[300:]
    assert len(msgs) == 600
    assert [m.headers["Nats-Replay-Source"] for m in copies] == [
        f"{src}:{i}" for i in range(1, 301)
    ]
    assert copies[0].subject == f"{src}.again.{src}.eu" and copies[0].data == msgs[0].data

    op_id = re.search(r"operation ([0-9a-f-]{36})", out).group(1)
    op = json.loads(jsc.ok("op", "get", op_id[:13], "--json").stdout)
    assert op["status"] == "completed" and op["result"]["replayed"] == 300
    assert op_id in jsc.ok("op", "ls", "--type", "replay").stdout

    # a subject filter and a sequence range, dry run: nothing is published
    dry = jsc.ok(
        "replay",
        "-c",
        "test-hub",
        "-s",
        src,
        "--subject",
        f"{src}.eu",
        "--from-seq",
        "1",
        "--to-seq",
        "100",
        "--prefix",
        "x",
        "--dry-run",
    ).stdout
    assert "Dry run: 50 messages" in dry
    assert (await js.stream_info(src)).state.messages == 600

    # --redrive alone takes the default header; with a value, that header
    for args, header in (
        (["--redrive"], "Nats-Original-Subject"),
        (["--redrive", "X-Dead-Letter-Subject"], "X-Dead-Letter-Subject"),
    ):
        op = json.loads(
            jsc.ok("replay", "-c", "test-hub", "-s", src, *args, "--dry-run", "--json").stdout
        )
        assert op["status"] == "completed" and op["input"]["redrive"] == {"header": header}

    # started without waiting, followed later
    started = json.loads(
        jsc.ok(
            "replay",
            "-c",
            "test-hub",
            "-s",
            src,
            "--to-seq",
            "10",
            "--to-subject",
            f"{src}.one",
            "--no-wait",
            "--json",
        ).stdout
    )
    followed = jsc.ok("op", "get", started["id"], "--wait").stdout
    assert "Replayed 10 messages" in followed
    assert (await js.stream_info(src)).state.messages == 610
    await js.delete_stream(src)


async def test_replay_refusals_and_failures_exit_1(jsc, hub_cluster, hub_nc):
    js = hub_nc.jetstream()
    src = unique("cli-fail")
    await js.add_stream(name=src, subjects=[f"{src}.>"])
    await fill(js, [f"{src}.a"], 5)
    fails(
        jsc("replay", "-c", "test-hub", "-s", src, "--to-subject", unique("nowhere") + ".x"),
        "The operation failed",
        "no stream on the destination stores this subject",
    )
    await js.delete_stream(src)

    fails(
        jsc("replay", "-c", "test-hub", "-s", unique("missing"), "--prefix", "p"), "does not exist"
    )
    fails(
        jsc("replay", "-c", "test-hub", "-s", "x", "--to-subject", "a", "--prefix", "b"),
        "--to-subject or --prefix",
    )
    fails(
        jsc("replay", "-c", "test-hub", "-s", "x", "--since", "yesterday", "--prefix", "p"),
        "--since: 'yesterday'",
    )


async def test_ctrl_c_in_a_terminal_cancels_the_operation(terminal, jsc, hub_cluster, hub_nc):
    js = hub_nc.jetstream()
    src = unique("cli-slow")
    await js.add_stream(name=src, subjects=[f"{src}.>"])
    await fill(js, [f"{src}.a"], 600)  # 20 s at 30/s: several 5-second chunks

    term = terminal("replay", "-c", "test-hub", "-s", src, "--prefix", f"{src}.r", "--rate", "30")
    op_id = term.expect(r"operation ([0-9a-f-]{36})").group(1)
    term.expect(r"\b([1-9]\d*)/600\b", timeout=30)  # the live bar, moving
    term.interrupt()
    term.expect(r"Cancel the operation, or detach")
    term.type("cancel\n")
    assert term.wait() == 1, term.text
    assert "Cancellation requested" in term.text
    assert "The operation was cancelled." in term.text and "Traceback" not in term.text

    op = json.loads(jsc.ok("op", "get", op_id, "--json").stdout)
    assert op["status"] == "cancelled", op
    copied = (await js.stream_info(src)).state.messages - 600
    assert 0 < copied < 600 and op["result"]["replayed"] == copied
    await js.delete_stream(src)
