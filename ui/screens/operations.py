"""Operations: long-running work carried by workflows (replays, mirrors, failovers), with live
progress (step by step for a failover), the details of one, pause / resume / cancel; and the form
that starts a message replay.

The list and the details sit in a fragment that refreshes itself every few seconds while an
operation it shows is still going, without reloading the rest of the page (the filters, the form);
once everything shown has ended the page stops polling.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import streamlit as st

from ui import fmt, forms, operation_view, session, widgets
from ui.client import (
    OPERATION_STATUSES,
    ApiClient,
    ApiError,
    AuthenticationRequired,
    Cluster,
    Operation,
)

TAB_KEY = "ops_tab"
TABS = ("Operations", "Replay messages")
SELECTED = "ops_selected"  # the operation whose details are shown
OFFSET = "ops_offset"
LIVE = "ops_live"  # whether the last look found an operation still going
PENDING_CANCEL = "ops_pending_cancel"
IDEMPOTENCY = "replay_idempotency_key"
PAGE_SIZE = 20
REFRESH_S = 2.0
ALL = ""
KNOWN_TYPES = ("replay", *operation_view.REPLICATION_TYPES, *operation_view.BACKUP_TYPES, "export")
MAPPING_LABELS = {
    "prefix": "Under a subject prefix",
    "subject": "All to one subject",
    "original": "Keep the original subject (another cluster only)",
    "redrive": "Redrive: the subject named in a header",
}
REPLAY_DEFAULTS: dict[str, object] = {
    "replay_subjects": "",
    "replay_start_seq": None,
    "replay_end_seq": None,
    "replay_start_time": "",
    "replay_end_time": "",
    "replay_dest_stream": "",
    "replay_mapping": "prefix",
    "replay_dest_subject": "",
    "replay_redrive_header": forms.DEFAULT_REDRIVE_HEADER,
    "replay_rate_limit": None,
    "replay_add_source_header": True,
    "replay_keep_original_time": True,
    "replay_dry_run": False,
}


def main() -> None:
    api = session.client()
    st.title("Operations")
    session.show_flash("operations")
    clusters = session.call(api.list_clusters)
    if clusters is None:
        return
    names = {c.id: c.name for c in clusters}
    ops_tab, replay_tab = st.tabs(TABS, key=TAB_KEY, on_change="rerun")
    if ops_tab.open:
        with ops_tab:
            show_operations(names)
    if replay_tab.open:
        with replay_tab:
            if clusters:
                show_replay_form(clusters)
            else:
                widgets.no_cluster_yet()


# --------------------------------------------------------------------------- the list


def show_operations(names: dict[str, str]) -> None:
    cols = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
    cols[0].selectbox(
        "Status",
        (ALL, *OPERATION_STATUSES),
        key="ops_status",
        format_func=lambda s: "All statuses" if s == ALL else fmt.status(s),
        on_change=_reset_offset,
    )
    cols[1].selectbox(
        "Type",
        (ALL, *KNOWN_TYPES),
        key="ops_type",
        format_func=lambda t: "All types" if t == ALL else t.capitalize(),
        on_change=_reset_offset,
    )
    cols[2].selectbox(
        "Cluster",
        (ALL, *names),
        key="ops_cluster",
        format_func=lambda c: "All clusters" if c == ALL else names.get(c, c),
        on_change=_reset_offset,
    )
    cols[3].toggle("Only mine", key="ops_mine", on_change=_reset_offset)
    live = bool(st.session_state.get(LIVE, True))
    # run_every is fixed when the fragment is made: the fragment asks for a whole rerun when what
    # it shows starts or stops moving, so a page of finished operations is not polled.
    st.fragment(live_operations, run_every=REFRESH_S if live else None)(names, live)


def _reset_offset() -> None:
    st.session_state[OFFSET] = 0


def live_operations(names: dict[str, str], live: bool) -> None:
    # a fragment reruns on its own, outside run_page: guard it the same way
    session.run_page(lambda: _live_operations(names, live))


def _live_operations(names: dict[str, str], live: bool) -> None:
    api = session.client()
    state = st.session_state
    person = session.me()
    offset = int(state.get(OFFSET, 0))
    found = session.call(
        lambda: api.list_operations(
            status=state.get("ops_status") or None,
            type=state.get("ops_type") or None,
            cluster_id=state.get("ops_cluster") or None,
            started_by=person.id if state.get("ops_mine") and person else None,
            limit=PAGE_SIZE + 1,
            offset=offset,
        )
    )
    if found is None:
        return
    has_more = len(found) > PAGE_SIZE
    ops = found[:PAGE_SIZE]
    selected = _selected(api, ops)
    moving = any(not op.finished for op in ops) or (selected is not None and not selected.finished)
    state[LIVE] = moving
    if moving != live:
        st.rerun()  # start or stop polling
    if not ops and offset == 0:
        filtered = any(state.get(k) for k in ("ops_status", "ops_type", "ops_cluster", "ops_mine"))
        st.info(
            "No operation matches these filters."
            if filtered
            else "No operation yet. Start one from the Replay messages tab."
        )
    if ops:
        st.dataframe(
            [_row(op, names) for op in ops],
            hide_index=True,
            column_config={
                "Progress": st.column_config.ProgressColumn(
                    min_value=0.0, max_value=1.0, format="percent"
                ),
            },
        )
    widgets.offset_pager(OFFSET, PAGE_SIZE, len(ops), has_more, noun="operations")
    if moving:
        st.caption(f"Refreshing every {REFRESH_S:g} seconds while an operation is going.")
    if selected is not None:
        st.divider()
        show_detail(selected, ops, names)


def _selected(api: ApiClient, ops: list[Operation]) -> Operation | None:
    """The operation chosen for the details (fetched on its own: it has the live progress)."""
    wanted = st.session_state.get(SELECTED) or (ops[0].id if ops else None)
    if wanted is None:
        return None
    try:
        return api.get_operation(wanted)
    except AuthenticationRequired:
        raise
    except ApiError as err:
        if err.status != 404 or not ops or wanted == ops[0].id:
            session.show_error(err)
            return None
    st.session_state[SELECTED] = ops[0].id  # the one chosen is gone: show the newest instead
    return session.call(api.get_operation, ops[0].id)


def _row(op: Operation, names: dict[str, str]) -> dict[str, Any]:
    p = op.progress
    # the total is an estimate made at the start: once completed, what was done is the figure
    done = (
        f"{p.done:,} / {p.total:,}"
        if p.total is not None and op.status != "completed"
        else f"{p.done:,}"
    ) + f" {p.unit}"
    return {
        "Operation": describe(op, names),
        "Status": fmt.status(op.status),
        "Progress": 1.0 if op.status == "completed" else p.fraction,
        "Done": done,
        "Rate": fmt.rate(p.rate_per_s) if not op.finished else "—",
        "ETA": fmt.seconds(p.eta_s) if not op.finished and p.eta_s else "—",
        "Cluster": names.get(op.cluster_id or "", op.cluster_id or ""),
        "Started": fmt.when(op.started_at),
        "Finished": fmt.when(op.finished_at) if op.finished_at else "",
        "By": _who(op.started_by),
        "ID": op.id[:8],
    }


def _who(user_id: str | None) -> str:
    person = session.me()
    if user_id is None:
        return "—"
    return "you" if person is not None and person.id == user_id else user_id[:8]


def describe(op: Operation, names: dict[str, str]) -> str:
    """One line for people: "Replay of ORDERS → ORDERS_COPY under replay (dry run)"."""
    if (told := operation_view.describe(op, names)) is not None:
        return told
    if op.type != "replay":
        return op.type.replace("_", " ").capitalize()
    data = op.input
    dest = data.get("destination") or {}
    target = []
    if dest.get("cluster_id") and dest["cluster_id"] != data.get("cluster_id"):
        target.append(f"cluster {names.get(str(dest['cluster_id']), str(dest['cluster_id'])[:8])}")
    if dest.get("stream"):
        target.append(str(dest["stream"]))
    if dest.get("subject"):
        target.append(f"subject {dest['subject']}")
    elif dest.get("subject_prefix"):
        target.append(f"under {dest['subject_prefix']}")
    elif data.get("redrive"):
        target.append(f"subjects from {(data['redrive'] or {}).get('header', 'a header')}")
    text = f"Replay of {data.get('stream', '?')}"
    if target:
        text += " → " + " ".join(target)
    return text + (" (dry run)" if op.dry_run else "")


# --------------------------------------------------------------------------- one operation


def show_detail(op: Operation, ops: list[Operation], names: dict[str, str]) -> None:
    by_id = {o.id: o for o in ops}
    ids = list(by_id) if op.id in by_id else [op.id, *by_id]
    by_id.setdefault(op.id, op)
    st.session_state[SELECTED] = op.id
    st.selectbox(
        "Details of",
        ids,
        key=SELECTED,
        format_func=lambda i: (
            f"{describe(by_id[i], names)} · "
            f"{fmt.status(by_id[i].status)} · "
            f"{fmt.when(by_id[i].started_at)} · {i[:8]}"
        ),
    )
    st.subheader(describe(op, names))
    session.show_flash("operation_detail")
    p = op.progress
    fraction = 1.0 if op.status == "completed" else (p.fraction or 0.0)
    if op.status == "completed":
        told = f"{p.done:,} {p.unit}"
    else:
        told = fmt.progress_text(
            p.done,
            p.total,
            p.unit,
            None if op.finished else p.rate_per_s,
            None if op.finished else p.eta_s,
        )
    st.progress(fraction, text=f"{fmt.status(op.status)} · {told}")
    operation_view.show_steps(op)
    show_controls(op)
    if op.error:
        st.error(f"The operation failed: {op.error}")
    if op.result and not operation_view.show_result(op, names):
        show_result(op)
    st.caption(
        f"Operation {op.id} · workflow {op.workflow_id} · started "
        f"{fmt.when(op.started_at)} by {_who(op.started_by)}"
        + (f" · ended {fmt.when(op.finished_at)}" if op.finished_at else "")
        + (f" · cluster {names.get(op.cluster_id, op.cluster_id)}" if op.cluster_id else "")
    )
    with st.expander("What was asked"):
        st.json(op.input, expanded=True)


def show_controls(op: Operation) -> None:
    if op.finished:
        return
    pause, resume, cancel, _ = st.columns([1, 1, 1, 3])
    pause.button(
        "Pause",
        key="op_pause",
        icon=":material/pause:",
        disabled=op.status not in ("pending", "running"),
        on_click=_control,
        args=("pause", op.id),
        width="stretch",
    )
    resume.button(
        "Resume",
        key="op_resume",
        icon=":material/play_arrow:",
        disabled=op.status != "paused",
        on_click=_control,
        args=("resume", op.id),
        width="stretch",
    )
    cancel.button(
        "Cancel…",
        key="op_cancel",
        icon=":material/stop:",
        on_click=widgets.ask,
        args=(PENDING_CANCEL, op.id),
        width="stretch",
    )
    widgets.confirm(
        PENDING_CANCEL,
        op.id,
        "Cancel this operation? It stops after the part it is doing now; what was "
        "done stays done, and its result says how far it got.",
        "Yes, cancel it",
        _control,
        args=("cancel", op.id),
        no_label="No, let it run",
    )


CONTROL_SENTENCES = {
    "pause": "Pause requested: the operation stops after the part it is doing now.",
    "resume": "Resumed: the operation carries on where it stopped.",
    "cancel": "Cancel requested: the operation stops after the part it is doing now.",
}


def _control(action: str, operation_id: str) -> None:
    def act() -> str:
        api = session.client()
        getattr(api, f"{action}_operation")(operation_id)
        st.session_state[LIVE] = True
        return CONTROL_SENTENCES[action]

    session.in_callback("operation_detail", act)


def show_result(op: Operation) -> None:
    result = op.result or {}
    if op.dry_run and "count" in result:
        cols = st.columns(4)
        cols[0].metric("Would replay", fmt.count(result.get("count")))
        cols[1].metric("Size", fmt.size(result.get("bytes")))
        cols[2].metric("Sequences", _range(result.get("first_seq"), result.get("last_seq")))
        cols[3].metric("Estimated time", fmt.seconds(result.get("estimated_duration_s")))
        st.caption("A dry run sends nothing: it counts what the replay would copy.")
        return
    if "replayed" not in result:
        st.caption(
            f"Done before it ended: {fmt.count(result.get('done', op.progress.done))} "
            f"{op.progress.unit}."
        )
        return
    cols = st.columns(4)
    cols[0].metric("Replayed", fmt.count(result.get("replayed")))
    cols[1].metric("Size", fmt.size(result.get("bytes")))
    cols[2].metric("Failed", fmt.count(result.get("failed") or 0))
    cols[3].metric("Sequences", _range(result.get("first_seq"), result.get("last_seq")))
    if result.get("stopped_early"):
        st.info(
            f"Stopped early: messages from sequence {result.get('next_seq'):,} on were not "
            "replayed. Start a new replay from there to finish the range."
        )
    failures = result.get("failures") or []
    if failures:
        st.warning(
            f"{fmt.count(result.get('failed'))} message(s) could not be replayed"
            + (
                f"; the first {len(failures)} are listed."
                if len(failures) < int(result.get("failed") or 0)
                else "."
            )
        )
        st.dataframe(
            [
                {"Sequence": f.get("seq"), "Subject": f.get("subject"), "Reason": f.get("reason")}
                for f in failures
            ],
            hide_index=True,
        )
    dest = result.get("destination_seqs") or {}
    if dest:
        st.caption("Last sequence written: " + ", ".join(f"{k} {v:,}" for k, v in dest.items()))


def _range(first: int | None, last: int | None) -> str:
    if not first or not last or last < first:
        return "none"
    return f"{first:,}–{last:,}"


# --------------------------------------------------------------------------- replay form


def show_replay_form(clusters: list[Cluster]) -> None:
    api = session.client()
    st.caption(
        "Copy stored messages of a stream (all, or by subject, sequence or time range) to "
        "another stream, subject or cluster, at a chosen rate. Each copy is published "
        "exactly once, even when a worker restarts; you can pause, resume or cancel it."
    )
    by_id = {c.id: c for c in clusters}
    top = st.columns(3)
    with top[0]:
        source = widgets.pick_cluster(clusters, key="replay_cluster", label="Source cluster")
    streams = session.call(api.list_streams, source.id)
    if streams is None:
        return
    names = sorted(s.name for s in streams)
    if not names:
        st.info(f"The cluster {source.name} has no stream to replay from.")
        return
    if st.session_state.get("replay_stream") not in names:
        st.session_state["replay_stream"] = names[0]
    top[1].selectbox("Source stream", names, key="replay_stream")
    dest_ids = [ALL, *by_id]
    if st.session_state.get("replay_dest_cluster") not in dest_ids:
        st.session_state["replay_dest_cluster"] = ALL
    dest_id = top[2].selectbox(
        "Destination cluster",
        dest_ids,
        key="replay_dest_cluster",
        format_func=lambda i: "The source cluster" if i == ALL else by_id[i].name,
    )
    if dest_id and dest_id != source.id:
        dest_streams = session.call(api.list_streams, dest_id)
        dest_names = sorted(s.name for s in dest_streams or [])
    else:
        dest_names = names

    for key, value in REPLAY_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    if st.session_state.get("replay_dest_stream") not in (ALL, *dest_names):
        st.session_state["replay_dest_stream"] = ALL
    with st.form("replay"):
        st.markdown("**Which messages**")
        st.text_area(
            "Subject filters, one per line (empty: every subject)",
            key="replay_subjects",
            height=68,
            placeholder="orders.created.>",
        )
        cols = st.columns(4)
        cols[0].number_input(
            "From sequence", min_value=1, step=1, key="replay_start_seq", placeholder="first"
        )
        cols[1].number_input(
            "To sequence (included)", min_value=1, step=1, key="replay_end_seq", placeholder="last"
        )
        cols[2].text_input(
            "From time (UTC)", key="replay_start_time", placeholder="2024-01-15T10:30:00Z"
        )
        cols[3].text_input(
            "Until time (UTC, excluded)", key="replay_end_time", placeholder="2024-01-15T11:00:00Z"
        )
        st.markdown("**Where to**")
        st.radio(
            "Subject of each copy",
            tuple(MAPPING_LABELS),
            key="replay_mapping",
            format_func=MAPPING_LABELS.__getitem__,
            horizontal=True,
        )
        cols = st.columns(3)
        cols[0].text_input(
            "Subject or prefix",
            key="replay_dest_subject",
            placeholder="replay.orders",
            help="Under a prefix, orders.created becomes <prefix>.orders.created.",
        )
        cols[1].selectbox(
            "Destination stream",
            (ALL, *dest_names),
            key="replay_dest_stream",
            format_func=lambda n: "Whichever captures the subject" if n == ALL else n,
            help="When given, the copies must be stored by this stream.",
        )
        cols[2].text_input(
            "Redrive header",
            key="replay_redrive_header",
            help="For a redrive: the header that holds each message's subject.",
        )
        st.markdown("**How**")
        cols = st.columns([1, 2])
        cols[0].number_input(
            "Rate limit (messages/s)",
            min_value=0.0,
            step=100.0,
            key="replay_rate_limit",
            placeholder="no limit",
        )
        with cols[1]:
            st.checkbox(
                "Add replay headers (Nats-Replay-Source: stream and sequence)",
                key="replay_add_source_header",
            )
            st.checkbox(
                "Keep the original time (Nats-Replay-Original-Time header)",
                key="replay_keep_original_time",
            )
            st.checkbox(
                "Dry run: only count what would be replayed and how long it would take",
                key="replay_dry_run",
            )
        st.form_submit_button(
            "Start replay", key="replay_submit", type="primary", on_click=_start_replay
        )
    session.show_flash("replay_form")


def _start_replay() -> None:
    state = st.session_state
    spec, problems = forms.check_replay_form(
        cluster_id=state.get("replay_cluster") or "",
        stream=state.get("replay_stream") or "",
        subjects=state.replay_subjects,
        start_seq=state.replay_start_seq,
        end_seq=state.replay_end_seq,
        start_time=state.replay_start_time,
        end_time=state.replay_end_time,
        destination_cluster_id=state.get("replay_dest_cluster") or None,
        destination_stream=state.replay_dest_stream or None,
        mapping=state.replay_mapping,
        destination_subject=state.replay_dest_subject,
        redrive_header=state.replay_redrive_header,
        rate_limit=state.replay_rate_limit,
        add_source_header=state.replay_add_source_header,
        keep_original_time=state.replay_keep_original_time,
        dry_run=state.replay_dry_run,
    )
    if spec is None:
        session.flash_many("replay_form", "error", problems)
        return
    # One key per filled-in form: a second click (or a retry after a lost answer) on the same
    # form returns the same operation; a changed form is another replay.
    nonce = state.setdefault(IDEMPOTENCY, uuid.uuid4().hex)
    key = f"{nonce}-{hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]}"

    def act() -> str:
        started = session.client().start_replay(spec, idempotency_key=key)
        state[IDEMPOTENCY] = uuid.uuid4().hex
        state[SELECTED] = started.id
        state[LIVE] = True
        state[OFFSET] = 0
        state[TAB_KEY] = TABS[0]
        kind = "Dry run" if spec.get("dry_run") else "Replay"
        return (
            f"{kind} of {spec['stream']} started (operation {started.id[:8]}); its progress "
            "shows below."
        )

    session.in_callback("replay_form", act, success_area="operations")


session.run_page(main)
