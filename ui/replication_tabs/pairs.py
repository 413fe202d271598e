"""DR pairs, each with its objectives (RPO, RTO) and whether the RPO holds now, the data a
failover would lose now, the last drill ("Last drill: RTO 1.2 s, RPO 0, 3 days ago") and the
failover controls of the source design: "Failover to <standby>", "Pause Replication" and
"Test Failover". The data-loss risk is on the page before any button is pressed; a failover asks
for confirmation (with the emergency and reverse options), and once started its steps show in
place (or, when it waits for approval, the request)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import fmt, session, widgets
from ui.approval_widgets import submitted_sentence
from ui.client import (
    DrillResult,
    DrPair,
    FailoverSpec,
    Me,
    Mirror,
    PairHealth,
    ReplicationEdge,
    ReplicationMap,
    RequestSubmitted,
)
from ui.replication_tabs import AREA, NEW_PAIR, TAB_KEY, live

PENDING = "dr_pending"  # (pair id, "failover" | "drill") being confirmed
OPS = "dr_ops"  # pair id -> the operation started here
REQUESTS = "dr_requests"  # pair id -> the request a failover waits on
PENDING_DELETE = "dr_pending_delete"


# --------------------------------------------------------------------------- sentences (pure)


def drill_sentence(drill: DrillResult | None, what: str = "drill") -> str:
    """ "Last drill: RTO 1.2 s, RPO 0, 3 days ago" (or that there was none)."""
    if drill is None:
        return f"No {what} yet."
    parts = [f"RTO {fmt.precise_seconds(drill.rto_s)}"]
    if drill.rpo_messages is not None:
        parts.append(f"RPO {drill.rpo_messages:,}" + (" messages" if drill.rpo_messages else ""))
    text = f"Last {what}: {', '.join(parts)}, {fmt.ago(drill.at)}"
    if drill.ok is False:
        text += " — it failed"
    return text


def rpo_text(health: PairHealth | None) -> str:
    if health is None or health.rpo_ok is None:
        return "unknown"
    return "✔ holds" if health.rpo_ok else "✖ not met"


def risk_sentence(pair: DrPair, health: PairHealth | None, names: dict[str, str]) -> str:
    """What a failover would cost now, said before anyone presses the button."""
    target = names.get(pair.passive_cluster_id, "the standby")
    head = (
        f"Failover redirects writers to {target} (objective: within "
        f"{fmt.precise_seconds(pair.rto_seconds)})."
    )
    if health is None or health.data_at_risk_messages is None:
        return head + (" Data-loss risk now: unknown — the replication could not be measured.")
    lag = (
        f" (worst lag {fmt.precise_seconds(health.worst_lag_seconds)})"
        if health.worst_lag_seconds is not None
        else ""
    )
    if health.data_at_risk_messages == 0:
        return head + f" Data-loss risk now: none — every message is on {target}{lag}."
    return head + (
        f" Data-loss risk now: {health.data_at_risk_messages:,} messages not yet on "
        f"{target}{lag}. A planned failover fences the primary and waits until they "
        "are copied; an emergency failover loses them."
    )


# --------------------------------------------------------------------------- the tab


def show_pairs(
    pairs: list[DrPair] | None,
    rmap: ReplicationMap | None,
    mirrors: list[Mirror] | None,
    person: Me | None,
) -> None:
    if pairs is None:
        return
    names = rmap.cluster_names() if rmap is not None else {}
    can_create = bool(person and person.can("replication:create"))
    if not pairs:
        st.info(
            "No DR pair yet. A pair says which streams of a primary cluster are protected by "
            "which mirrors on a standby, with the RPO and RTO you aim for."
            + (" Create one in New DR pair." if can_create else "")
        )
        if can_create:
            st.button(
                "New DR pair",
                key="dr_new_pair",
                icon=":material/add:",
                on_click=st.session_state.update,
                args=({TAB_KEY: NEW_PAIR},),
            )
        return
    if person is not None and not person.can("replication:failover"):
        st.caption(
            f"Failing over (or testing it) takes the replication:failover permission, "
            f"which your role ({person.role}) does not have."
        )
    for pair in pairs:
        health = rmap.pair(pair.id) if rmap is not None else None
        edges = [e for e in (rmap.edges if rmap is not None else ()) if e.pair_id == pair.id]
        owned = [m for m in mirrors or () if m.pair_id == pair.id]
        show_pair(pair, health, edges, owned, names, person)


def show_pair(
    pair: DrPair,
    health: PairHealth | None,
    edges: list[ReplicationEdge],
    mirrors: list[Mirror],
    names: dict[str, str],
    person: Me | None,
) -> None:
    with st.container(border=True, key=f"dr_pair_{pair.id}"):
        st.subheader(pair.name)
        st.caption(
            f"Primary {names.get(pair.primary_cluster_id, '?')} → standby "
            f"{names.get(pair.standby_cluster_id, '?')} · {len(pair.streams)} stream(s)"
            + (f" · {pair.description}" if pair.description else "")
        )
        cols = st.columns(4)
        cols[0].metric(f"RPO (objective {fmt.precise_seconds(pair.rpo_seconds)})", rpo_text(health))
        cols[1].metric("RTO objective", fmt.precise_seconds(pair.rto_seconds))
        at_risk = None if health is None else health.data_at_risk_messages
        cols[2].metric("Data at risk now", "unknown" if at_risk is None else f"{at_risk:,} msgs")
        cols[3].metric(
            "Worst lag", fmt.precise_seconds(None if health is None else health.worst_lag_seconds)
        )
        st.markdown(
            drill_sentence(pair.last_drill or (health.last_drill if health else None))
            + " · "
            + drill_sentence(pair.last_failover, "failover")
        )
        st.dataframe(
            stream_rows(pair, health, edges, mirrors), hide_index=True, key=f"dr_streams_{pair.id}"
        )
        show_controls(pair, health, mirrors, names, person)
        show_started(pair, names)
        show_manage(pair, person)


def stream_rows(
    pair: DrPair, health: PairHealth | None, edges: list[ReplicationEdge], mirrors: list[Mirror]
) -> list[dict[str, Any]]:
    """One row per protected stream: how its mirror stands now (as the map measured it)."""
    measured = {s.stream: s for s in (health.streams if health else ())}
    rows = []
    for ps in pair.streams:
        edge = next(
            (
                e
                for e in edges
                if {e.source_stream, e.target_stream} == {ps.stream, ps.mirror_stream}
            ),
            None,
        )
        seen = measured.get(ps.stream)
        status = seen.status if seen else (edge.status if edge else None)
        lag = seen.lag_messages if seen else (edge.lag_messages if edge else None)
        lag_s = seen.lag_seconds if seen else (edge.lag_seconds if edge else None)
        mirror = next(
            (m for m in mirrors if m.target_stream == ps.mirror_stream and m.state != "removed"),
            None,
        )
        rows.append(
            {
                "Stream": ps.stream,
                "Mirror": ps.mirror_stream,
                "Status": fmt.replication_status(status) if status else "○ No mirror found",
                "Lag (msgs)": fmt.count(lag),
                "Lag (s)": fmt.precise_seconds(lag_s),
                "Mirror state": mirror.state if mirror else "",
                "Note": (edge.error or "") if edge else "",
            }
        )
    return rows


# --------------------------------------------------------------------------- failover controls


def show_controls(
    pair: DrPair,
    health: PairHealth | None,
    mirrors: list[Mirror],
    names: dict[str, str],
    person: Me | None,
) -> None:
    can_failover = bool(person and person.can("replication:failover"))
    can_update = bool(person and person.can("replication:update"))
    target = names.get(pair.passive_cluster_id, "the standby")
    st.markdown(
        f"**Current primary:** {names.get(pair.active_cluster_id, '?')} · writers go there now"
    )
    risk = risk_sentence(pair, health, names)
    at_risk = health.data_at_risk_messages if health else None
    (st.info if at_risk == 0 else st.warning)(risk)
    if not (can_failover or can_update):
        return
    active = [m for m in mirrors if m.state == "active"]
    paused = [m for m in mirrors if m.state == "paused"]
    row = st.container(horizontal=True, key=f"dr_controls_{pair.id}")
    if can_failover:
        row.button(
            f"Failover to {target}",
            key=f"dr_failover_{pair.id}",
            type="primary",
            icon=":material/swap_horiz:",
            on_click=widgets.ask,
            args=(PENDING, (pair.id, "failover")),
        )
    if can_update:
        if paused and not active:
            row.button(
                "Resume Replication",
                key=f"dr_resume_{pair.id}",
                icon=":material/play_arrow:",
                on_click=_pause_pair,
                args=(pair, paused, "resume"),
            )
        else:
            row.button(
                "Pause Replication",
                key=f"dr_pause_{pair.id}",
                icon=":material/pause:",
                disabled=not active,
                on_click=_pause_pair,
                args=(pair, active, "pause"),
                help="Pause every mirror of the pair, reversibly; the data at risk "
                "grows until it is resumed.",
            )
    if can_failover:
        row.button(
            "Test Failover",
            key=f"dr_drill_{pair.id}",
            icon=":material/science:",
            on_click=widgets.ask,
            args=(PENDING, (pair.id, "drill")),
            help="A drill: the same steps on temporary copies of the mirrors; it "
            "measures RTO and RPO and touches nothing in production.",
        )
    pending = st.session_state.get(PENDING)
    if can_failover and pending == (pair.id, "failover"):
        confirm_failover(pair, risk, target)
    elif can_failover and pending == (pair.id, "drill"):
        confirm_drill(pair, target)


def confirm_failover(pair: DrPair, risk: str, target: str) -> None:
    with st.container(border=True, key=f"dr_confirm_{pair.id}"):
        st.warning(f"**Fail over {pair.name} to {target}?** {risk}")
        st.checkbox(
            "Emergency: the primary is unreachable — do not fence it or wait for the "
            "mirrors; what they have not copied is lost",
            key=f"dr_emergency_{pair.id}",
        )
        st.checkbox(
            "Reverse: once the old primary answers, make it a mirror of the new one "
            "(its old data is kept aside)",
            key=f"dr_reverse_{pair.id}",
        )
        st.number_input(
            "Refuse if more than this many messages would be lost (optional)",
            min_value=0,
            step=1,
            value=None,
            key=f"dr_max_loss_{pair.id}",
            placeholder="no limit",
        )
        yes, no, _ = st.columns([2, 1, 3])
        yes.button(
            f"Yes, fail over to {target}",
            key=f"dr_confirm_yes_{pair.id}",
            type="primary",
            on_click=_start,
            args=(pair, "failover", target),
        )
        no.button(
            "Cancel",
            key=f"dr_confirm_no_{pair.id}",
            on_click=st.session_state.pop,
            args=(PENDING, None),
        )


def confirm_drill(pair: DrPair, target: str) -> None:
    with st.container(border=True, key=f"dr_confirm_{pair.id}"):
        st.info(
            f"**Test a failover of {pair.name} to {target}?** The drill runs the same steps "
            "on temporary copies of the mirrors and reports the RTO and RPO it measured. The "
            "primary, its mirrors and their clients are not touched, and the copies are "
            "removed afterwards."
        )
        yes, no, _ = st.columns([2, 1, 3])
        yes.button(
            "Run the drill",
            key=f"dr_drill_yes_{pair.id}",
            type="primary",
            on_click=_start,
            args=(pair, "drill", target),
        )
        no.button(
            "Cancel",
            key=f"dr_drill_no_{pair.id}",
            on_click=st.session_state.pop,
            args=(PENDING, None),
        )


def failover_spec(
    pair: DrPair,
    kind: str,
    emergency: bool = False,
    reverse: bool = False,
    max_loss: int | None = None,
) -> FailoverSpec:
    """The body of ``POST /operations/failover`` for a pair, to its side that is not active."""
    spec: FailoverSpec = {
        "pair_id": pair.id,
        "target_cluster_id": pair.passive_cluster_id,
        "drill": kind == "drill",
    }
    if kind != "drill":
        spec["mode"] = "emergency" if emergency else "planned"
        spec["reverse"] = bool(reverse)
        if max_loss is not None:
            spec["max_data_loss_messages"] = int(max_loss)
    return spec


def _start(pair: DrPair, kind: str, target: str) -> None:
    state = st.session_state
    spec = failover_spec(
        pair,
        kind,
        bool(state.get(f"dr_emergency_{pair.id}")),
        bool(state.get(f"dr_reverse_{pair.id}")),
        state.get(f"dr_max_loss_{pair.id}"),
    )
    state.pop(PENDING, None)
    what = "Drill" if kind == "drill" else "Failover"

    def act() -> str:
        started = session.client().start_failover(spec)
        state.setdefault(REQUESTS, {}).pop(pair.id, None)
        if isinstance(started, RequestSubmitted):
            state[REQUESTS][pair.id] = started
            if started.operation_id:
                state.setdefault(OPS, {})[pair.id] = started.operation_id
            return submitted_sentence(started)
        state.setdefault(OPS, {})[pair.id] = started.id
        state[f"dr_op_{pair.id}_live"] = True
        return (
            f"{what} of {pair.name} to {target} started (operation {started.id[:8]}); its "
            "steps show below."
        )

    session.in_callback(AREA, act)


def _pause_pair(pair: DrPair, mirrors: list[Mirror], action: str) -> None:
    def act() -> str:
        api = session.client()
        for m in mirrors:
            api.pause_mirror(m.id) if action == "pause" else api.resume_mirror(m.id)
        if action == "pause":
            return (
                f"Replication of {pair.name} paused ({len(mirrors)} mirror(s)). The data at "
                "risk grows until you resume it."
            )
        return f"Replication of {pair.name} resumed ({len(mirrors)} mirror(s)); catching up."

    session.in_callback(AREA, act)


def show_started(pair: DrPair, names: dict[str, str]) -> None:
    """The failover or drill started from here: its request while it waits, then its steps."""
    sent = st.session_state.get(REQUESTS, {}).get(pair.id)
    op_id = st.session_state.get(OPS, {}).get(pair.id)
    if sent is not None:
        live.show_request(sent, key=f"dr_req_{pair.id}")
    if op_id:
        live.follow(op_id, f"dr_op_{pair.id}", names, missing_ok=True)


# --------------------------------------------------------------------------- edit, remove


def show_manage(pair: DrPair, person: Me | None) -> None:
    can_update = bool(person and person.can("replication:update"))
    can_delete = bool(person and person.can("replication:delete"))
    if not (can_update or can_delete):
        return
    with st.expander("Change or remove this pair"):
        if can_update:
            with st.form(f"dr_edit_{pair.id}", border=False):
                st.text_input("Description", value=pair.description, key=f"dr_desc_{pair.id}")
                left, right = st.columns(2)
                left.number_input(
                    "RPO objective (seconds)",
                    min_value=0.1,
                    step=1.0,
                    value=float(pair.rpo_seconds),
                    key=f"dr_rpo_{pair.id}",
                )
                right.number_input(
                    "RTO objective (seconds)",
                    min_value=0.1,
                    step=1.0,
                    value=float(pair.rto_seconds),
                    key=f"dr_rto_{pair.id}",
                )
                st.form_submit_button(
                    "Save", key=f"dr_save_{pair.id}", on_click=_save, args=(pair,)
                )
        if can_delete:
            st.button(
                "Remove the pair…",
                key=f"dr_delete_{pair.id}",
                on_click=widgets.ask,
                args=(PENDING_DELETE, pair.id),
            )
            widgets.confirm(
                PENDING_DELETE,
                pair.id,
                f"Remove the DR pair **{pair.name}**? Its mirrors stay and keep "
                "replicating; only the pair (objectives, drills) is forgotten.",
                "Yes, remove the pair",
                _delete,
                args=(pair,),
            )


def _save(pair: DrPair) -> None:
    state = st.session_state

    def act() -> str:
        changed = session.client().update_dr_pair(
            pair.id,
            {
                "description": state.get(f"dr_desc_{pair.id}") or "",
                "rpo_seconds": float(state.get(f"dr_rpo_{pair.id}") or pair.rpo_seconds),
                "rto_seconds": float(state.get(f"dr_rto_{pair.id}") or pair.rto_seconds),
            },
        )
        return (
            f"{changed.name}: RPO {fmt.precise_seconds(changed.rpo_seconds)}, RTO "
            f"{fmt.precise_seconds(changed.rto_seconds)}."
        )

    session.in_callback(AREA, act)


def _delete(pair: DrPair) -> None:
    def act() -> str:
        session.client().delete_dr_pair(pair.id)
        st.session_state.get(OPS, {}).pop(pair.id, None)
        return f"The DR pair {pair.name} was removed; its mirrors stay."

    session.in_callback(AREA, act)
