""" "Create Manual Backup": the cluster, its streams (or all of them), full or incremental, and
where the backup is kept (the default: an object store on another cluster, the dr one first; an
object store of a chosen cluster; or a directory under the console's backup root). The backup is
an operation, verified as its last step; it is followed here once started."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from ui import forms, session, widgets
from ui.backup_panels import outcome
from ui.client import BackupSpec, Cluster
from ui.forms.backup import DEFAULT_BUCKET

PREFIX = "bk"
KIND_LABELS = {
    "full": "Full (the server's snapshot: configuration, consumers, messages)",
    "incremental": "Incremental (the messages since the last backup)",
}
TARGET_LABELS = {
    "default": "Default (another cluster's object store, dr first)",
    "object_store": "Object store of a cluster",
    "directory": "Directory",
}


def show_create(clusters: list[Cluster], names: Mapping[str, str]) -> None:
    if outcome.has_outcome(PREFIX):
        outcome.show_outcome(PREFIX, names, "Create another backup")
        return
    st.markdown("**Create a manual backup**")
    if not clusters:
        widgets.no_cluster_yet()
        return
    cluster = widgets.pick_cluster(clusters, key="bk_cluster", label="Cluster to back up")
    pick_streams(cluster, "bk")
    st.radio(
        "Kind",
        tuple(KIND_LABELS),
        key="bk_kind",
        format_func=KIND_LABELS.__getitem__,
        horizontal=True,
    )
    pick_target(clusters, cluster, "bk")
    session.show_flash(PREFIX)
    st.button(
        "Start backup", key="bk_create", type="primary", icon=":material/backup:", on_click=_create
    )


def pick_streams(cluster: Cluster, prefix: str) -> None:
    """ "All streams" or a choice of the cluster's streams (keys ``<prefix>_all``,
    ``<prefix>_streams``)."""
    st.session_state.setdefault(f"{prefix}_all", True)
    st.checkbox("All streams of the cluster", key=f"{prefix}_all")
    if st.session_state.get(f"{prefix}_all"):
        return
    streams = session.call(session.client().list_streams, cluster.id)
    names = sorted(s.name for s in streams or ())
    kept = [s for s in st.session_state.get(f"{prefix}_streams") or () if s in names]
    st.session_state[f"{prefix}_streams"] = kept
    st.multiselect(
        "Streams", names, key=f"{prefix}_streams", placeholder="Choose the streams to back up"
    )


def pick_target(clusters: list[Cluster], source: Cluster, prefix: str) -> None:
    """Where backups are kept (keys ``<prefix>_target``, ``_target_cluster``, ``_bucket``,
    ``_directory``)."""
    state = st.session_state
    st.radio(
        "Kept in",
        tuple(TARGET_LABELS),
        key=f"{prefix}_target",
        format_func=TARGET_LABELS.__getitem__,
        horizontal=True,
    )
    kind = state.get(f"{prefix}_target")
    if kind == "object_store":
        by_id = {c.id: c for c in clusters}
        if state.get(f"{prefix}_target_cluster") not in by_id:
            others = [c for c in clusters if c.id != source.id]
            preferred = [c for c in others if c.name.lower() == "dr"] or others or clusters
            state[f"{prefix}_target_cluster"] = preferred[0].id
        left, right = st.columns(2)
        left.selectbox(
            "Target cluster",
            list(by_id),
            key=f"{prefix}_target_cluster",
            format_func=lambda i: f"{by_id[i].name} ({by_id[i].environment})",
        )
        if not state.get(f"{prefix}_bucket"):
            state[f"{prefix}_bucket"] = DEFAULT_BUCKET
        right.text_input("Bucket", key=f"{prefix}_bucket")
        if state.get(f"{prefix}_target_cluster") == source.id:
            st.caption(
                "The backup would live on the cluster it protects: another cluster "
                "survives its loss."
            )
    elif kind == "directory":
        st.text_input(
            "Directory (under the console's backup root)",
            key=f"{prefix}_directory",
            placeholder="nightly/orders",
        )


def target_values(prefix: str) -> dict[str, str]:
    state = st.session_state
    return {
        "target_type": state.get(f"{prefix}_target") or "default",
        "target_cluster_id": state.get(f"{prefix}_target_cluster") or "",
        "bucket": state.get(f"{prefix}_bucket") or "",
        "directory": state.get(f"{prefix}_directory") or "",
    }


def _spec() -> tuple[BackupSpec | None, list[str]]:
    state = st.session_state
    return forms.check_backup_form(
        cluster_id=state.get("bk_cluster") or "",
        all_streams=bool(state.get("bk_all", True)),
        streams=list(state.get("bk_streams") or ()),
        kind=state.get("bk_kind") or "full",
        **target_values("bk"),
    )


def _create() -> None:
    spec, problems = _spec()
    if spec is None:
        session.flash_many(PREFIX, "error", problems)
        return
    key = outcome.idempotency_key(PREFIX, spec)

    def act() -> str:
        started = session.client().start_backup(spec, idempotency_key=key)
        told = outcome.remember(PREFIX, started)
        backup = getattr(started, "backup_id", None)
        return (f"Backup {backup[:8]} started. " if backup else "Backup started. ") + told

    session.in_callback(PREFIX, act)
