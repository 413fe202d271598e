"""The Backups page against the real API and the stack's hub and dr NATS servers: a manual backup
made from "Create Manual Backup" is followed to its end and listed as Verified, then "Restore
this backup" restores it into a new stream checked on the hub; the forms refuse what they can
before sending, and show the API's refusal (a taken stream name) as its sentence; a schedule is
created, edited (an incremental cadence added) and deleted from "Configure Schedule", and reads
in words; a restore over a production stream shows its approval request; each role sees only its
buttons. The main path once more in Chromium. The pure parts (the forms' checks, the sentences)
are tested without the stack."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from tests.api.orgs import Account, invite, signup
from ui import backup_text, forms
from ui.backup_panels import PANEL_KEY
from ui.client import ApiClient, ApiError, Backup, BackupSchedule, Cluster

from .conftest import (
    APP,
    RUN_TIMEOUT,
    WAIT_MS,
    log_in,
    make_stream,
    on_hub,
    open_page,
    remove_stream,
    rerun_until,
    texts,
    unique,
)

PAGE, TITLE = "backups.py", "Backups"
OP_DEADLINE_S = 180


# --------------------------------------------------------------------------- helpers


def stream_name(prefix: str) -> str:
    return unique(prefix).upper().replace("-", "_")


def wait_operation(client: ApiClient, op_id: str):
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


def backup_by_api(client: ApiClient, cluster: Cluster, stream: str, target: Cluster) -> Backup:
    started = client.start_backup(
        {"cluster_id": cluster.id, "streams": [stream], "target": {"cluster_id": target.id}}
    )
    op = wait_operation(client, started.id)
    assert op.status == "completed", (op.status, op.error)
    return client.get_backup(started.backup_id)


def latest_table(at):
    for frame in at.dataframe:
        if {"Type", "Time", "Size", "Streams", "Status", "Duration"} <= set(frame.value.columns):
            return frame.value
    raise AssertionError(f"no Latest Backups table; errors: {texts(at.error)}")


def row_of(at, backup_id: str):
    table = latest_table(at)
    rows = table[table["ID"] == backup_id[:8]]
    return None if rows.empty else rows.iloc[0]


def buttons(at) -> set[str]:
    return {b.key for b in at.button if b.key}


def page(at, panel: str | None = None, cluster: Cluster | None = None) -> AppTest:
    at.session_state[PANEL_KEY] = panel
    return open_page(at, PAGE, TITLE, cluster)


def app_as(account: Account, stack, monkeypatch) -> AppTest:
    monkeypatch.setenv("JSC_API_URL", stack.api_url)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    log_in(at, account.email, account.password)
    assert texts(at.title) == ["Overview"], texts(at.error)
    return at


def ended(at) -> bool:
    return any(p.text.startswith(("✔ Completed", "✖ Failed")) for p in at.progress)


def drop_on_hub(stack, *names: str) -> None:
    async def work(js):
        for name in names:
            try:
                await js.delete_stream(name)
            except Exception:  # noqa: BLE001 - not made by a failed test
                pass

    on_hub(stack, work)


# --------------------------------------------------------------------------- backup and restore


def test_a_manual_backup_is_listed_verified_then_restored(
    ui_logged_in, ui_admin, ui_hub, ui_dr, stack
):
    name = stream_name("UI_BK")
    restored = f"{name}_R"
    make_stream(stack, name, 25)
    try:
        at = page(ui_logged_in, None, ui_hub)
        assert {"Scheduled Backups", "Latest Backups"} <= set(texts(at.subheader))
        at.button(key="bk_open_create").click().run()
        at.selectbox(key="bk_cluster").select(ui_hub.id).run()
        at.checkbox(key="bk_all").uncheck().run()
        at.button(key="bk_create").click().run()  # no stream chosen: refused before sending
        assert texts(at.error) == ["Choose at least one stream, or back up all streams."]
        at.multiselect(key="bk_streams").select(name)
        at.radio(key="bk_target").set_value("object_store").run()
        at.selectbox(key="bk_target_cluster").select(ui_dr.id).run()
        assert at.text_input(key="bk_bucket").value == "jsc-backups"
        at.button(key="bk_create").click().run()
        told = [s for s in texts(at.success) if s.startswith("Backup ")]
        assert told and "started" in told[0], texts(at.error)
        started = at.session_state["bk_started"]

        at = rerun_until(at, ended, timeout=OP_DEADLINE_S, what="the backup to end")
        op = ui_admin.get_operation(started.id)
        assert op.status == "completed", op.error
        assert any(p.text.startswith("✔ Completed") for p in at.progress)
        assert "Verification: ✅ verified" in " ".join(texts(at.markdown))
        at = rerun_until(
            at, lambda a: row_of(a, started.backup_id) is not None, what="the backup in the table"
        )
        row = row_of(at, started.backup_id)
        assert row["Status"] == "✅ Verified" and row["Type"] == "Full"
        assert row["Streams"] == "1" and row["Kept in"] == f"{ui_dr.name} / jsc-backups"
        assert row["Size"].endswith(("B", "KiB", "MiB")) and row["Duration"] != "—"

        at.selectbox(key="bk_detail").select(started.backup_id).run()
        assert any(m.startswith("Verified ") for m in texts(at.markdown))
        at.button(key="bk_restore_this").click().run()
        assert at.session_state[PANEL_KEY] == "restore"
        assert at.selectbox(key="rs_backup").value == started.backup_id
        assert at.text_input(key="rs_name").value == f"{name}_RESTORED"
        at.selectbox(key="rs_cluster").select(ui_hub.id)
        at.text_input(key="rs_name").input(restored)
        at.text_area(key="rs_subjects").input(f"{restored}.>")  # the original ones are taken
        at.checkbox(key="rs_replace").check().run()
        assert any("waits for approval" in w for w in texts(at.warning))
        at.checkbox(key="rs_replace").uncheck().run()
        at.button(key="rs_start").click().run()
        assert any(s.startswith(f"Restore of {name} into {restored}") for s in texts(at.success)), (
            texts(at.error)
        )
        at = rerun_until(at, ended, timeout=OP_DEADLINE_S, what="the restore to end")
        op = ui_admin.get_operation(at.session_state["rs_started"].id)
        assert op.status == "completed", op.error
        assert f"Restored {restored}: 25 messages" in " ".join(texts(at.markdown))
        info = on_hub(stack, lambda js: js.stream_info(restored))
        assert info.state.messages == 25 and info.config.subjects == [f"{restored}.>"]
    finally:
        drop_on_hub(stack, restored)
        remove_stream(ui_admin, ui_hub, name)


def test_the_apis_refusal_of_a_taken_name_is_its_sentence(
    ui_logged_in, ui_admin, ui_hub, ui_dr, stack
):
    name = stream_name("UI_BK_TAKEN")
    make_stream(stack, name, 3)
    try:
        backup = backup_by_api(ui_admin, ui_hub, name, ui_dr)
        at = page(ui_logged_in, "restore", ui_hub)
        at.selectbox(key="rs_backup").select(backup.id).run()
        at.selectbox(key="rs_cluster").select(ui_hub.id)
        at.text_input(key="rs_name").input(name)  # the stream itself: it exists
        at.button(key="rs_start").click().run()
        [refusal] = texts(at.error)
        assert "exists" in refusal and "replace" in refusal, refusal
        assert not at.progress  # nothing started
        at.radio(key="rs_point").set_value("time").run()
        at.text_input(key="rs_time").input("yesterday-ish")
        at.button(key="rs_start").click().run()
        assert any("yesterday-ish" in e for e in texts(at.error)), texts(at.error)
    finally:
        remove_stream(ui_admin, ui_hub, name)


# --------------------------------------------------------------------------- schedules


def test_a_schedule_is_created_edited_and_deleted(ui_logged_in, ui_admin, ui_hub, ui_dr):
    name = unique("ui-nightly")
    at = page(ui_logged_in, "schedule", ui_hub)
    assert at.selectbox(key="sc_pick").value == "new"
    at.text_input(key="sc_name").input(name)
    at.selectbox(key="sc_cluster").select(ui_hub.id).run()
    at.radio(key="sc_target").set_value("object_store").run()
    at.selectbox(key="sc_target_cluster").select(ui_dr.id).run()
    full = f"Full backup: Daily at 02:00 UTC → {ui_dr.name} / jsc-backups (retained 30 days)"
    assert any(full in i for i in texts(at.info)), texts(at.info)  # the preview
    at.button(key="sc_save").click().run()
    assert f"Schedule {name} created." in texts(at.success), texts(at.error)
    [made] = [s for s in ui_admin.list_backup_schedules() if s.name == name]
    try:
        assert made.full.cron == "0 2 * * *" and made.full.retention_days == 30
        assert made.incremental is None and made.streams == "all"
        assert full in " ".join(texts(at.markdown))  # in Scheduled Backups
        assert at.selectbox(key="sc_pick").value == made.id

        at.checkbox(key="sc_inc").check().run()
        at.text_input(key="sc_inc_value").input("1h")
        at.number_input(key="sc_inc_days").set_value(7.0)
        at.button(key="sc_save").click().run()
        assert f"Schedule {name} saved." in texts(at.success), texts(at.error)
        changed = ui_admin.get_backup_schedule(made.id)
        assert changed.incremental is not None and changed.incremental.every == "1h"
        assert f"Incremental: Hourly → {ui_dr.name} / jsc-backups (retained 7 days)" in " ".join(
            texts(at.markdown)
        )

        at.button(key="sc_delete").click().run()
        at.button(key="sc_delete_ask_yes").click().run()
        assert any("deleted" in s for s in texts(at.success)), texts(at.error)
        assert not [s for s in ui_admin.list_backup_schedules() if s.id == made.id]
        made = None
    finally:
        if made is not None:
            ui_admin.delete_backup_schedule(made.id)


def test_a_bad_cadence_is_refused_before_sending(ui_logged_in, ui_hub):
    at = page(ui_logged_in, "schedule", ui_hub)
    at.text_input(key="sc_name").input(unique("bad"))
    at.text_input(key="sc_full_value").input("at two")
    at.number_input(key="sc_full_days").set_value(0.0)
    at.button(key="sc_save").click().run()
    assert texts(at.error) == [
        'The full cron expression "at two" needs five fields (minute hour day month weekday), '
        "for example 0 2 * * * for 02:00 UTC.",
        "Keep full backups more than 0 days and at most 3650 days.",
    ]


# --------------------------------------------------------------------------- roles, approval


class Org:
    """An organization of its own: its admin, an operator and a viewer; hub and dr clusters."""

    def __init__(self, api, stack) -> None:
        self.admin: Account = signup(api)
        self.operator: Account = invite(api, self.admin, "operator")
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
                "environment": "development",
                "jetstream_domain": "dr",
                "server_urls": [stack.env["JSC_DR_URL"]],
            }
        )

    def close(self) -> None:
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


def test_each_role_sees_its_buttons(org, stack, monkeypatch):
    at = page(app_as(org.viewer, stack, monkeypatch), None, org.hub)
    assert not at.exception and not texts(at.error), texts(at.error)
    assert not {k for k in buttons(at) if k.startswith("bk_open_")}
    assert any("viewer" in c and "reads backups" in c for c in texts(at.caption))
    at = page(app_as(org.operator, stack, monkeypatch), None, org.hub)
    assert {k for k in buttons(at) if k.startswith("bk_open_")} == {"bk_open_create"}
    at = page(app_as(org.admin, stack, monkeypatch), None, org.hub)
    assert {k for k in buttons(at) if k.startswith("bk_open_")} == {
        "bk_open_create",
        "bk_open_restore",
        "bk_open_schedule",
    }


def test_a_production_restore_over_a_stream_shows_its_request(org, stack, monkeypatch):
    name = stream_name("UI_BK_PROD")
    make_stream(stack, name, 4)
    try:
        backup = backup_by_api(org.client, org.hub, name, org.dr)
        org.client._request("PATCH", f"/clusters/{org.hub.id}", json={"environment": "production"})
        at = page(app_as(org.admin, stack, monkeypatch), "restore", org.hub)
        at.selectbox(key="rs_backup").select(backup.id).run()
        at.selectbox(key="rs_cluster").select(org.hub.id)
        at.text_input(key="rs_name").input(name)
        at.checkbox(key="rs_replace").check().run()
        at.button(key="rs_start").click().run()
        assert any("Sent for approval" in s for s in texts(at.success)), texts(at.error)
        assert "rs_req_open_request" in buttons(at)
        [request] = org.client.list_approvals(mine=True, status="waiting_approval")
        assert request.kind == "restore"
        assert on_hub(stack, lambda js: js.stream_info(name)).state.messages == 4  # untouched
        at.button(key="rs_req_open_request").click().run()
        assert texts(at.title) == ["Approvals"]
    finally:
        drop_on_hub(stack, name)


# --------------------------------------------------------------------------- a real browser


def test_the_main_path_in_a_browser(browser_page, stack, ui_admin, ui_hub, ui_dr, tmp_path):
    import re

    from playwright.sync_api import expect

    name = stream_name("UI_BK_BROWSER")
    make_stream(stack, name, 10)
    try:
        page_ = browser_page
        page_.goto(f"{stack.ui_url}/backups")
        page_.get_by_role("textbox", name="Email").fill(stack.admin_email)
        page_.get_by_role("textbox", name="Password").fill(stack.admin_password)
        page_.get_by_role("button", name="Log in").click()
        heading = page_.get_by_role("heading", name="Backups", exact=True)
        expect(heading).to_be_visible(timeout=WAIT_MS)
        page_.get_by_role("button", name="Create Manual Backup").click()

        def choose(box: str, option: str) -> None:
            """Type into a select box to narrow it (other tests register clusters too)."""
            page_.get_by_role("combobox", name=box).click()
            page_.keyboard.type(option)
            page_.get_by_role("option", name=re.compile(re.escape(option))).first.click()

        choose("Cluster to back up", ui_hub.name)
        page_.get_by_text("All streams of the cluster").click()
        choose("Streams", name)
        page_.keyboard.press("Escape")
        page_.get_by_text("Object store of a cluster").click()
        expect(page_.get_by_role("combobox", name="Target cluster")).to_be_visible(timeout=WAIT_MS)
        choose("Target cluster", ui_dr.name)
        page_.get_by_role("button", name="Start backup").click()
        expect(page_.get_by_text(re.compile(r"^Backup [0-9a-f]{8} started"))).to_be_visible(
            timeout=WAIT_MS
        )
        expect(page_.get_by_text("Verification: ✅ verified")).to_be_visible(
            timeout=OP_DEADLINE_S * 1000
        )
        # the page reloaded its list when the operation ended: the newest backup is this one
        expect(page_.get_by_text(re.compile(r"^Verified .*restored and compared"))).to_be_visible(
            timeout=WAIT_MS
        )
        expect(page_.get_by_text("Traceback")).to_have_count(0)
        page_.screenshot(path=str(tmp_path / "backups.png"), full_page=True)
        [newest] = ui_admin.list_backups(limit=1)
        assert newest.stream_names == (name,) and newest.verification.status == "verified"
        assert newest.target["cluster_id"] == ui_dr.id
    finally:
        remove_stream(ui_admin, ui_hub, name)


# --------------------------------------------------------------------------- pure parts


def test_the_backup_form_builds_its_body_and_names_what_to_fix():
    assert forms.check_backup_form(cluster_id="c") == (
        {"cluster_id": "c", "streams": "all", "kind": "full"},
        [],
    )
    spec, problems = forms.check_backup_form(
        cluster_id="c",
        all_streams=False,
        streams=["ORDERS"],
        kind="incremental",
        target_type="object_store",
        target_cluster_id="d",
        bucket="",
    )
    assert problems == [] and spec == {
        "cluster_id": "c",
        "streams": ["ORDERS"],
        "kind": "incremental",
        "target": {"cluster_id": "d", "bucket": "jsc-backups"},
    }
    assert forms.check_backup_form(
        cluster_id="c", target_type="directory", directory="nightly/orders/"
    )[0]["target"] == {"directory": "nightly/orders"}
    _, problems = forms.check_backup_form(
        cluster_id="", all_streams=False, kind="weekly", target_type="directory", directory="../etc"
    )
    assert problems == [
        "Choose the cluster to back up.",
        "Choose at least one stream, or back up all streams.",
        "Choose a full or an incremental backup.",
        'The directory "../etc" must be a relative path under the backup root (letters, '
        "digits, _ - . separated by /; no ..).",
    ]


def test_the_restore_form_builds_its_body():
    spec, problems = forms.check_restore_form(
        backup_id="b",
        backup_streams=("ORDERS",),
        cluster_id="c",
        stream_name="ORDERS_R",
        subjects="orders_r.>",
        point="time",
        point_time="2024-01-15 10:30",
    )
    assert problems == []
    assert spec == {
        "backup_id": "b",
        "stream": "ORDERS",
        "point": {"time": "2024-01-15T10:30:00Z"},
        "to": {
            "cluster_id": "c",
            "stream_name": "ORDERS_R",
            "replace": False,
            "subjects": ["orders_r.>"],
        },
    }
    _, problems = forms.check_restore_form(
        backup_id="",
        backup_streams=("A", "B"),
        cluster_id="",
        stream_name="bad name",
        subjects="a..b",
        point="latest",
    )
    assert problems == [
        "Choose the backup to restore.",
        "The backup holds several streams: choose the one to restore.",
        "Choose the cluster to restore into.",
        'The stream name "bad name" may only contain letters, digits, - and _ (at most 255).',
        'The subject "a..b" has an empty part between dots.',
    ]


def test_a_schedule_form_and_its_changes():
    spec, problems = forms.check_schedule_form(
        name=" nightly ",
        cluster_id="c",
        target_type="object_store",
        target_cluster_id="d",
        bucket="jsc-backups",
        incremental=True,
    )
    assert problems == []
    assert spec == {
        "name": "nightly",
        "cluster_id": "c",
        "streams": "all",
        "target": {"cluster_id": "d", "bucket": "jsc-backups"},
        "full": {"cron": "0 2 * * *", "retention_days": 30.0},
        "incremental": {"every": "1h", "retention_days": 7.0},
        "enabled": True,
    }
    old = BackupSchedule.from_json(
        {
            "id": "s",
            "name": "nightly",
            "cluster_id": "c",
            "streams": "all",
            "target": {"type": "object_store", "cluster_id": "d", "bucket": "jsc-backups"},
            "full": {"cron": "0 2 * * *", "every": None, "retention_days": 30},
            "incremental": None,
            "enabled": True,
        }
    )
    assert forms.schedule_changes(old, spec) == {
        "incremental": {"every": "1h", "retention_days": 7.0}
    }
    off = {**spec, "incremental": None, "enabled": False}
    assert forms.schedule_changes(old, off) == {"enabled": False}
    _, problems = forms.check_schedule_form(
        name="",
        cluster_id="c",
        full_mode="every",
        full_value="0h",
        incremental=True,
        incremental_mode="cron",
        incremental_value="* *",
        incremental_retention_days=None,
    )
    assert problems == [
        "Name the schedule, for example nightly-orders.",
        'The full interval "0h" is a number and a unit, for example 1h, 30m or 7d.',
        'The incremental cron expression "* *" needs five fields (minute hour day month '
        "weekday), for example 0 2 * * * for 02:00 UTC.",
        "Keep incremental backups more than 0 days and at most 3650 days.",
    ]


@pytest.mark.parametrize(
    "expr,words",
    [
        ("0 2 * * *", "Daily at 02:00 UTC"),
        ("0 * * * *", "Hourly"),
        ("15 * * * *", "Hourly at minute 15"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 */6 * * *", "Every 6 hours"),
        ("30 3 * * 0", "Weekly on Sunday at 03:30 UTC"),
        ("0 4 1 * *", "Monthly on day 1 at 04:00 UTC"),
        ("0 2 * 1-6 *", "cron 0 2 * 1-6 * (UTC)"),
    ],
)
def test_cron_in_words(expr, words):
    assert backup_text.cron_words(expr) == words


@pytest.mark.parametrize(
    "every,words",
    [
        ("1h", "Hourly"),
        ("24h", "Daily"),
        ("1d", "Daily"),
        ("30m", "Every 30 minutes"),
        ("120m", "Every 2 hours"),
        ("7d", "Every 7 days"),
    ],
)
def test_intervals_in_words(every, words):
    assert backup_text.every_words(every) == words


def test_the_schedule_and_the_backups_read_as_the_design_shows():
    names = {"d": "dr", "h": "hub"}
    schedule = BackupSchedule.from_json(
        {
            "id": "s",
            "name": "nightly",
            "cluster_id": "h",
            "streams": ["ORDERS"],
            "target": {"type": "object_store", "cluster_id": "d", "bucket": "jsc-backups"},
            "full": {"cron": "0 2 * * *", "retention_days": 30},
            "incremental": {"every": "1h", "retention_days": 7},
            "enabled": False,
        }
    )
    assert backup_text.schedule_lines(schedule, names) == [
        "Full backup: Daily at 02:00 UTC → dr / jsc-backups (retained 30 days)",
        "Incremental: Hourly → dr / jsc-backups (retained 7 days)",
    ]
    assert backup_text.schedule_title(schedule, names) == "nightly · hub: ORDERS · ❚❚ paused"

    def backup(**extra) -> Backup:
        return Backup.from_json(
            {
                "id": "0123456789abcdef",
                "cluster_id": "h",
                "kind": "incremental",
                "reason": "scheduled",
                "target": {"directory": "nightly"},
                "status": "completed",
                "started_at": "2024-01-15T10:00:00Z",
                "duration_s": 83.2,
                "size_bytes": 2_469_606_195,
                "stream_count": 24,
                "verification": {
                    "status": "verified",
                    "checked_at": datetime(2024, 1, 15, 10, 2, tzinfo=UTC).isoformat(),
                },
                **extra,
            }
        )

    assert backup_text.backup_row(backup(), names) == {
        "Type": "Incremental",
        "Time": "2024-01-15 10:00 UTC",
        "Size": "2.3 GiB",
        "Streams": "24",
        "Status": "✅ Verified",
        "Duration": "1m 23s",
        "Cluster": "hub",
        "Kept in": "directory nightly",
        "Why": "scheduled",
        "ID": "01234567",
    }
    assert (
        backup_text.status_badge(backup(verification={"status": "failed"}))
        == "❌ Verification failed"
    )
    assert backup_text.status_badge(backup(verification={"status": "pending"})) == "⏳ Pending"
    assert backup_text.status_badge(backup(status="running")) == "▶ Running"
    assert backup_text.status_badge(backup(status="failed")) == "❌ Failed"
    assert not backup(verification={"status": "failed"}).restorable
    assert backup_text.result_lines(
        "restore",
        {
            "stream_name": "ORDERS_R",
            "messages": 1200,
            "first_seq": 1,
            "last_seq": 1200,
            "consumers": ["c1"],
            "set_aside_backup_id": "fedcba9876543210",
        },
    ) == [
        "Restored ORDERS_R: 1,200 messages (sequences 1–1,200), 1 consumer(s).",
        "The stream's previous data was backed up first: backup fedcba98.",
    ]
