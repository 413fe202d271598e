"""The Replication & DR page against the real API and the stack's two linked NATS servers (hub and
dr): a mirror shows as an edge of the topology and a row of the Replication Status table, and the
Pause / Resume buttons drive it; the mirror wizard makes a filtered mirror from a sequence (checked
message by message on dr) and shows the API's refusal of a taken name; a DR pair made from the form
creates its mirror, shows its RPO and the data at risk before any button is pressed, and a drill
started from "Test Failover" shows its steps and leaves production untouched; a production
failover shows its approval request; a viewer sees everything and no button. The pure parts (the
forms' checks, the picture's colours, the sentences) are tested without the stack."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import nats
import nats.js.errors
import pytest
from streamlit.testing.v1 import AppTest

from tests.api.orgs import Account, invite, signup
from ui import fmt, forms
from ui.client import (
    ApiClient,
    ApiError,
    Cluster,
    DrillResult,
    DrPair,
    Me,
    Organization,
    ReplicationMap,
)
from ui.replication_tabs import NEW_MIRROR, NEW_PAIR, PAIRS, TAB_KEY, TOPOLOGY
from ui.replication_tabs.pairs import OPS, drill_sentence, failover_spec, risk_sentence
from ui.replication_tabs.topology import topology_dot

from .conftest import (
    APP,
    RUN_TIMEOUT,
    log_in,
    make_stream,
    on_hub,
    open_page,
    remove_stream,
    rerun_until,
    texts,
    unique,
)

PAGE, TITLE = "replication.py", "Replication & DR"
OP_DEADLINE_S = 120


# --------------------------------------------------------------------------- helpers


def on_dr(stack, work):
    """``await work(js)`` against the dr NATS server; its result."""

    async def main():
        nc = await nats.connect(stack.env["JSC_DR_URL"])
        try:
            return await work(nc.jetstream())
        finally:
            await nc.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


async def drop(js, name: str) -> None:
    """Delete a stream straight on NATS, if it is there."""
    try:
        await js.delete_stream(name)
    except nats.js.errors.NotFoundError:
        pass


def stream_name(prefix: str) -> str:
    return unique(prefix).upper()


def wait_operation(client: ApiClient, op_id: str):
    """The operation once it ended (polled, generous deadline)."""
    deadline = time.monotonic() + OP_DEADLINE_S
    while True:
        try:
            op = client.get_operation(op_id)
        except ApiError as err:
            if err.status != 404:
                raise
        else:
            if op.finished:
                return op
        assert time.monotonic() < deadline, f"operation {op_id} did not end in {OP_DEADLINE_S}s"
        time.sleep(0.5)


def make_mirror(
    client: ApiClient, source: Cluster, stream: str, target: Cluster, mirror: str, **extra
) -> str:
    """A mirror made through the API, caught up; its id."""
    started = client.start_mirror(
        {
            "source_cluster_id": source.id,
            "source_stream": stream,
            "target_cluster_id": target.id,
            "target_stream": mirror,
            **extra,
        }
    )
    op = wait_operation(client, started.id)
    assert op.status == "completed", (op.status, op.error)
    return started.mirror_id or next(
        m.id for m in client.list_mirrors() if m.target_stream == mirror
    )


def remove_mirrors(client: ApiClient, *names: str) -> None:
    for m in client.list_mirrors():
        if m.target_stream in names and m.state != "removed":
            try:
                client.delete_mirror(m.id)
            except ApiError as err:
                if err.status not in (404, 409):
                    raise


def status_table(at):
    """The Replication Status table (as a DataFrame)."""
    for frame in at.dataframe:
        value = frame.value
        if {"Source", "Target", "Lag (msgs)", "Status"} <= set(value.columns):
            return value
    raise AssertionError(f"no status table; errors: {texts(at.error)}")


def row_of(at, target: str):
    table = status_table(at)
    rows = table[table["Target"].str.endswith(f"/ {target}")]
    return None if rows.empty else rows.iloc[0]


def graph(at) -> str:
    charts = at.get("graphviz_chart")
    assert charts, f"no topology picture; errors: {texts(at.error)}"
    return charts[0].proto.spec


def buttons(at) -> set[str]:
    return {b.key for b in at.button if b.key}


def tab_labels(at) -> list[str]:
    return [t.label for t in at.tabs]


def app_as(account: Account, stack, monkeypatch) -> AppTest:
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    log_in(at, account.email, account.password)
    assert not at.exception, texts(at.exception)
    assert texts(at.title) == ["Overview"], texts(at.error)
    return at


def page(at, tab: str, cluster: Cluster | None = None):
    at.session_state[TAB_KEY] = tab
    return open_page(at, PAGE, TITLE, cluster)


# --------------------------------------------------------------------------- the topology


def test_a_mirror_is_an_edge_and_a_row_and_pause_resume_drive_it(
    ui_logged_in, ui_admin, ui_hub, ui_dr, stack
):
    name = stream_name("UI-REPL")
    mirror = f"{name}_M"
    make_stream(stack, name, 30)
    try:
        mirror_id = make_mirror(ui_admin, ui_hub, name, ui_dr, mirror)
        at = page(ui_logged_in, TOPOLOGY, ui_hub)
        assert tab_labels(at) == ["Topology", "DR pairs & failover", "New mirror", "New DR pair"]
        dot = graph(at)
        assert f'"n_{ui_hub.id}" -> "n_{ui_dr.id}"' in dot  # hub → dr, the clusters as nodes
        edge = next(line for line in dot.splitlines() if f"{name} → {mirror}" in line)
        assert fmt.replication_colour("in_sync") in edge  # green: in sync
        row = row_of(at, mirror)
        assert row is not None, status_table(at)
        assert row["Source"] == f"{ui_hub.name} / {name}"
        assert row["Target"] == f"{ui_dr.name} / {mirror}"
        assert row["Status"] == "● In sync" and row["Lag (msgs)"] == "0"
        assert row["Type"] == "Mirror"

        at.selectbox(key="repl_mirror_selected").select(mirror_id).run()
        assert at.button(key="repl_resume").proto.disabled  # nothing to resume yet
        at.button(key="repl_pause").click().run()
        assert any("is paused" in s for s in texts(at.success)), texts(at.error)
        assert ui_admin.get_mirror(mirror_id).state == "paused"
        make_stream_more(stack, name, 5)  # written while paused: the mirror falls behind

        def paused(a) -> bool:
            r = row_of(a, mirror)
            return r is not None and r["Status"] == "❚❚ Paused" and r["Lag (msgs)"] == "5"

        at = rerun_until(at, paused, what="the mirror to show paused, 5 behind")
        edge = next(line for line in graph(at).splitlines() if f"{name} → {mirror}" in line)
        assert fmt.replication_colour("paused") in edge and "dashed" in edge  # amber, dashed
        assert at.button(key="repl_pause").proto.disabled
        at.button(key="repl_resume").click().run()
        assert any("resumed" in s for s in texts(at.success)), texts(at.error)

        def caught_up(a) -> bool:
            r = row_of(a, mirror)
            return r is not None and r["Status"] == "● In sync" and r["Lag (msgs)"] == "0"

        rerun_until(at, caught_up, what="the mirror to catch up after the resume")
        assert on_dr(stack, lambda js: js.stream_info(mirror)).state.messages == 35
    finally:
        remove_mirrors(ui_admin, mirror)
        remove_stream(ui_admin, ui_hub, name)


def make_stream_more(stack, name: str, count: int) -> None:
    async def work(js):
        for i in range(count):
            await js.publish(f"{name}.a", f"more {i}".encode())

    on_hub(stack, work)


# --------------------------------------------------------------------------- the wizard


def test_the_wizard_makes_a_filtered_mirror_from_a_sequence(
    ui_logged_in, ui_admin, ui_hub, ui_dr, stack
):
    name = stream_name("UI-WIZ")
    mirror = f"{name}_A"
    make_stream(stack, name, 40)  # seq 1, 3, 5, ... on <name>.a; 2, 4, ... on <name>.b
    try:
        at = page(ui_logged_in, NEW_MIRROR, ui_hub)
        at.selectbox(key="mw_source_cluster").select(ui_hub.id).run()
        at.selectbox(key="mw_source_stream").select(name).run()
        assert any("40 messages" in i and "sequences 1–40" in i for i in texts(at.info)), texts(
            at.info
        )
        at.radio(key="mw_type").set_value("filtered").run()
        at.button(key="mw_next").click().run()  # no filter yet: refused before going on
        assert texts(at.error) == [
            "A filtered mirror needs at least one subject to keep, for example orders.created.>."
        ]
        at.text_area(key="mw_filters").input(f"{name}.a")
        at.radio(key="mw_start").set_value("seq").run()
        at.number_input(key="mw_start_seq").set_value(11)
        at.button(key="mw_next").click().run()
        assert not texts(at.error), texts(at.error)
        assert "step 2 of 3" in " ".join(texts(at.markdown))
        assert any("up to 30 messages" in i and "sequences 11–40" in i for i in texts(at.info))

        at.selectbox(key="mw_target_cluster").select(ui_dr.id)
        at.text_input(key="mw_target_stream").input(mirror)
        at.selectbox(key="mw_storage").select("memory")
        at.text_input(key="mw_max_age").input("1h")
        at.button(key="mw_next").click().run()
        assert not texts(at.error), texts(at.error)
        review = " ".join(texts(at.markdown))
        assert f"{ui_dr.name} / {mirror}" in review and f"Filtered: {name}.a" in review
        assert "From sequence 11" in review and "1h" in review

        at.button(key="mw_back").click().run()  # back and forth keeps what was typed
        assert at.text_input(key="mw_target_stream").value == mirror
        at.button(key="mw_next").click().run()
        at.button(key="mw_create").click().run()
        assert any(s.startswith(f"Mirror {mirror} is being created") for s in texts(at.success)), (
            texts(at.error)
        )
        op_id = at.session_state["mw_started"]

        at = rerun_until(
            at,
            lambda a: bool(a.progress) and a.progress[0].text.startswith("✔ Completed"),
            what="the mirror operation to complete",
        )
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Copied"] == "15"  # odd sequences 11..39 of <name>.a
        op = ui_admin.get_operation(op_id)
        assert op.type == "mirror" and op.result["mirrors"][0]["caught_up"] is True

        async def copied(js):
            info = await js.stream_info(mirror)
            first = await js.get_msg(mirror, info.state.first_seq)
            return info, first

        info, first = on_dr(stack, copied)
        assert info.state.messages == 15 and info.state.first_seq == 11  # source sequences kept
        assert first.subject == f"{name}.a"
        assert getattr(info.config.storage, "value", info.config.storage) == "memory"

        at.button(key="mw_again").click().run()
        assert "step 1 of 3" in " ".join(texts(at.markdown))
    finally:
        remove_mirrors(ui_admin, mirror)
        remove_stream(ui_admin, ui_hub, name)


def test_the_wizard_shows_the_apis_refusal_of_a_taken_name(
    ui_logged_in, ui_admin, ui_hub, ui_dr, stack
):
    name = stream_name("UI-TAKEN")
    make_stream(stack, name, 3)
    on_dr(stack, lambda js: js.add_stream(name=name, subjects=[f"{name}.>"]))
    try:
        at = page(ui_logged_in, NEW_MIRROR, ui_hub)
        at.selectbox(key="mw_source_cluster").select(ui_hub.id).run()
        at.selectbox(key="mw_source_stream").select(name).run()
        at.button(key="mw_next").click().run()
        at.selectbox(key="mw_target_cluster").select(ui_dr.id)
        at.text_input(key="mw_target_stream").input(name)
        at.button(key="mw_next").click().run()
        at.button(key="mw_create").click().run()
        assert not at.exception
        [refusal] = texts(at.error)
        assert "already exists" in refusal, refusal
        assert "step 3 of 3" in " ".join(texts(at.markdown))  # still on the review, as typed
        assert not [m for m in ui_admin.list_mirrors() if m.source_stream == name]
    finally:
        on_dr(stack, lambda js: js.delete_stream(name))
        remove_stream(ui_admin, ui_hub, name)


# --------------------------------------------------------------------------- DR pairs


def test_a_pair_from_the_form_then_a_drill_step_by_step(
    ui_logged_in, ui_admin, ui_hub, ui_dr, stack
):
    name = stream_name("UI-PAIR")
    pair_name = unique("ui-pair")
    make_stream(stack, name, 20)
    pair: DrPair | None = None
    try:
        at = page(ui_logged_in, NEW_PAIR, ui_hub)
        at.selectbox(key="dp_primary").select(ui_hub.id).run()
        at.selectbox(key="dp_standby").select(ui_dr.id).run()
        at.text_input(key="dp_name").input(pair_name)
        at.multiselect(key="dp_streams").select(name)
        at.number_input(key="dp_rpo").set_value(10.0)
        at.button(key="dp_submit").click().run()
        assert not at.exception, texts(at.exception)
        found = [s for s in texts(at.success) if s.startswith(f"DR pair {pair_name} created.")]
        assert len(found) == 1, texts(at.error)
        told = found[0]
        assert "missing mirrors are being created" in told
        assert at.session_state[TAB_KEY] == PAIRS
        pair = next(p for p in ui_admin.list_dr_pairs() if p.name == pair_name)
        assert pair.rpo_seconds == 10 and [s.stream for s in pair.streams] == [name]
        op = wait_operation(ui_admin, at.session_state[OPS][pair.id])
        assert op.status == "completed", op.error

        def in_sync(a) -> bool:
            metrics = {m.label: m.value for m in a.metric}
            return (
                metrics.get("Data at risk now") == "0 msgs"
                and metrics.get("RPO (objective 10 s)") == "✔ holds"
            )

        at = rerun_until(at, in_sync, what="the pair's RPO to hold")
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["RTO objective"] == "30 s"
        assert f"**Current primary:** {ui_hub.name}" in " ".join(texts(at.markdown))
        # the risk is on the page before any button is pressed
        assert any("Data-loss risk now: none" in i and ui_dr.name in i for i in texts(at.info)), (
            texts(at.info) + texts(at.warning)
        )
        assert "No drill yet." in " ".join(texts(at.markdown))
        assert {f"dr_failover_{pair.id}", f"dr_pause_{pair.id}", f"dr_drill_{pair.id}"} <= buttons(
            at
        )
        assert at.button(key=f"dr_failover_{pair.id}").label == f"Failover to {ui_dr.name}"

        before = on_hub(stack, lambda js: js.stream_info(name))
        at.button(key=f"dr_drill_{pair.id}").click().run()
        assert any("Test a failover" in i for i in texts(at.info))
        at.button(key=f"dr_drill_yes_{pair.id}").click().run()
        assert any(
            s.startswith(f"Drill of {pair_name} to {ui_dr.name} started") for s in texts(at.success)
        ), texts(at.error)
        drill_id = at.session_state[OPS][pair.id]

        def ended(a) -> bool:
            return any(p.text.startswith(("✔ Completed", "✖ Failed")) for p in a.progress)

        at = rerun_until(at, ended, timeout=OP_DEADLINE_S, what="the drill to end")
        drill = ui_admin.get_operation(drill_id)
        assert drill.status == "completed", drill.error
        steps = next(f.value for f in at.dataframe if "Step" in f.value.columns)
        assert "✔ Done" in set(steps["Status"])
        assert "Promote the mirrors" in set(steps["Step"])
        assert drill.input.get("drill") is True or drill.result.get("drill") is True
        at = rerun_until(
            at,
            lambda a: "Last drill: RTO" in " ".join(texts(a.markdown)),
            what="the last drill to show",
        )
        assert ", RPO 0, " in " ".join(texts(at.markdown))
        after = on_hub(stack, lambda js: js.stream_info(name))
        assert after.state.messages == before.state.messages == 20  # production untouched
        assert after.config.subjects == before.config.subjects
        mirror_info = on_dr(stack, lambda js: js.stream_info(name))
        assert mirror_info.config.mirror is not None  # still a mirror: nothing promoted
    finally:
        if pair is not None:
            ui_admin.delete_dr_pair(pair.id)
        remove_mirrors(ui_admin, name)
        remove_stream(ui_admin, ui_hub, name)


# --------------------------------------------------------------------------- roles, approval


class Org:
    """An organization of its own: its admin, a viewer, hub (development) and dr clusters."""

    def __init__(self, api, stack, standby_environment: str = "development") -> None:
        self.admin: Account = signup(api)
        self.viewer: Account = invite(api, self.admin, "viewer")
        self.client = ApiClient(stack.api_url)
        self.client.login(self.admin.email, self.admin.password)
        self.hub = self.client.create_cluster(
            {
                "name": unique("hub"),
                "environment": "development",
                "jetstream_domain": "hub",
                "server_urls": [stack.env["JSC_HUB_URL"]],
            }
        )
        self.dr = self.client.create_cluster(
            {
                "name": unique("dr"),
                "environment": standby_environment,
                "jetstream_domain": "dr",
                "server_urls": [stack.env["JSC_DR_URL"]],
            }
        )

    def close(self) -> None:
        for pair in self.client.list_dr_pairs():
            self.client.delete_dr_pair(pair.id)
        for request in self.client.list_approvals(mine=True, status="waiting_approval"):
            self.client.withdraw(request.id)
        self.client.close()


@pytest.fixture
def org(api, stack):
    made = Org(api, stack)
    try:
        yield made
    finally:
        made.close()


def test_a_viewer_sees_the_map_and_the_pairs_and_no_button(org, stack, monkeypatch):
    name = stream_name("UI-VIEW")
    make_stream(stack, name, 2)
    try:
        org.client.create_dr_pair(
            {
                "name": unique("viewed"),
                "primary_cluster_id": org.hub.id,
                "standby_cluster_id": org.dr.id,
                "streams": [{"stream": name}],
                "create_missing_mirrors": False,
            }
        )
        at = app_as(org.viewer, stack, monkeypatch)
        at = page(at, TOPOLOGY, org.hub)
        assert tab_labels(at) == ["Topology", "DR pairs & failover"]  # nothing to create
        assert graph(at)
        assert not buttons(at) & {"repl_add_mirror", "repl_pause", "repl_resume", "repl_remove"}
        at = page(at, PAIRS, org.hub)
        assert not at.exception and not texts(at.error), texts(at.error)
        [pair] = org.client.list_dr_pairs()
        assert pair.name in texts(at.subheader)
        assert any("replication:failover" in c and "viewer" in c for c in texts(at.caption))
        assert not [
            k
            for k in buttons(at)
            if k.startswith(("dr_failover_", "dr_drill_", "dr_pause_", "dr_delete_"))
        ]
        assert texts(at.warning) or texts(at.info)  # the risk is shown all the same
        with ApiClient(stack.api_url) as viewer:  # and the API refuses it anyway
            viewer.login(org.viewer.email, org.viewer.password)
            with pytest.raises(ApiError) as err:
                viewer.start_failover({"pair_id": pair.id, "target_cluster_id": org.dr.id})
            assert err.value.status == 403
    finally:
        on_hub(stack, lambda js: js.delete_stream(name))


def test_a_production_failover_shows_its_approval_request(org, stack, monkeypatch):
    name = stream_name("UI-PROD")
    make_stream(stack, name, 5)
    try:
        pair = org.client.create_dr_pair(
            {
                "name": unique("prod-pair"),
                "primary_cluster_id": org.hub.id,
                "standby_cluster_id": org.dr.id,
                "streams": [{"stream": name}],
            }
        )
        assert pair.operation_id
        assert wait_operation(org.client, pair.operation_id).status == "completed"
        org.client._request("PATCH", f"/clusters/{org.dr.id}", json={"environment": "production"})
        at = app_as(org.admin, stack, monkeypatch)
        at = page(at, PAIRS, org.hub)
        at.button(key=f"dr_failover_{pair.id}").click().run()
        warning = " ".join(texts(at.warning))
        assert (
            f"Fail over {pair.name} to {org.dr.name}?" in warning
            and "Data-loss risk now" in warning
        )
        at.checkbox(key=f"dr_reverse_{pair.id}").check()
        at.button(key=f"dr_confirm_yes_{pair.id}").click().run()
        assert any(s.startswith("Sent for approval") for s in texts(at.success)), texts(at.error)
        assert f"dr_req_{pair.id}_open_request" in buttons(at)
        assert [p.text for p in at.progress] == [
            "◔ Waiting for approval · it starts once the request is approved"
        ], texts(at.error)
        at.button(key=f"dr_req_{pair.id}_open_request").click().run()
        assert texts(at.title) == ["Approvals"]
        [request] = org.client.list_approvals(mine=True, status="waiting_approval")
        assert request.kind == "failover"
        assert org.client.get_dr_pair(pair.id).active_cluster_id == org.hub.id  # not yet
    finally:
        # through the API, removing a mirror on a production cluster would wait for approval
        on_dr(stack, lambda js: drop(js, name))
        on_hub(stack, lambda js: drop(js, name))


# --------------------------------------------------------------------------- pure parts


def test_the_mirror_form_builds_its_body_and_names_what_to_fix():
    spec, problems = forms.check_mirror_form(
        source_cluster_id="c1",
        source_stream="ORDERS",
        mirror_type="filtered",
        filter_subjects="orders.created.>\norders.completed.>",
        start="time",
        start_time="2024-01-15 10:30",
        target_cluster_id="c2",
        target_stream="ORDERS_EU",
        replicas=3,
        storage="file",
        max_bytes="100GB",
        max_age="72h",
        description=" eu ",
    )
    assert problems == []
    assert spec == {
        "source_cluster_id": "c1",
        "source_stream": "ORDERS",
        "filter_subjects": ["orders.created.>", "orders.completed.>"],
        "start": {"time": "2024-01-15T10:30:00Z"},
        "target_cluster_id": "c2",
        "target_stream": "ORDERS_EU",
        "description": "eu",
        "overrides": {
            "num_replicas": 3,
            "storage": "file",
            "max_bytes": 10**11,
            "max_age": 72 * 3600 * 10**9,
        },
    }
    assert (
        forms.check_mirror_form(
            source_cluster_id="c1",
            source_stream="S",
            target_cluster_id="c1",
            target_stream="T",
            start="new",
        )[0]["start"]
        == "new"
    )
    _, problems = forms.check_mirror_form(
        source_cluster_id="c1",
        source_stream="S",
        mirror_type="filtered",
        filter_subjects="a..b",
        start="seq",
        start_seq=0,
        target_cluster_id="c1",
        target_stream="S",
        max_bytes="lots",
    )
    assert problems == [
        'The subject "a..b" has an empty part between dots.',
        "Give the first sequence to copy (1 or more).",
        "A stream cannot mirror itself: give the mirror another name, or choose another "
        "destination cluster.",
        '"lots" is not a size; write it like 1048576, 512MB or 1GiB.',
    ]


def test_the_initial_sync_is_told_for_each_start():
    assert forms.initial_sync(1000, 2048, 1, 1000, "all") == (
        1000,
        "Initial sync: 1,000 messages (2.0 KiB), sequences 1–1,000.",
    )
    assert forms.initial_sync(1000, 2000, 1, 1000, {"seq": 901}) == (
        100,
        "Initial sync: 100 messages (about 200 B), sequences 901–1,000.",
    )
    assert forms.initial_sync(1000, 2000, 1, 1000, "new")[0] == 0
    assert forms.initial_sync(10, 20, 1, 10, {"seq": 50})[1].startswith("Nothing stored from")
    count, told = forms.initial_sync(10, 20, 1, 10, "all", filtered=True)
    assert count == 10 and "up to 10 messages" in told


def test_the_pair_form_builds_its_body():
    spec, problems = forms.check_dr_pair_form(
        name="orders-dr",
        primary_cluster_id="p",
        standby_cluster_id="s",
        streams=["ORDERS", "PAYMENTS"],
        mirror_names="PAYMENTS=PAYMENTS_DR",
        rpo_seconds=5,
        rto_seconds=30,
    )
    assert problems == []
    assert spec["streams"] == [
        {"stream": "ORDERS"},
        {"stream": "PAYMENTS", "mirror_stream": "PAYMENTS_DR"},
    ]
    assert spec["create_missing_mirrors"] is True
    _, problems = forms.check_dr_pair_form(
        name="",
        primary_cluster_id="p",
        standby_cluster_id="p",
        streams=[],
        mirror_names="X",
        rpo_seconds=0,
        rto_seconds=30,
    )
    assert problems == [
        "Name the pair, for example orders-dr.",
        "The standby must be another cluster than the primary.",
        "Choose at least one stream of the primary to protect.",
        'Write each mirror name as STREAM=MIRROR ("X" is not).',
        "The RPO must be more than 0 seconds and at most 7 days.",
    ]


def test_the_picture_colours_each_edge_by_its_status():
    rmap = ReplicationMap.from_json(
        {
            "clusters": [
                {"id": "h", "name": "hub", "environment": "production", "reachable": True},
                {
                    "id": "d",
                    "name": "dr",
                    "environment": "staging",
                    "reachable": False,
                    "error": "timeout",
                },
            ],
            "edges": [
                {
                    "kind": "mirror",
                    "source_cluster_id": "h",
                    "source_stream": "ORDERS",
                    "target_cluster_id": "d",
                    "target_stream": "ORDERS",
                    "status": "in_sync",
                    "lag_messages": 0,
                    "lag_seconds": 0,
                },
                {
                    "kind": "mirror",
                    "source_cluster_id": "h",
                    "source_stream": "PAY",
                    "target_cluster_id": "d",
                    "target_stream": "PAY_M",
                    "status": "broken_link",
                    "lag_messages": 12,
                },
                {
                    "kind": "source",
                    "source_cluster_id": None,
                    "source_domain": "edge",
                    "source_stream": "X",
                    "target_cluster_id": "h",
                    "target_stream": "Y",
                    "status": "behind",
                    "lag_messages": 234,
                    "lag_seconds": 1.2,
                    "filter_subjects": ["x.>"],
                },
            ],
            "pairs": [
                {
                    "id": "p",
                    "name": "orders-dr",
                    "primary_cluster_id": "h",
                    "standby_cluster_id": "d",
                    "active_cluster_id": "h",
                }
            ],
        }
    )
    dot = topology_dot(rmap)
    lines = dot.splitlines()
    assert dot.startswith("digraph") and dot.endswith("}")
    assert any(
        '"n_h" [label="hub\\nproduction\\nprimary of orders-dr (active)"' in line for line in lines
    )
    assert any("✖ unreachable" in line and "#c62828" in line for line in lines if '"n_d" [' in line)
    ok = next(line for line in lines if 'label="ORDERS\\n' in line)
    assert "#2e7d32" in ok and "lag 0 / 0 ms" in ok
    broken = next(line for line in lines if "PAY → PAY_M" in line)
    assert "#c62828" in broken
    behind = next(line for line in lines if "X → Y" in line)
    assert "#f29900" in behind and "source (filtered)" in behind and "dashed" in behind
    assert '"n_domain:edge" [label="edge\\n(not registered)"' in dot


def test_the_sentences_before_the_button():
    now = datetime.now(UTC)
    drill = DrillResult("op", (now - timedelta(days=3, minutes=1)).isoformat(), 1.23, 0, True)
    assert drill_sentence(drill) == "Last drill: RTO 1.2 s, RPO 0, 3 days ago"
    assert drill_sentence(None) == "No drill yet."
    assert (
        drill_sentence(DrillResult(None, now.isoformat(), 0.4, 12, False), "failover")
        == "Last failover: RTO 400 ms, RPO 12 messages, just now — it failed"
    )
    pair = DrPair.from_json(
        {
            "id": "p",
            "name": "orders-dr",
            "primary_cluster_id": "h",
            "standby_cluster_id": "d",
            "active_cluster_id": "h",
            "rpo_seconds": 5,
            "rto_seconds": 30,
        }
    )
    health = ReplicationMap.from_json(
        {
            "pairs": [
                {
                    "id": "p",
                    "name": "orders-dr",
                    "primary_cluster_id": "h",
                    "standby_cluster_id": "d",
                    "data_at_risk_messages": 234,
                    "worst_lag_seconds": 5.2,
                    "rpo_ok": False,
                }
            ]
        }
    ).pair("p")
    assert risk_sentence(pair, health, {"d": "US-WEST"}) == (
        "Failover redirects writers to US-WEST (objective: within 30 s). Data-loss risk now: "
        "234 messages not yet on US-WEST (worst lag 5.2 s). A planned failover fences the "
        "primary and waits until they are copied; an emergency failover loses them."
    )
    assert "unknown" in risk_sentence(pair, None, {})
    assert failover_spec(pair, "failover", emergency=True, reverse=True, max_loss=10) == {
        "pair_id": "p",
        "target_cluster_id": "d",
        "drill": False,
        "mode": "emergency",
        "reverse": True,
        "max_data_loss_messages": 10,
    }
    assert failover_spec(pair, "drill") == {"pair_id": "p", "target_cluster_id": "d", "drill": True}
    back = DrPair.from_json(
        {
            "id": "p",
            "name": "x",
            "primary_cluster_id": "h",
            "standby_cluster_id": "d",
            "active_cluster_id": "d",
        }
    )
    assert back.passive_cluster_id == "h"  # after a failover, "Failover to" goes back


def test_buttons_follow_the_permissions_the_api_granted():
    org = Organization("o", "Org", "org")
    viewer = Me("u", "v@x.io", "", "", org, "viewer", ("replication:read:*",))
    operator = Me(
        "u", "o@x.io", "", "", org, "operator", ("replication:read:*", "replication:update:*")
    )
    admin = Me("u", "a@x.io", "", "", org, "admin", ("*:*:*",))
    team = Me("u", "t@x.io", "", "", org, "member", ("replication:manage:team",))
    assert viewer.can("replication:read") and not viewer.can("replication:update")
    assert operator.can("replication:update") and not operator.can("replication:failover")
    assert admin.can("replication:failover")
    assert not team.can("replication:update")  # only a grant on everything shows a button
