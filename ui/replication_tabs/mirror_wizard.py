"""The mirror wizard of the source design (section 3.3), in three steps: the source (cluster,
stream, full or filtered, where it starts), the destination (cluster, mirror name, storage
overrides), then a review with the initial sync it will make, and Create. The mirror is made by an
operation that waits until it has caught up; its progress shows here once started (or the
approval request, for a production destination)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.approval_widgets import submitted_sentence
from ui.client import Cluster, MirrorSpec, RequestSubmitted, StreamInfo
from ui.replication_tabs import AREA, live

STEP = "mw_step"
SAVED = "mw_saved"  # the values typed so far (a widget not drawn loses its own)
STARTED = "mw_started"  # the operation started by the last Create
REQUEST = "mw_request"  # or the request it waits on
IDEMPOTENCY = "mw_idempotency_key"
DRAWN = "mw_drawn"  # the widgets the last run drew (the others may hold stale values)
STEPS = ("Source", "Destination", "Review")
STEP_FIELDS: dict[int, dict[str, Any]] = {  # the widgets of each step: key -> default
    1: {
        "mw_source_cluster": None,
        "mw_source_stream": None,
        "mw_type": "full",
        "mw_filters": "",
        "mw_start": "all",
        "mw_start_seq": None,
        "mw_start_time": "",
    },
    2: {
        "mw_target_cluster": None,
        "mw_target_stream": "",
        "mw_replicas": 0,
        "mw_storage": "",
        "mw_max_bytes": "",
        "mw_max_age": "",
        "mw_description": "",
    },
}
FIELDS: dict[str, Any] = {**STEP_FIELDS[1], **STEP_FIELDS[2]}
TYPE_LABELS = {
    "full": "Full mirror (all messages, 1:1 copy)",
    "filtered": "Filtered mirror (a subset of subjects)",
}
START_LABELS = {
    "all": "From the beginning (full sync)",
    "seq": "From a sequence",
    "time": "From a time",
    "new": "New messages only",
}
STORAGE_LABELS = {"": "As JetStream decides", "file": "File", "memory": "Memory"}


def show_wizard(clusters: list[Cluster]) -> None:
    state = st.session_state
    if not clusters:
        widgets.no_cluster_yet()
        return
    if state.get(STARTED) or state.get(REQUEST):
        show_outcome({c.id: c.name for c in clusters})
        return
    step = int(state.get(STEP, 1))
    st.markdown(f"**Create a stream mirror** · step {step} of {len(STEPS)}: {STEPS[step - 1]}")
    source = show_source(clusters, editable=step == 1)
    if source is None:
        return
    cluster, info = source
    if step >= 2:
        show_destination(clusters, info, editable=step == 2)
    st.info(_estimate(info))
    if step == 3:
        show_review(clusters)
    back, nxt, cancel, _ = st.columns([1, 1.4, 1, 3])
    back.button(
        "Back", key="mw_back", disabled=step == 1, on_click=_go, args=(step - 1,), width="stretch"
    )
    if step < 3:
        nxt.button(
            f"Next: {STEPS[step]}",
            key="mw_next",
            type="primary",
            on_click=_next,
            args=(step,),
            width="stretch",
        )
    else:
        nxt.button(
            "Create mirror", key="mw_create", type="primary", on_click=_create, width="stretch"
        )
    cancel.button("Cancel", key="mw_cancel", on_click=_reset, width="stretch")
    session.show_flash("mirror_wizard")


# --------------------------------------------------------------------------- the steps


def show_source(clusters: list[Cluster], editable: bool) -> tuple[Cluster, StreamInfo] | None:
    api = session.client()
    state = st.session_state
    by_id = {c.id: c for c in clusters}
    top = st.columns(2)
    with top[0]:
        if editable:
            cluster = widgets.pick_cluster(
                clusters, key="mw_source_cluster", label="Source cluster"
            )
        else:
            cluster = by_id.get(_saved("mw_source_cluster")) or clusters[0]
    streams = session.call(api.list_streams, cluster.id)
    if streams is None:
        return None
    infos = {s.name: s for s in streams if not s.mirror}  # a mirror is not mirrored again here
    names = sorted(infos)
    if not names:
        st.info(
            f"The cluster {cluster.name} has no stream to mirror."
            + (
                " Its mirrors are left out: mirror their source instead."
                if len(streams) > len(infos)
                else ""
            )
        )
        return None
    if state.get("mw_source_stream") not in names:
        state["mw_source_stream"] = (
            _saved("mw_source_stream") if _saved("mw_source_stream") in names else names[0]
        )
    if editable:
        top[1].selectbox("Source stream", names, key="mw_source_stream")
        st.radio(
            "Mirror type",
            tuple(TYPE_LABELS),
            key="mw_type",
            format_func=TYPE_LABELS.__getitem__,
            horizontal=True,
        )
        if state.get("mw_type") == "filtered":
            st.text_area(
                "Filter subjects, one per line",
                key="mw_filters",
                placeholder="orders.created.>\norders.completed.>",
                help="Only messages on these subjects are copied.",
            )
        st.radio(
            "Start position",
            tuple(START_LABELS),
            key="mw_start",
            format_func=START_LABELS.__getitem__,
            horizontal=True,
        )
        start = state.get("mw_start")
        if start == "seq":
            st.number_input("From sequence", min_value=1, step=1, key="mw_start_seq")
        elif start == "time":
            st.text_input(
                "From time (ISO 8601, UTC unless an offset is given)",
                key="mw_start_time",
                placeholder="2024-01-15T10:30:00Z",
            )
        drawn = ["mw_source_cluster", "mw_source_stream", "mw_type", "mw_start"]
        drawn += {"seq": ["mw_start_seq"], "time": ["mw_start_time"]}.get(start or "", [])
        drawn += ["mw_filters"] if state.get("mw_type") == "filtered" else []
        state[DRAWN] = drawn
        _save(1)
    else:
        top[1].markdown(f"**Source:** {cluster.name} / {_saved('mw_source_stream')}")
    return cluster, infos[_saved("mw_source_stream") or names[0]]


def show_destination(clusters: list[Cluster], info: StreamInfo, editable: bool) -> None:
    state = st.session_state
    if not editable:
        return
    by_id = {c.id: c for c in clusters}
    ids = list(by_id)
    if state.get("mw_target_cluster") not in by_id:
        others = [i for i in ids if i != _saved("mw_source_cluster")]
        state["mw_target_cluster"] = (others or ids)[0]
    if not state.get("mw_target_stream"):
        state["mw_target_stream"] = f"{info.name}_MIRROR"
    st.markdown("**Destination**")
    left, right = st.columns(2)
    left.selectbox(
        "Destination cluster",
        ids,
        key="mw_target_cluster",
        format_func=lambda i: f"{by_id[i].name} ({by_id[i].environment})",
    )
    right.text_input("Mirror stream name", key="mw_target_stream")
    st.markdown("Storage override (optional)")
    cols = st.columns(4)
    cols[0].selectbox(
        "Replicas",
        (0, 1, 3, 5),
        key="mw_replicas",
        format_func=lambda n: "As the source" if n == 0 else str(n),
    )
    cols[1].selectbox(
        "Storage", tuple(STORAGE_LABELS), key="mw_storage", format_func=STORAGE_LABELS.__getitem__
    )
    cols[2].text_input("Max bytes", key="mw_max_bytes", placeholder="e.g. 100GB")
    cols[3].text_input("Max age", key="mw_max_age", placeholder="e.g. 72h")
    st.text_input("Description (optional)", key="mw_description")
    target = by_id.get(state.get("mw_target_cluster") or "")
    if target is not None and target.environment == "production":
        st.caption(
            f"{target.name} is a production cluster: the mirror waits for approval "
            "before it is made."
        )
    state[DRAWN] = list(STEP_FIELDS[2])
    _save(2)


def show_review(clusters: list[Cluster]) -> None:
    spec, problems = _spec()
    if spec is None:
        for problem in problems:
            st.error(problem)
        return
    names = {c.id: c.name for c in clusters}
    start = spec.get("start")
    start_text = (
        START_LABELS.get(start, str(start))
        if isinstance(start, str)
        else f"From sequence {start['seq']:,}"
        if "seq" in start
        else f"From {fmt.when(start['time'])}"
    )
    overrides = spec.get("overrides") or {}
    widgets.facts(
        {
            "Source": f"{names.get(spec['source_cluster_id'], '?')} / {spec['source_stream']}",
            "Mirror": f"{names.get(spec['target_cluster_id'], '?')} / {spec['target_stream']}",
            "Type": ("Filtered: " + ", ".join(spec["filter_subjects"]))
            if spec.get("filter_subjects")
            else "Full mirror",
            "Start": start_text,
            "Replicas": overrides.get("num_replicas", "as the source"),
            "Storage": overrides.get("storage", "as JetStream decides"),
            "Max bytes": fmt.size(overrides["max_bytes"])
            if "max_bytes" in overrides
            else "no limit",
            "Max age": fmt.duration_ns(overrides["max_age"])
            if "max_age" in overrides
            else "no limit",
        }
    )


def _estimate(info: StreamInfo) -> str:
    source, problems = forms.check_mirror_source(
        source_cluster_id="-",
        source_stream=info.name,
        mirror_type=_saved("mw_type"),
        filter_subjects=_saved("mw_filters") or "",
        start=_saved("mw_start"),
        start_seq=_saved("mw_start_seq"),
        start_time=_saved("mw_start_time") or "",
    )
    start = source["start"]  # "all" while the start typed so far is not valid
    filtered = _saved("mw_type") == "filtered"
    _, sentence = forms.initial_sync(
        info.messages,
        info.bytes,
        int(info.state.get("first_seq") or 0),
        int(info.state.get("last_seq") or 0),
        start,
        filtered,
    )
    return f"Estimated initial sync — {sentence}"


# --------------------------------------------------------------------------- state


def _saved(key: str) -> Any:
    return st.session_state.get(SAVED, {}).get(key, FIELDS.get(key))


def _save(step: int) -> None:
    """Keep what the widgets of ``step`` hold: a widget not drawn in a run forgets its value,
    so each step's values live in ``SAVED`` while another step is shown."""
    saved = st.session_state.setdefault(SAVED, {})
    drawn = st.session_state.get(DRAWN) or ()
    for key in STEP_FIELDS.get(step, {}):
        if key in st.session_state and key in drawn:
            saved[key] = st.session_state[key]


def _restore(step: int) -> None:
    """Give the widgets of ``step`` back what was typed (from a callback: before they exist)."""
    saved = st.session_state.get(SAVED, {})
    for key, default in STEP_FIELDS.get(step, {}).items():
        value = saved.get(key, default)
        if value is None:
            st.session_state.pop(key, None)
        else:
            st.session_state[key] = value


def _spec() -> tuple[MirrorSpec | None, list[str]]:
    return forms.check_mirror_form(
        source_cluster_id=_saved("mw_source_cluster") or "",
        source_stream=_saved("mw_source_stream") or "",
        mirror_type=_saved("mw_type"),
        filter_subjects=_saved("mw_filters") or "",
        start=_saved("mw_start"),
        start_seq=_saved("mw_start_seq"),
        start_time=_saved("mw_start_time") or "",
        target_cluster_id=_saved("mw_target_cluster") or "",
        target_stream=_saved("mw_target_stream") or "",
        replicas=_saved("mw_replicas") or None,
        storage=_saved("mw_storage") or "",
        max_bytes=_saved("mw_max_bytes") or "",
        max_age=_saved("mw_max_age") or "",
        description=_saved("mw_description") or "",
    )


def _next(step: int) -> None:
    _save(step)
    if step == 1:  # only what the source step asks for
        _, problems = forms.check_mirror_source(
            source_cluster_id=_saved("mw_source_cluster") or "",
            source_stream=_saved("mw_source_stream") or "",
            mirror_type=_saved("mw_type"),
            filter_subjects=_saved("mw_filters") or "",
            start=_saved("mw_start"),
            start_seq=_saved("mw_start_seq"),
            start_time=_saved("mw_start_time") or "",
        )
    else:
        _, problems = _spec()
    if problems:
        session.flash_many("mirror_wizard", "error", problems)
        return
    _go(step + 1)


def _go(step: int) -> None:
    _save(int(st.session_state.get(STEP, 1)))
    step = max(1, min(len(STEPS), step))
    _restore(step)
    st.session_state[STEP] = step
    st.session_state[DRAWN] = []


def _reset() -> None:
    state = st.session_state
    for key in (STEP, SAVED, STARTED, REQUEST, DRAWN, *FIELDS):
        state.pop(key, None)


def _create() -> None:
    state = st.session_state
    spec, problems = _spec()
    if spec is None:
        session.flash_many("mirror_wizard", "error", problems)
        return
    # one key per filled-in wizard: a second click returns the same operation
    nonce = state.setdefault(IDEMPOTENCY, uuid.uuid4().hex)
    key = f"{nonce}-{hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]}"

    def act() -> str:
        started = session.client().start_mirror(spec, idempotency_key=key)
        state[IDEMPOTENCY] = uuid.uuid4().hex
        if isinstance(started, RequestSubmitted):
            state[REQUEST] = started
            return submitted_sentence(started)
        state[STARTED] = started.id
        state["mw_op_live"] = True
        return (
            f"Mirror {spec['target_stream']} is being created (operation "
            f"{started.id[:8]}); it is done once it has caught up with "
            f"{spec['source_stream']}."
        )

    session.in_callback("mirror_wizard", act, success_area=AREA)


def show_outcome(names: dict[str, str]) -> None:
    state = st.session_state
    session.show_flash("mirror_wizard")
    if state.get(REQUEST) is not None:
        live.show_request(state[REQUEST], key="mw_req")
    if state.get(STARTED):
        live.follow(state[STARTED], "mw_op", names)
    st.button("Create another mirror", key="mw_again", icon=":material/add:", on_click=_reset)
