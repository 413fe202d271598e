""" "Restore from Backup": which backup (completed, not refused by its verification) and which of
its streams, the destination cluster and the new stream's name (its subjects, when the original
ones are taken there), the point (this backup, the latest of its chain, or a time), and whether
to restore over an existing stream: then its data is backed up first, and on a production
cluster the restore waits for approval."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from ui import backup_text as text
from ui import forms, session
from ui.backup_panels import outcome
from ui.client import Backup, Cluster, RestoreSpec

PREFIX = "rs"
POINT_LABELS = {
    "backup": "This backup",
    "latest": "The latest backup of its chain",
    "time": "A point in time",
}
REPLACE_WARNING = (
    "Restoring over an existing stream replaces its data: the stream's current data is backed up "
    "first (named in the result), then the stream is deleted and restored from the backup. On a "
    "production cluster the restore waits for approval: nothing changes until the request is "
    "approved."
)


def show_restore(
    clusters: list[Cluster], backups: list[Backup] | None, names: Mapping[str, str]
) -> None:
    if outcome.has_outcome(PREFIX):
        outcome.show_outcome(PREFIX, names, "Restore another backup")
        return
    st.markdown("**Restore from a backup**")
    usable = [b for b in backups or () if b.restorable]
    if not usable:
        st.info(
            "No backup can be restored yet: a backup must be completed and not have "
            "failed its verification."
        )
        return
    state = st.session_state
    by_id = {b.id: b for b in usable}
    if state.get("rs_backup") not in by_id:
        state["rs_backup"] = usable[0].id
    backup = by_id[
        st.selectbox(
            "Backup",
            list(by_id),
            key="rs_backup",
            format_func=lambda i: text.backup_label(by_id[i], names),
        )
    ]
    streams = list(backup.stream_names)
    if len(streams) > 1:
        if state.get("rs_stream") not in streams:
            state["rs_stream"] = streams[0]
        st.selectbox("Stream of the backup", streams, key="rs_stream")
    else:
        state["rs_stream"] = streams[0] if streams else ""
    stream = state.get("rs_stream") or ""
    cluster_ids = [c.id for c in clusters]
    if state.get("rs_cluster") not in cluster_ids:
        state["rs_cluster"] = (
            backup.cluster_id
            if backup.cluster_id in cluster_ids
            else (cluster_ids[0] if cluster_ids else None)
        )
    if state.get("rs_for") != (backup.id, stream):  # a new choice suggests a new name
        state["rs_for"] = (backup.id, stream)
        state["rs_name"] = f"{stream}_RESTORED" if stream else ""
    left, right = st.columns(2)
    left.selectbox(
        "Restore into cluster",
        cluster_ids,
        key="rs_cluster",
        format_func=lambda i: f"{names.get(i, i[:8])}",
    )
    right.text_input("New stream name", key="rs_name")
    st.text_area(
        "Subjects, one per line (optional)",
        key="rs_subjects",
        help="Leave empty to keep the stream's own subjects; give others when another "
        "stream of that cluster captures them already.",
    )
    st.radio(
        "Point",
        tuple(POINT_LABELS),
        key="rs_point",
        format_func=POINT_LABELS.__getitem__,
        horizontal=True,
    )
    if state.get("rs_point") == "time":
        st.text_input(
            "Restore what was stored up to (ISO 8601, UTC unless an offset is given)",
            key="rs_time",
            placeholder="2024-01-15T10:30:00Z",
        )
    st.checkbox("Replace the existing stream of that name", key="rs_replace")
    if state.get("rs_replace"):
        st.warning(REPLACE_WARNING)
    session.show_flash(PREFIX)
    st.button(
        "Start restore",
        key="rs_start",
        type="primary",
        icon=":material/settings_backup_restore:",
        on_click=_start,
        args=(backup.stream_names,),
    )


def _spec(backup_streams: tuple[str, ...]) -> tuple[RestoreSpec | None, list[str]]:
    state = st.session_state
    return forms.check_restore_form(
        backup_id=state.get("rs_backup") or "",
        backup_streams=backup_streams,
        stream=state.get("rs_stream") or "",
        cluster_id=state.get("rs_cluster") or "",
        stream_name=state.get("rs_name") or "",
        subjects=state.get("rs_subjects") or "",
        replace=bool(state.get("rs_replace")),
        point=state.get("rs_point") or "backup",
        point_time=state.get("rs_time") or "",
    )


def _start(backup_streams: tuple[str, ...]) -> None:
    spec, problems = _spec(backup_streams)
    if spec is None:
        session.flash_many(PREFIX, "error", problems)
        return
    key = outcome.idempotency_key(PREFIX, spec)

    def act() -> str:
        started = session.client().start_restore(spec, idempotency_key=key)
        return (
            f"Restore of {spec.get('stream') or 'the backup'} into "
            f"{spec['to']['stream_name']}: " + outcome.remember(PREFIX, started)
        )

    session.in_callback(PREFIX, act)
