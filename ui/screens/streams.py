"""Streams of one cluster: the list with messages, size and consumers; open one (its detail page);
create; delete (confirmed)."""

from __future__ import annotations

import streamlit as st

from ui import fmt, forms, session, widgets
from ui.approval_widgets import submitted_sentence
from ui.client import Cluster, RequestSubmitted, StreamInfo

FORM_DEFAULTS: dict[str, object] = {
    "stream_name": "",
    "stream_subjects": "",
    "stream_storage": "file",
    "stream_retention": "limits",
    "stream_discard": "old",
    "stream_max_msgs": -1,
    "stream_max_bytes": "",
    "stream_max_age": "",
    "stream_replicas": 1,
}
PENDING_DELETE = "streams_pending_delete"


def main() -> None:
    api = session.client()
    st.title("Streams")
    clusters = session.call(api.list_clusters)
    if clusters is None:
        return
    if not clusters:
        st.info("No cluster is registered yet: add one first.")
        st.page_link("screens/clusters.py", label="Add a cluster", icon=":material/add:")
        return
    cluster = pick_cluster(clusters)
    session.show_flash("streams")
    streams = session.call(api.list_streams, cluster.id)
    if streams is None:
        return
    if streams:
        show_list(filtered(streams))
        show_delete(cluster, streams)
    else:
        st.info(f"The cluster {cluster.name} has no stream yet.")
    st.subheader("Create a stream")
    show_form(cluster)


def pick_cluster(clusters: list[Cluster]) -> Cluster:
    by_id = {c.id: c for c in clusters}
    ids = list(by_id)
    chosen = session.chosen_cluster()
    cluster_id = st.selectbox(
        "Cluster",
        ids,
        index=ids.index(chosen) if chosen in by_id else 0,
        key="streams_cluster",
        format_func=lambda i: f"{by_id[i].name} ({by_id[i].environment})",
    )
    session.choose_cluster(cluster_id)
    return by_id[cluster_id]


def filtered(streams: list[StreamInfo]) -> list[StreamInfo]:
    """The search box (part of a name or subject pattern, or a subject the stream stores) and the
    storage / retention filters above the list."""
    search, storage, retention = st.columns([3, 1, 1])
    text = search.text_input("Search", key="streams_search", placeholder="name or subject")
    storages = storage.multiselect("Storage", ["file", "memory"], key="streams_storage")
    retentions = retention.multiselect(
        "Retention", ["limits", "interest", "workqueue"], key="streams_retention"
    )
    needle = (text or "").strip().lower()
    return [
        s
        for s in streams
        if (
            not needle
            or needle in s.name.lower()
            or any(
                needle in subject.lower() or forms.subject_matches(needle, subject.lower())
                for subject in s.subjects
            )
        )
        and (not storages or s.config.get("storage") in storages)
        and (not retentions or s.config.get("retention") in retentions)
    ]


def show_list(streams: list[StreamInfo]) -> None:
    if not streams:
        st.info("No stream matches the search and filters.")
        return
    rows = [
        {
            "Name": s.name,
            "Subjects": ", ".join(s.subjects),
            "Messages": s.messages,
            "Size": fmt.size(s.bytes),
            "Consumers": s.consumer_count,
            "Storage": s.config.get("storage", ""),
            "Retention": s.config.get("retention", ""),
            "Replicas": s.config.get("num_replicas", 1),
            "Max messages": fmt.limit(s.config.get("max_msgs")),
            "Max size": fmt.size(s.config.get("max_bytes")),
            "Max age": fmt.duration_ns(s.config.get("max_age")),
        }
        for s in sorted(streams, key=lambda s: s.name)
    ]
    st.dataframe(
        widgets.page_of(rows, key="streams_page", size=50, noun="streams"),
        hide_index=True,
        column_config={"Messages": st.column_config.NumberColumn(format="localized")},
    )
    st.caption(
        f"{len(streams)} stream(s), {fmt.count(sum(s.messages for s in streams))} "
        f"messages, {fmt.size(sum(s.bytes for s in streams))} stored."
    )


def show_delete(cluster: Cluster, streams: list[StreamInfo]) -> None:
    by_name = {s.name: s for s in streams}
    pick, open_col, delete_col = st.columns([4, 1, 1], vertical_alignment="bottom")
    pick.selectbox("Stream", sorted(by_name), key="streams_delete_name")
    if open_col.button(
        "Open",
        key="streams_open",
        width="stretch",
        type="primary",
        help="Messages, consumers and configuration of this stream",
    ):
        session.choose_stream(st.session_state.streams_delete_name)
        for key in ("sd_cluster", "sd_stream"):  # the detail page starts on this one
            st.session_state.pop(key, None)
        st.switch_page("screens/stream.py")
    delete_col.button(
        "Delete…", key="streams_delete", width="stretch", on_click=_ask_deletion, args=(cluster.id,)
    )
    pending = st.session_state.get(PENDING_DELETE)
    if not pending or pending[0] != cluster.id or pending[1] not in by_name:
        return
    stream = by_name[pending[1]]
    st.warning(
        f"Delete the stream **{stream.name}** on {cluster.name}? Its "
        f"{stream.messages:,} message(s) and {stream.consumer_count} consumer(s) are "
        "lost for good."
    )
    yes, no, _ = st.columns([1, 1, 3])
    yes.button(
        "Yes, delete it",
        key="streams_confirm_delete",
        type="primary",
        on_click=_delete,
        args=(cluster, stream.name),
    )
    no.button(
        "Cancel",
        key="streams_cancel_delete",
        on_click=st.session_state.pop,
        args=(PENDING_DELETE, None),
    )


def _ask_deletion(cluster_id: str) -> None:
    # read the selection when clicked, not the one of the run that drew the button
    st.session_state[PENDING_DELETE] = (cluster_id, st.session_state.streams_delete_name)


def _delete(cluster: Cluster, name: str) -> None:
    st.session_state.pop(PENDING_DELETE, None)

    def act() -> str:
        sent = session.client().delete_stream(cluster.id, name)
        if sent is not None:
            return submitted_sentence(sent)
        return f"Stream {name} deleted from {cluster.name}."

    session.in_callback("streams", act)


def show_form(cluster: Cluster) -> None:
    for key, value in FORM_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.form("create_stream"):
        st.text_input(
            "Name", key="stream_name", placeholder="ORDERS", help="Letters, digits, - and _."
        )
        st.text_area(
            "Subjects, one per line", key="stream_subjects", placeholder="orders.>", height=80
        )
        cols = st.columns(3)
        cols[0].selectbox("Storage", forms.STORAGE_TYPES, key="stream_storage")
        cols[1].selectbox("Retention", forms.RETENTION_POLICIES, key="stream_retention")
        cols[2].selectbox("When full, discard", forms.DISCARD_POLICIES, key="stream_discard")
        cols = st.columns(4)
        cols[0].number_input(
            "Max messages (-1: no limit)", min_value=-1, step=1, key="stream_max_msgs"
        )
        cols[1].text_input("Max size", key="stream_max_bytes", placeholder="no limit, or 1GiB")
        cols[2].text_input("Max age", key="stream_max_age", placeholder="no limit, or 72h")
        cols[3].number_input("Replicas", min_value=1, max_value=5, step=1, key="stream_replicas")
        st.form_submit_button(
            "Create stream", key="stream_submit", type="primary", on_click=_create, args=(cluster,)
        )
    session.show_flash("stream_form")


def _create(cluster: Cluster) -> None:
    state = st.session_state
    config, problems = forms.check_stream_form(
        name=state.stream_name,
        subjects=state.stream_subjects,
        storage=state.stream_storage,
        retention=state.stream_retention,
        discard=state.stream_discard,
        max_msgs=state.stream_max_msgs,
        max_bytes=state.stream_max_bytes,
        max_age=state.stream_max_age,
        num_replicas=state.stream_replicas,
    )
    if config is None:
        session.flash_many("stream_form", "error", problems)
        return

    def act() -> str:
        info = session.client().create_stream(cluster.id, config)
        state.update(FORM_DEFAULTS)
        if isinstance(info, RequestSubmitted):
            return submitted_sentence(info)
        return f"Stream {info.name} created on {cluster.name}."

    session.in_callback("stream_form", act)


session.run_page(main)
