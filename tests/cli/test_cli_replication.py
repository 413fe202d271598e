"""jsc mirror, jsc dr and jsc failover against the real stack (hub and dr NATS servers linked by a
leafnode): a filtered mirror from a sequence created with --wait and checked on dr message by
message, listed, paused (it falls behind, as ``jsc dr status`` says in 80 columns), resumed and
removed; the API's refusals as sentences; a DR pair created with its mirror, shown, drilled step by
step with production untouched, a failover that asks first and says the risk before asking, and a
viewer refused. The parsing of the options without the stack."""

from __future__ import annotations

import json
import re
from functools import partial

import pytest

from cli.client import CliError
from cli.commands.dr import drill_text, parse_pair_streams, step_line
from cli.commands.mirror import parse_start
from tests.api.orgs import invite, signup
from tests.cli.conftest import Jsc, fails, signed_in, unique
from tests.operations.conftest import fill
from tests.waiting import wait_until

DEADLINE_S = 120


def wide_lines(text: str, width: int = 80) -> list[str]:
    return [line for line in text.splitlines() if len(line) > width]


def status_json(jsc) -> dict:
    return json.loads(jsc.ok("dr", "status", "--json").stdout)


def edge_of(rmap: dict, target: str) -> dict | None:
    return next((e for e in rmap["edges"] if e["target_stream"] == target), None)


until = partial(wait_until, timeout=DEADLINE_S, every=0.5)


async def test_a_filtered_mirror_from_a_sequence_paused_resumed_removed(
    jsc, hub_cluster, dr_cluster, hub_nc, dr_nc
):
    js, dr = hub_nc.jetstream(), dr_nc.jetstream()
    src = unique("CLI-MIR").upper()
    mirror = f"{src}_M"
    await js.add_stream(name=src, subjects=[f"{src}.>"])
    await fill(js, [f"{src}.a", f"{src}.b"], 40)  # odd sequences on .a
    try:
        out = jsc.ok(
            "mirror",
            "create",
            "--source-cluster",
            "test-hub",
            "--source-stream",
            src,
            "--target-cluster",
            "test-dr",
            "--target-stream",
            mirror,
            "--filter",
            f"{src}.a",
            "--start",
            "seq:11",
            "--replicas",
            "1",
            "--storage",
            "memory",
            "--max-bytes",
            "1MiB",
            "--max-age",
            "1h",
            "--wait",
        ).stdout
        assert re.search(r"operation [0-9a-f-]{36}", out), out
        assert f"Mirror test-dr/{mirror} is in sync: 15 messages" in out, out
        info = await dr.stream_info(mirror)
        assert info.state.messages == 15 and info.state.first_seq == 11
        assert getattr(info.config.storage, "value", info.config.storage) == "memory"
        assert info.config.max_bytes == 1024**2
        first = await dr.get_msg(mirror, 11)
        assert first.subject == f"{src}.a"

        listed = jsc.ok("mirror", "ls", COLUMNS="80").stdout
        assert f"test-dr/{mirror}" in listed and "active" in listed
        assert not wide_lines(listed), listed
        [item] = [
            m
            for m in json.loads(jsc.ok("mirror", "ls", "--json").stdout)["items"]
            if m["target_stream"] == mirror
        ]
        assert item["filter_subjects"] == [f"{src}.a"] and item["start"] == {"seq": 11}

        paused = jsc.ok("mirror", "pause", mirror).stdout
        assert f"Replication into test-dr/{mirror} is paused" in paused
        await fill(js, [f"{src}.a"], 5)
        edge = until(
            lambda: (
                (e := edge_of(status_json(jsc), mirror))
                and e["status"] == "paused"
                and e["lag_messages"] == 5
                and e
            ),
            "the paused mirror to be 5 behind",
        )
        assert edge["managed"] is True and edge["source_stream"] == src
        table = jsc.ok("dr", "status", COLUMNS="80").stdout
        assert not wide_lines(table), table
        assert mirror in table and "paused" in table

        assert "resumed" in jsc.ok("mirror", "resume", item["id"][:8]).stdout
        until(
            lambda: (
                (e := edge_of(status_json(jsc), mirror))
                and e["status"] == "in_sync"
                and e["lag_messages"] == 0
            ),
            "the mirror to catch up",
        )
        assert (await dr.stream_info(mirror)).state.messages == 20

        fails(jsc("mirror", "rm", mirror), "Refusing without confirmation")
        assert "removed" in jsc.ok("mirror", "rm", mirror, "--force").stdout
        until(
            lambda: (
                not [
                    m
                    for m in json.loads(jsc.ok("mirror", "ls", "--json").stdout)["items"]
                    if m["target_stream"] == mirror and m["state"] != "removed"
                ]
            ),
            "the mirror to be gone",
        )
    finally:
        await js.delete_stream(src)
        try:
            await dr.delete_stream(mirror)
        except Exception:  # noqa: BLE001 - removed by the test
            pass


async def test_refusals_are_sentences(jsc, hub_cluster, dr_cluster, hub_nc, dr_nc):
    js, dr = hub_nc.jetstream(), dr_nc.jetstream()
    src = unique("CLI-REF").upper()
    await js.add_stream(name=src, subjects=[f"{src}.>"])
    await dr.add_stream(name=src, subjects=[f"{src}.>"])
    try:
        fails(
            jsc(
                "mirror",
                "create",
                "--source-cluster",
                "test-hub",
                "--source-stream",
                unique("MISSING"),
                "--target-cluster",
                "test-dr",
            ),
            "does not exist",
        )
        fails(
            jsc(
                "mirror",
                "create",
                "--source-cluster",
                "test-hub",
                "--source-stream",
                src,
                "--target-cluster",
                "test-dr",
            ),
            "already exists",
        )
        fails(
            jsc(
                "mirror",
                "create",
                "--source-cluster",
                "test-hub",
                "--source-stream",
                src,
                "--target-cluster",
                "test-hub",
            ),
            "cannot mirror itself",
        )
        fails(
            jsc(
                "mirror",
                "create",
                "--source-cluster",
                "test-hub",
                "--source-stream",
                src,
                "--target-cluster",
                "test-dr",
                "--start",
                "yesterday",
            ),
            "--start",
        )
        fails(jsc("mirror", "pause", unique("NO-SUCH")), "No mirror")
        fails(jsc("failover", unique("no-pair"), "--force"), "No DR pair named")
    finally:
        await js.delete_stream(src)
        await dr.delete_stream(src)


async def test_a_pair_with_its_mirror_drilled_then_a_failover_asks_first(
    jsc, hub_cluster, dr_cluster, hub_nc, dr_nc
):
    js, dr = hub_nc.jetstream(), dr_nc.jetstream()
    src = unique("CLI-PAIR").upper()
    pair = unique("cli-pair")
    await js.add_stream(name=src, subjects=[f"{src}.>"])
    await fill(js, [f"{src}.a"], 25)
    try:
        out = jsc.ok(
            "dr",
            "pair",
            "create",
            pair,
            "--primary",
            "test-hub",
            "--standby",
            "test-dr",
            "--stream",
            src,
            "--rpo",
            "10",
            "--wait",
        ).stdout
        assert f"DR pair {pair} created" in out and "RPO 10s, RTO 30s" in out, out
        assert f"Mirror test-dr/{src} is in sync: 25 messages" in out, out
        listed = jsc.ok("dr", "pair", "ls", COLUMNS="80").stdout
        assert pair in listed and not wide_lines(listed), listed

        shown = until(
            lambda: (
                (s := jsc.ok("dr", "pair", "show", pair, COLUMNS="80").stdout)
                and "holds" in s
                and s
            ),
            "the pair's RPO to hold",
        )
        assert "Last drill" in shown and "none" in shown and not wide_lines(shown)
        assert re.search(rf"{src}\s+{src}\s+0\s+.*in sync", shown), shown

        before = await js.stream_info(src)
        drilled = jsc.ok("failover", pair, "--drill", "--wait").stdout
        assert "Data-loss risk now: none" in drilled, drilled
        assert re.search(r"✔ measure\s+done", drilled), drilled
        assert re.search(r"✔ promote\s+done", drilled), drilled
        assert re.search(r"Drill: RTO [\d.]+m?s, 0 messages lost\.", drilled), drilled
        after = await js.stream_info(src)
        assert after.state.messages == before.state.messages == 25
        assert (await dr.stream_info(src)).config.mirror is not None  # still a mirror
        assert re.search(
            r"Last drill\s+RTO [\d.]+m?s, RPO 0", jsc.ok("dr", "pair", "show", pair).stdout
        )
        status = jsc.ok("dr", "status", COLUMNS="80").stdout
        assert pair in status and not wide_lines(status), status

        # a real failover says the risk, then asks; without a terminal it needs --force
        asked = jsc("failover", pair, "--to", "test-dr")
        fails(asked, "Refusing without confirmation: add --force")
        assert "Data-loss risk now" in asked.stdout
        fails(jsc("failover", pair, "--to", "test-hub", "--force"), "already the active side")
        fails(jsc("failover", pair, "--drill", "--reverse"), "A drill touches neither side")
    finally:
        jsc("dr", "pair", "delete", pair, "--force")
        for m in json.loads(jsc.ok("mirror", "ls", "--json").stdout)["items"]:
            if m["target_stream"] == src and m["state"] != "removed":
                jsc("mirror", "rm", m["id"], "--force")
        await js.delete_stream(src)
        try:
            await dr.delete_stream(src)
        except Exception:  # noqa: BLE001 - removed with its mirror
            pass


async def test_a_viewer_reads_but_cannot_fail_over(api, stack, tmp_path, hub_nc):
    js = hub_nc.jetstream()
    src = unique("CLI-VIEW").upper()
    await js.add_stream(name=src, subjects=[f"{src}.>"])
    admin = signup(api)
    viewer = invite(api, admin, "viewer")
    boss = signed_in(stack.api_url, tmp_path / "admin.json", admin.email, admin.password)
    assert json.loads(boss.ok("cluster", "ls", "--json").stdout)["items"] == []
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
        "dr",
        "pair",
        "create",
        "viewed",
        "--primary",
        "v-hub",
        "--standby",
        "v-dr",
        "--stream",
        src,
        "--no-create-mirrors",
    ).stdout
    assert "DR pair viewed created" in out and "Creating the missing mirrors" not in out
    reader: Jsc = signed_in(stack.api_url, tmp_path / "viewer.json", viewer.email, viewer.password)
    assert "viewed" in reader.ok("dr", "pair", "ls").stdout
    reader.ok("dr", "status")
    fails(reader("failover", "viewed", "--drill"), "Your role 'viewer' does not allow failover")
    fails(reader("failover", "viewed", "--force"), "Your role 'viewer' does not allow failover")
    fails(reader("dr", "pair", "delete", "viewed", "--force"), "does not allow delete")
    boss.ok("dr", "pair", "delete", "viewed", "--force")
    await js.delete_stream(src)


# -- parsing, without the stack ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("all", "all"),
        ("NEW", "new"),
        ("seq:1000", {"seq": 1000}),
        ("time:2025-06-01T12:00:00Z", {"time": "2025-06-01T12:00:00+00:00"}),
    ],
)
def test_start_positions(text, expected):
    assert parse_start(text) == expected


@pytest.mark.parametrize("bad", ["seq:0", "seq:x", "yesterday", "time:soon"])
def test_bad_start_positions_are_sentences(bad):
    with pytest.raises(CliError, match="--start"):
        parse_start(bad)


def test_pair_streams_and_drills_and_steps():
    assert parse_pair_streams(["ORDERS", "PAY=PAY_DR,REFUNDS"]) == [
        {"stream": "ORDERS"},
        {"stream": "PAY", "mirror_stream": "PAY_DR"},
        {"stream": "REFUNDS"},
    ]
    with pytest.raises(CliError, match="STREAM=MIRROR"):
        parse_pair_streams(["PAY="])
    assert drill_text(None) is None
    assert drill_text({"rto_s": 1.23, "rpo_messages": 0, "ok": False}) == "RTO 1.2s, RPO 0 (failed)"
    assert (
        step_line(
            {
                "name": "catch_up",
                "status": "done",
                "started_at": "2025-01-01T00:00:00Z",
                "finished_at": "2025-01-01T00:00:00.250Z",
                "detail": "all 3 mirrors hold every message",
            }
        )
        == "  ✔ catch up   done (250ms): all 3 mirrors hold every message"
    )
