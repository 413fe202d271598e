"""Operations: a replay started from the form runs to the end with its progress on the page; the
pause, resume and cancel buttons drive a running one; a bad form is refused before sending."""

from __future__ import annotations

import time

import pytest

from ui.client import ApiError
from ui.screens.operations import LIVE, SELECTED, TAB_KEY

from .conftest import make_stream, on_hub, open_page, remove_stream, rerun_until, texts, unique


def stream_name(prefix: str) -> str:
    return unique(prefix).upper()


def detail_status(at) -> str:
    """The status at the head of the details' progress bar, e.g. "▶ Running"."""
    assert at.progress, texts(at.error)
    return at.progress[0].text.split(" · ")[0]


def replay_tab(at, cluster, stream: str):
    """The Operations page on its replay form, with ``stream`` of ``cluster`` as the source."""
    at.session_state[TAB_KEY] = "Replay messages"
    at = open_page(at, "operations.py", "Operations", cluster)
    at.selectbox(key="replay_cluster").select(cluster.id).run()
    at.selectbox(key="replay_stream").select(stream).run()
    assert not at.exception, texts(at.exception)
    return at


def test_start_a_replay_from_the_form_and_see_it_complete(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-REPLAY")
    make_stream(stack, name, 40)
    try:
        at = replay_tab(ui_logged_in, ui_hub, name)
        at.text_area(key="replay_subjects").input(f"{name}.a")
        at.number_input(key="replay_start_seq").set_value(11)
        at.radio(key="replay_mapping").set_value("prefix")
        at.text_input(key="replay_dest_subject").input(f"{name}.again")
        at.button(key="replay_submit").click().run()
        assert not at.exception, texts(at.exception)
        assert any(s.startswith(f"Replay of {name} started") for s in texts(at.success)), texts(
            at.error
        )
        assert at.session_state[TAB_KEY] == "Operations"  # the page switched to the list
        op_id = at.session_state[SELECTED]

        def ended(a) -> bool:  # the list and the detail are two reads: both must have seen it
            table = a.dataframe[0].value if a.dataframe else None
            listed = (
                table is not None
                and (table[table["ID"] == op_id[:8]]["Status"] == "✔ Completed").any()
            )
            return detail_status(a) == "✔ Completed" and bool(listed)

        at = rerun_until(at, ended, what="the replay to end")
        # seqs 11..40 on .a: 15 messages, every one counted on the bar and in the result
        assert at.progress[0].value == 100
        assert at.progress[0].text == "✔ Completed · 15 messages"
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Replayed"] == "15" and metrics["Failed"] == "0"
        table = at.dataframe[0].value
        row = table[table["ID"] == op_id[:8]].iloc[0]
        assert row["Status"] == "✔ Completed" and row["Progress"] == 1.0
        assert row["Operation"] == f"Replay of {name} → under {name}.again"
        assert at.session_state[LIVE] is False  # nothing left moving: no more polling

        op = ui_admin.get_operation(op_id)
        assert op.status == "completed" and op.result["replayed"] == 15
        assert op.input["start_seq"] == 11 and op.input["subjects"] == [f"{name}.a"]

        async def copies(js):
            info = await js.stream_info(name)
            last = await js.get_msg(name, info.state.last_seq)
            return info.state.messages, last.subject, last.headers

        count, subject, headers = on_hub(stack, copies)
        assert count == 55
        assert subject == f"{name}.again.{name}.a"
        assert headers["Nats-Replay-Source"] == f"{name}:39"
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_pause_resume_and_cancel_drive_the_operation(ui_logged_in, ui_admin, ui_hub, stack):
    src, dst = stream_name("UI-SLOW"), stream_name("UI-SLOW-COPY")
    make_stream(stack, src, 3000)
    make_stream(stack, dst)
    started = ui_admin.start_replay(
        {
            "cluster_id": ui_hub.id,
            "stream": src,
            "rate_limit": 200,
            "destination": {"stream": dst, "subject_prefix": dst},
        }
    )
    try:
        at = ui_logged_in
        at.session_state[SELECTED] = started.id
        at = open_page(at, "operations.py", "Operations")
        at = rerun_until(at, lambda a: detail_status(a) == "▶ Running", what="it to run")
        assert at.session_state[LIVE] is True

        at.button(key="op_pause").click().run()
        assert "Pause requested" in " ".join(texts(at.success)), texts(at.error)
        at = rerun_until(at, lambda a: detail_status(a) == "❚❚ Paused", what="it to pause")
        assert (
            at.button(key="op_pause").proto.disabled
            and not at.button(key="op_resume").proto.disabled
        )
        held = ui_admin.get_operation(started.id).progress.done
        time.sleep(1.0)
        assert ui_admin.get_operation(started.id).progress.done == held  # nothing moves
        assert held < 3000  # (0 when paused before its first chunk: it pauses between chunks)

        at.button(key="op_resume").click().run()
        assert any(s.startswith("Resumed") for s in texts(at.success)), texts(at.error)
        at = rerun_until(at, lambda a: detail_status(a) == "▶ Running", what="it to resume")

        at.button(key="op_cancel").click().run()
        assert any("Cancel this operation?" in w for w in texts(at.warning))
        assert ui_admin.get_operation(started.id).status == "running"  # not before confirming
        at.button(key="ops_pending_cancel_yes").click().run()
        assert any("Cancel requested" in s for s in texts(at.success)), texts(at.error)
        at = rerun_until(at, lambda a: detail_status(a) == "■ Cancelled", what="it to stop")
        assert any(i.startswith("Stopped early") for i in texts(at.info))
        assert "op_pause" not in [b.key for b in at.button]  # nothing left to control

        op = ui_admin.get_operation(started.id)
        assert op.status == "cancelled" and op.result["stopped_early"] is True
        assert held <= op.result["replayed"] < 3000
        assert on_hub(stack, lambda js: js.stream_info(dst)).state.messages == op.result["replayed"]
    finally:
        try:
            ui_admin.cancel_operation(started.id)
        except Exception:  # noqa: BLE001 - already ended
            pass
        remove_stream(ui_admin, ui_hub, src)
        remove_stream(ui_admin, ui_hub, dst)


def test_a_replay_back_into_its_own_stream_is_refused_before_sending(
    ui_logged_in, ui_admin, ui_hub, stack
):
    name = stream_name("UI-LOOP")
    make_stream(stack, name, 3)
    try:
        at = replay_tab(ui_logged_in, ui_hub, name)
        at.radio(key="replay_mapping").set_value("original")
        at.number_input(key="replay_start_seq").set_value(5)
        at.number_input(key="replay_end_seq").set_value(2)
        at.text_input(key="replay_start_time").input("yesterday")
        at.button(key="replay_submit").click().run()
        assert not at.exception
        assert texts(at.error) == [
            "The last sequence (2) is before the first one (5).",
            '"yesterday" is not a time; write it like 2024-01-15T10:30:00Z (UTC unless an '
            "offset such as +02:00 is given).",
            "On the same cluster the copies would land back in the source stream: publish them "
            "under a prefix or to another subject, or choose another destination cluster.",
        ]
        assert not at.success
        assert at.session_state[TAB_KEY] == "Replay messages"  # still on the form, as typed
        assert at.text_input(key="replay_start_time").value == "yesterday"
        assert not [
            o
            for o in ui_admin.list_operations(cluster_id=ui_hub.id, limit=200)
            if o.input.get("stream") == name
        ]
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_a_dry_run_shows_what_would_be_replayed(ui_logged_in, ui_admin, ui_hub, stack):
    name = stream_name("UI-DRY")
    make_stream(stack, name, 12)
    try:
        at = replay_tab(ui_logged_in, ui_hub, name)
        at.text_input(key="replay_dest_subject").input("dry.copy")
        at.checkbox(key="replay_dry_run").check()
        at.number_input(key="replay_rate_limit").set_value(4.0)
        at.button(key="replay_submit").click().run()
        assert not texts(at.error), texts(at.error)
        # The "started" flash can be consumed by the page's own refresh before AppTest reads it;
        # what must hold is that the dry run shows up, completes and says what it would do.
        at = rerun_until(at, lambda a: detail_status(a) == "✔ Completed", what="the dry run")
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Would replay"] == "12"
        assert metrics["Sequences"] == "1–12"
        assert metrics["Estimated time"] == "3s"  # 12 messages at 4 per second
        assert on_hub(stack, lambda js: js.stream_info(name)).state.messages == 12  # nothing sent
    finally:
        remove_stream(ui_admin, ui_hub, name)


def test_the_client_starts_once_per_key_and_says_why_a_finished_one_cannot_move(
    ui_admin, ui_hub, stack
):
    name = stream_name("UI-IDEM")
    make_stream(stack, name, 5)
    try:
        spec = {
            "cluster_id": ui_hub.id,
            "stream": name,
            "dry_run": True,
            "destination": {"subject_prefix": "idem"},
        }
        first = ui_admin.start_replay(spec, idempotency_key=f"ui-{name}")
        again = ui_admin.start_replay(spec, idempotency_key=f"ui-{name}")
        assert again.id == first.id
        deadline = time.monotonic() + 30
        while not ui_admin.get_operation(first.id).finished:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        with pytest.raises(ApiError) as err:
            ui_admin.pause_operation(first.id)
        assert err.value.status == 409
        assert err.value.message == (
            "The operation has already ended (completed); nothing to pause."
        )
        with pytest.raises(ApiError) as err:
            ui_admin.start_replay({**spec, "destination": {}})
        assert err.value.status == 422 and "same cluster" in err.value.message
    finally:
        remove_stream(ui_admin, ui_hub, name)
