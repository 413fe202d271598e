"""The DR pair form: a name, the primary and the standby cluster, the primary's streams to
protect (each by a mirror of the same name on the standby, unless renamed), the RPO and RTO
objectives, and whether to create the mirrors still missing (one operation for all of them)."""

from __future__ import annotations

import streamlit as st

from ui import forms, session, widgets
from ui.client import Cluster
from ui.replication_tabs import AREA, PAIRS, TAB_KEY, pairs

DEFAULTS: dict[str, object] = {
    "dp_name": "",
    "dp_description": "",
    "dp_streams": [],
    "dp_mirror_names": "",
    "dp_rpo": 5.0,
    "dp_rto": 30.0,
    "dp_create_mirrors": True,
}


def show_pair_form(clusters: list[Cluster]) -> None:
    state = st.session_state
    if len(clusters) < 2:
        st.info("A DR pair needs two registered clusters: a primary and a standby.")
        widgets.no_cluster_yet()
        return
    for key, value in DEFAULTS.items():
        state.setdefault(key, value)
    by_id = {c.id: c for c in clusters}
    ids = list(by_id)
    st.caption(
        "A DR pair records which streams of a primary cluster are protected by which "
        "mirrors on a standby, with the objectives you state: the RPO (how much recent "
        "data you accept to lose, in seconds of lag) and the RTO (how long a failover may "
        "take)."
    )
    left, right = st.columns(2)
    with left:
        primary = widgets.pick_cluster(clusters, key="dp_primary", label="Primary cluster")
    if state.get("dp_standby") not in by_id or state.get("dp_standby") == primary.id:
        state["dp_standby"] = next(i for i in ids if i != primary.id)
    right.selectbox(
        "Standby cluster",
        [i for i in ids if i != primary.id],
        key="dp_standby",
        format_func=lambda i: f"{by_id[i].name} ({by_id[i].environment})",
    )
    streams = session.call(session.client().list_streams, primary.id)
    if streams is None:
        return
    names = sorted(s.name for s in streams if not s.mirror)
    if not names:
        st.info(f"The cluster {primary.name} has no stream to protect yet.")
        return
    state["dp_streams"] = [s for s in state.get("dp_streams") or [] if s in names]
    with st.form("dr_pair_form"):
        left, right = st.columns(2)
        left.text_input("Name", key="dp_name", placeholder="orders-dr")
        right.text_input("Description", key="dp_description")
        st.multiselect("Streams to protect", names, key="dp_streams")
        st.text_area(
            "Mirror names on the standby (optional), one per line as STREAM=MIRROR",
            key="dp_mirror_names",
            height=80,
            help="Streams not listed are mirrored under their own name.",
        )
        left, right = st.columns(2)
        left.number_input("RPO objective (seconds)", min_value=0.1, step=1.0, key="dp_rpo")
        right.number_input("RTO objective (seconds)", min_value=0.1, step=1.0, key="dp_rto")
        st.checkbox(
            "Create the mirrors still missing on the standby (one operation)",
            key="dp_create_mirrors",
        )
        st.form_submit_button("Create DR pair", key="dp_submit", type="primary", on_click=_create)
    session.show_flash("pair_form")


def _create() -> None:
    state = st.session_state
    spec, problems = forms.check_dr_pair_form(
        name=state.dp_name,
        primary_cluster_id=state.get("dp_primary") or "",
        standby_cluster_id=state.get("dp_standby") or "",
        streams=list(state.dp_streams),
        mirror_names=state.dp_mirror_names,
        rpo_seconds=state.dp_rpo,
        rto_seconds=state.dp_rto,
        create_missing_mirrors=state.dp_create_mirrors,
        description=state.dp_description,
    )
    if spec is None:
        session.flash_many("pair_form", "error", problems)
        return

    def act() -> str:
        pair = session.client().create_dr_pair(spec)
        state.update({**DEFAULTS, "dp_streams": []})
        state[TAB_KEY] = PAIRS
        told = f"DR pair {pair.name} created."
        if pair.approval is not None and pair.approval.waiting:
            state.setdefault(pairs.REQUESTS, {})[pair.id] = pair.approval
            if pair.operation_id:
                state.setdefault(pairs.OPS, {})[pair.id] = pair.operation_id
            return told + (
                f" Its {len(pair.missing_mirrors)} missing mirror(s) wait for "
                "approval: the request shows with the pair."
            )
        if pair.operation_id:
            state.setdefault(pairs.OPS, {})[pair.id] = pair.operation_id
            state[f"dr_op_{pair.id}_live"] = True
            told += (
                f" The missing mirrors are being created (operation "
                f"{pair.operation_id[:8]}); its progress shows with the pair."
            )
        return told

    session.in_callback("pair_form", act, success_area=AREA)
