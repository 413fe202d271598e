"""One stream: Overview (state and configuration summary; a purge, its dry run first), Messages
(a paged browser with a live tail, the details of a message, publish, export), Consumers (with
their health; create, change, pause and resume, delete), Metrics (throughput and each consumer's
lag over a range) and Configuration (the stream's JSON config, editable: only what changed is
sent).

Opened from the Streams page ("Open"), or directly, choosing the cluster and stream at the top.
"Ask about this" (here, and by each consumer) opens the Assistant on the stream (or consumer).
Only the open tab fetches anything.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.approval_widgets import submitted_sentence
from ui.assistant_panels import context as assistant
from ui.client import Cluster, RequestSubmitted, StreamInfo
from ui.stream_tabs.consumers import show_consumers
from ui.stream_tabs.messages import show_messages
from ui.stream_tabs.metrics import show_metrics
from ui.stream_tabs.purge import show_purge

TAB_KEY = "sd_tab"
TABS = ("Overview", "Messages", "Consumers", "Metrics", "Configuration")


def main() -> None:
    api = session.client()
    clusters = session.call(api.list_clusters)
    if clusters is None:
        return
    st.page_link("screens/streams.py", label="Streams", icon=":material/arrow_back:")
    if not clusters:
        st.title("Stream")
        widgets.no_cluster_yet()
        return
    pick, choose, replay, ask = st.columns([3, 3, 1, 1], vertical_alignment="bottom")
    with pick:
        cluster = widgets.pick_cluster(clusters, key="sd_cluster")
    streams = session.call(api.list_streams, cluster.id)
    if streams is None:
        return
    names = sorted(s.name for s in streams)
    if not names:
        st.title("Stream")
        st.info(f"The cluster {cluster.name} has no stream yet.")
        return
    wanted = session.chosen_stream()
    if st.session_state.get("sd_stream") not in names:
        st.session_state["sd_stream"] = wanted if wanted in names else names[0]
    name = choose.selectbox("Stream", names, key="sd_stream")
    session.choose_stream(name)
    replay.button(
        "Replay…",
        key="sd_replay",
        width="stretch",
        on_click=_to_replay,
        args=(cluster.id, name),
        help="Replay messages of this stream",
    )
    assistant.ask_button(cluster.id, name, key="sd_ask", column=ask)
    if st.session_state.get("sd_go_replay"):
        st.session_state.pop("sd_go_replay")
        st.switch_page("screens/operations.py")
    assistant.follow()

    st.title(f"Stream {name}")
    session.show_flash("stream")
    info = session.call(api.stream_info, cluster.id, name)
    if info is None:
        return
    st.caption(
        f"On {cluster.name} ({cluster.environment}) · created {fmt.when(info.created)}"
        + (f" · {info.config['description']}" if info.config.get("description") else "")
    )
    tabs = st.tabs(TABS, key=TAB_KEY, on_change="rerun")
    shows = (show_overview, show_messages, show_consumers, show_metrics, show_configuration)
    for tab, show in zip(tabs, shows, strict=False):
        if tab.open:
            with tab:
                show(cluster, info)


def _to_replay(cluster_id: str, stream: str) -> None:
    """Open the replay form of the Operations page with this stream as the source."""
    state = st.session_state
    state["replay_cluster"] = cluster_id
    state["replay_stream"] = stream
    state["ops_tab"] = "Replay messages"
    state["sd_go_replay"] = True


# --------------------------------------------------------------------------- overview


def show_overview(cluster: Cluster, info: StreamInfo) -> None:
    state, config = info.state, info.config
    cols = st.columns(4)
    cols[0].metric("Messages", f"{info.messages:,}", border=True)
    cols[1].metric("Stored", fmt.size(info.bytes), border=True)
    cols[2].metric("Consumers", info.consumer_count, border=True)
    cols[3].metric("Subjects in use", fmt.count(state.get("num_subjects")), border=True)
    left, right = st.columns(2)
    with left:
        st.subheader("State")
        widgets.facts(
            {
                "First message": (
                    f"#{state.get('first_seq', 0):,} · {fmt.when(state.get('first_ts'))}"
                ),
                "Last message": f"#{state.get('last_seq', 0):,} · {fmt.when(state.get('last_ts'))}",
                "Deleted inside the range": fmt.count(state.get("num_deleted") or 0),
                "Leader": (info.cluster.get("leader") or "—") if info.cluster else "not clustered",
            }
        )
    with right:
        st.subheader("Configuration")
        limits = [
            f"{label} {value}"
            for label, value in (
                ("max messages", fmt.limit(config.get("max_msgs"))),
                ("max size", fmt.size(config.get("max_bytes"))),
                ("per subject", fmt.limit(config.get("max_msgs_per_subject"))),
            )
            if value
        ]
        widgets.facts(
            {
                "Subjects": ", ".join(info.subjects) or "—",
                "Retention": (
                    f"{str(config.get('retention', '')).capitalize()} ({', '.join(limits)})"
                ),
                "Storage": str(config.get("storage", "")).capitalize(),
                "Replicas": str(config.get("num_replicas", 1)),
                "Discard": str(config.get("discard", "")).capitalize(),
                "Max age": fmt.duration_ns(config.get("max_age")),
                "Duplicate window": fmt.duration_ns(config.get("duplicate_window")),
            }
        )
    show_subject_tree(cluster, info)
    if info.mirror or info.sources:
        st.subheader("Copied from")
        rows = [
            {
                "Stream": s.get("name"),
                "Lag": s.get("lag"),
                "Last seen": fmt.seconds((s.get("active") or 0) / 1e9)
                if s.get("active", -1) >= 0
                else "never",
            }
            for s in ([info.mirror] if info.mirror else []) + info.sources
        ]
        st.dataframe(rows, hide_index=True)
    with st.expander("Purge messages"):
        show_purge(cluster.id, info)


def subject_tree(counts: dict[str, int]) -> list[dict[str, object]]:
    """Per-subject counts folded into a tree: one row per token prefix, with its total."""
    totals: dict[str, int] = {}
    for subject, count in counts.items():
        tokens = subject.split(".")
        for depth in range(1, len(tokens) + 1):
            prefix = ".".join(tokens[:depth])
            totals[prefix] = totals.get(prefix, 0) + count
    return [
        {
            "Subject": ("  " * prefix.count(".")) + prefix.split(".")[-1],
            "Path": prefix,
            "Messages": total,
        }
        for prefix, total in sorted(totals.items())
    ]


def show_subject_tree(cluster: Cluster, info: StreamInfo) -> None:
    with st.expander("Subjects, with their message counts"):
        pattern = st.text_input(
            "Subject filter",
            value=">",
            key="sd_subjects_filter",
            help="Wildcards allowed: orders.*.eu, orders.>",
        )
        counts = session.call(
            session.client().stream_subjects, cluster.id, info.name, pattern or ">"
        )
        if counts is None:
            return
        if not counts:
            st.caption("No message on a subject matching this filter.")
            return
        rows = subject_tree(counts)
        st.dataframe(
            widgets.page_of(rows, key="sd_subjects_page", size=100, noun="subjects"),
            hide_index=True,
            column_config={"Messages": st.column_config.NumberColumn(format="localized")},
        )


# --------------------------------------------------------------------------- configuration


def show_configuration(cluster: Cluster, info: StreamInfo) -> None:
    state = st.session_state
    current = json.dumps(info.config, indent=2, sort_keys=True)
    base = state.get("sd_config_base")
    identity = [cluster.id, info.name]
    if state.get("sd_config_for") != identity or "sd_config_text" not in state:
        state["sd_config_for"], state["sd_config_base"], state["sd_config_text"] = (
            identity,
            current,
            current,
        )
    elif base != current:
        if state.get("sd_config_text") == base:  # not edited: follow the server
            state["sd_config_base"] = state["sd_config_text"] = current
        else:
            st.warning(
                "The configuration changed on the server since you began editing. "
                "Discard your edits to see it, or save them over it."
            )
    st.caption(
        'JetStream\'s own configuration (durations in nanoseconds; strings such as "72h" '
        "are accepted). Only the fields you change are sent; the server refuses a change "
        "it cannot make, such as the storage type."
    )
    with st.form("sd_config"):
        st.text_area("Configuration (JSON)", key="sd_config_text", height=420)
        save, discard, _ = st.columns([1, 1, 3])
        save.form_submit_button(
            "Save changes",
            key="sd_config_save",
            type="primary",
            on_click=_save_config,
            args=(cluster.id, info.name, info.config),
        )
        discard.form_submit_button(
            "Discard edits", key="sd_config_discard", on_click=_discard_config, args=(current,)
        )
    session.show_flash("config")
    st.download_button(
        "Download as JSON",
        data=current,
        file_name=f"{info.name}.json",
        mime="application/json",
        key="sd_config_download",
        on_click="ignore",
    )


def _discard_config(current: str) -> None:
    st.session_state["sd_config_base"] = st.session_state["sd_config_text"] = current


def _save_config(cluster_id: str, name: str, before: dict[str, Any]) -> None:
    state = st.session_state
    changes, problems = forms.config_changes(state.sd_config_text, before)
    if changes is None:
        session.flash_many("config", "error", problems)
        return
    if not changes:
        session.flash("config", "info", "Nothing changed: there is nothing to save.")
        return

    def act() -> str:
        after = session.client().update_stream(cluster_id, name, changes)
        if isinstance(after, RequestSubmitted):
            return submitted_sentence(after)
        state["sd_config_base"] = state["sd_config_text"] = json.dumps(
            after.config, indent=2, sort_keys=True
        )
        return f"Stream {name} updated: {', '.join(sorted(changes))}."

    session.in_callback("config", act)


session.run_page(main)
