"""The replication topology as a picture (clusters as nodes, each mirror or source as an edge
coloured by its status: green in sync, amber behind or paused, red stalled, broken link or in
error) and the source design's "Replication Status" table, with Pause / Resume / Remove for the
mirrors the console made (to those whose role allows it)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import streamlit as st

from ui import fmt, session, widgets
from ui.approval_widgets import submitted_sentence
from ui.client import Me, Mirror, ReplicationEdge, ReplicationMap
from ui.replication_tabs import AREA, NEW_MIRROR, TAB_KEY

SEVERITY = {
    "in_sync": 0,
    "unknown": 1,
    "paused": 2,
    "behind": 2,
    "stalled": 3,
    "broken_link": 3,
    "error": 3,
}
MAX_EDGES_PER_LINK = 6  # more replications between two clusters are drawn as one edge
SELECTED = "repl_mirror_selected"
PENDING_REMOVE = "repl_pending_remove"
LEGEND = (
    "Green: in sync · amber: behind or paused · red: stalled, broken link or error · "
    "grey: not measured. Dashed: paused, or a source the console does not know."
)


# --------------------------------------------------------------------------- the picture


def topology_dot(rmap: ReplicationMap) -> str:
    """The map in Graphviz's DOT language (pure: no Streamlit)."""
    roles: dict[str, list[str]] = defaultdict(list)
    for pair in rmap.pairs:
        for cluster_id, role in (
            (pair.primary_cluster_id, "primary"),
            (pair.standby_cluster_id, "standby"),
        ):
            active = " (active)" if pair.active_cluster_id == cluster_id else ""
            roles[cluster_id].append(f"{role} of {pair.name}{active}")
    lines = [
        "digraph replication {",
        "  rankdir=LR;",
        '  bgcolor="transparent";',
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", '
        'fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9, penwidth=2];',
    ]
    known = {c.id for c in rmap.clusters}
    for c in rmap.clusters:
        label = [
            c.name,
            c.environment + (f" · domain {c.jetstream_domain}" if c.jetstream_domain else ""),
        ]
        label += roles.get(c.id, [])
        if not c.reachable:
            label.append("✖ unreachable")
        colour = "#c62828" if not c.reachable else "#37474f"
        lines.append(
            f"  {_id(c.id)} [label={_quote(chr(10).join(label))}, color={_quote(colour)}];"
        )
    external = sorted({_source_node(e) for e in rmap.edges if _source_node(e) not in known})
    for node in external:
        domain = node.split(":", 1)[1] or "another account"
        lines.append(
            f"  {_id(node)} [label={_quote(f'{domain}{chr(10)}(not registered)')}, "
            'style="rounded,dashed"];'
        )
    links: dict[tuple[str, str], list[ReplicationEdge]] = defaultdict(list)
    for edge in rmap.edges:
        links[(_source_node(edge), edge.target_cluster_id)].append(edge)
    for (source, target), edges in links.items():
        if len(edges) > MAX_EDGES_PER_LINK:
            worst = max(edges, key=lambda e: (SEVERITY.get(e.status, 1), e.lag_messages or 0))
            label = (
                f"{len(edges)} streams\nworst: {worst.source_stream} "
                f"{fmt.replication_status(worst.status)}\n{_lag(worst)}"
            )
            lines.append(_edge(source, target, label, worst.status, dashed=False))
            continue
        for e in edges:
            name = (
                e.source_stream
                if e.source_stream == e.target_stream
                else f"{e.source_stream} → {e.target_stream}"
            )
            kind = e.kind + (" (filtered)" if e.filter_subjects else "")
            label = f"{name}\n{kind} · {_lag(e)}"
            lines.append(
                _edge(
                    source,
                    target,
                    label,
                    e.status,
                    dashed=e.status == "paused" or not e.source_cluster_id,
                )
            )
    lines.append("}")
    return "\n".join(lines)


def _source_node(edge: ReplicationEdge) -> str:
    return edge.source_cluster_id or f"domain:{edge.source_domain or ''}"


def _edge(source: str, target: str, label: str, status: str, dashed: bool) -> str:
    colour = fmt.replication_colour(status)
    style = ', style="dashed"' if dashed else ""
    return (
        f"  {_id(source)} -> {_id(target)} [label={_quote(label)}, color={_quote(colour)}, "
        f"fontcolor={_quote(colour)}{style}];"
    )


def _lag(edge: ReplicationEdge) -> str:
    if edge.lag_messages is None:
        return fmt.replication_status(edge.status)
    text = f"lag {fmt.count(edge.lag_messages)}"
    if edge.lag_seconds is not None:
        text += f" / {fmt.precise_seconds(edge.lag_seconds)}"
    return text


def _id(value: str) -> str:
    return _quote("n_" + value)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# --------------------------------------------------------------------------- the table


def status_rows(rmap: ReplicationMap) -> list[dict[str, Any]]:
    """The "Replication Status" table: one row per mirror or source, worst first."""
    names = rmap.cluster_names()
    edges = sorted(
        rmap.edges,
        key=lambda e: (-SEVERITY.get(e.status, 1), -(e.lag_messages or 0), e.target_stream),
    )
    return [
        {
            "Source": f"{_where(e.source_cluster_id, e.source_domain, names)} / {e.source_stream}",
            "Target": (
                f"{names.get(e.target_cluster_id, e.target_cluster_id[:8])} / {e.target_stream}"
            ),
            "Type": e.kind.capitalize()
            + (" · filtered" if e.filter_subjects else "")
            + ("" if e.managed else " · found"),
            "Lag (msgs)": fmt.count(e.lag_messages),
            "Lag (s)": fmt.precise_seconds(e.lag_seconds),
            "Rate": fmt.rate(e.catch_up_rate_per_s),
            "Status": fmt.replication_status(e.status),
            "Last measured": fmt.ago(e.measured_at) if e.measured_at else "—",
            "Note": e.error or "",
        }
        for e in edges
    ]


def _where(cluster_id: str | None, domain: str | None, names: dict[str, str]) -> str:
    if cluster_id:
        return names.get(cluster_id, cluster_id[:8])
    return f"domain {domain}" if domain else "another account"


# --------------------------------------------------------------------------- the tab


def show_topology(
    rmap: ReplicationMap | None, mirrors: list[Mirror] | None, person: Me | None
) -> None:
    can_create = bool(person and person.can("replication:create"))
    head, add = st.columns([5, 1], vertical_alignment="bottom")
    head.subheader("Replication topology")
    if can_create:
        add.button(
            "Add mirror",
            key="repl_add_mirror",
            icon=":material/add:",
            width="stretch",
            on_click=st.session_state.update,
            args=({TAB_KEY: NEW_MIRROR},),
        )
    if rmap is None:
        return
    if not rmap.clusters:
        widgets.no_cluster_yet()
        return
    st.graphviz_chart(topology_dot(rmap), width="stretch")
    st.caption(LEGEND)
    unreachable = [c for c in rmap.clusters if not c.reachable]
    for c in unreachable:
        st.warning(
            f"{c.name} cannot be reached: {c.error or 'no answer'}. Its replication "
            "shows as broken or unknown until it answers again."
        )
    st.subheader("Replication status")
    if not rmap.edges:
        st.info(
            "No mirror or source on these clusters yet."
            + (" Create one with Add mirror." if can_create else "")
        )
    else:
        st.dataframe(status_rows(rmap), hide_index=True, key="repl_status_table")
    if mirrors is not None:
        show_mirror_actions(rmap, mirrors, person)


def show_mirror_actions(rmap: ReplicationMap, mirrors: list[Mirror], person: Me | None) -> None:
    """Pause / Resume / Remove one of the console's mirrors (only the buttons the role allows)."""
    can_update = bool(person and person.can("replication:update"))
    can_delete = bool(person and person.can("replication:delete"))
    live = [m for m in mirrors if m.state not in ("removed",)]
    if not live or not (can_update or can_delete):
        if live and person is not None:
            st.caption(
                f"Your role ({person.role}) can look at replication but not pause, resume "
                "or remove a mirror."
            )
        return
    names = rmap.cluster_names()
    by_id = {m.id: m for m in live}
    ids = list(by_id)
    if st.session_state.get(SELECTED) not in by_id:
        st.session_state[SELECTED] = ids[0]
    st.markdown("**Console mirrors**")
    pick, pause, resume, remove = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
    mirror = by_id[
        pick.selectbox(
            "Mirror",
            ids,
            key=SELECTED,
            format_func=lambda i: (
                f"{by_id[i].source_stream} → "
                f"{names.get(by_id[i].target_cluster_id, '?')} / "
                f"{by_id[i].target_stream} · {by_id[i].state}"
            ),
        )
    ]
    if can_update:
        pause.button(
            "Pause",
            key="repl_pause",
            icon=":material/pause:",
            width="stretch",
            disabled=not mirror.can_pause,
            on_click=_pause_or_resume,
            args=("pause", mirror, names),
            help="Stop replicating, reversibly: the mirror keeps what it has and "
            "catches up when resumed.",
        )
        resume.button(
            "Resume",
            key="repl_resume",
            icon=":material/play_arrow:",
            width="stretch",
            disabled=not mirror.can_resume,
            on_click=_pause_or_resume,
            args=("resume", mirror, names),
        )
    if can_delete:
        remove.button(
            "Remove…",
            key="repl_remove",
            width="stretch",
            disabled=mirror.state in ("promoted",),
            on_click=widgets.ask,
            args=(PENDING_REMOVE, mirror.id),
        )
        widgets.confirm(
            PENDING_REMOVE,
            mirror.id,
            f"Remove the mirror **{mirror.target_stream}** on "
            f"{names.get(mirror.target_cluster_id, '?')}? Its stream and the consumer "
            f"that feeds it on {mirror.source_stream} are deleted; the source stream "
            "is not touched.",
            "Yes, remove it",
            _remove,
            args=(mirror, names),
        )


def _pause_or_resume(action: str, mirror: Mirror, names: dict[str, str]) -> None:
    def act() -> str:
        api = session.client()
        changed = api.pause_mirror(mirror.id) if action == "pause" else api.resume_mirror(mirror.id)
        where = f"{mirror.target_stream} on {names.get(mirror.target_cluster_id, '?')}"
        if action == "pause":
            return (
                f"Replication into {where} is paused ({changed.state}); it keeps what it has "
                "and catches up when resumed."
            )
        return f"Replication into {where} resumed ({changed.state}); it is catching up."

    session.in_callback(AREA, act)


def _remove(mirror: Mirror, names: dict[str, str]) -> None:
    def act() -> str:
        sent = session.client().delete_mirror(mirror.id)
        if sent is not None:
            return submitted_sentence(sent)
        return (
            f"The mirror {mirror.target_stream} on "
            f"{names.get(mirror.target_cluster_id, '?')} was removed."
        )

    session.in_callback(AREA, act)
