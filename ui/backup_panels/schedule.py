""" "Configure Schedule": a new schedule, or one to edit or delete. A schedule backs up a
cluster's streams (or all of them) fully on one cadence (a cron expression in UTC, or an interval)
and, optionally, incrementally on another, each with its retention in days; expired backups are
removed by the schedule, never its newest full one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from ui import backup_text as text
from ui import forms, session, widgets
from ui.backup_panels import AREA
from ui.backup_panels.create import pick_streams, pick_target, target_values
from ui.client import BackupSchedule, Cadence, Cluster, ScheduleSpec

PREFIX = "sc"
NEW = "new"
PICK_KEY = "sc_pick"
DELETE_KEY = "sc_delete_ask"
MODE_LABELS = {"cron": "Cron (UTC)", "every": "Every"}
DEFAULTS: dict[str, Any] = {
    "sc_name": "",
    "sc_all": True,
    "sc_streams": [],
    "sc_target": "default",
    "sc_target_cluster": None,
    "sc_bucket": "",
    "sc_directory": "",
    "sc_full_mode": "cron",
    "sc_full_value": "0 2 * * *",
    "sc_full_days": 30.0,
    "sc_inc": False,
    "sc_inc_mode": "every",
    "sc_inc_value": "1h",
    "sc_inc_days": 7.0,
    "sc_enabled": True,
}


def show_schedule(
    clusters: list[Cluster], schedules: list[BackupSchedule] | None, names: Mapping[str, str]
) -> None:
    state = st.session_state
    st.markdown("**Configure a backup schedule**")
    if not clusters:
        widgets.no_cluster_yet()
        return
    by_id = {s.id: s for s in schedules or ()}
    if state.get(PICK_KEY) not in (NEW, *by_id):
        state[PICK_KEY] = NEW
        _fill(None)
    st.selectbox(
        "Schedule",
        [NEW, *by_id],
        key=PICK_KEY,
        on_change=_picked,
        args=(by_id,),
        format_func=lambda i: "New schedule" if i == NEW else text.schedule_title(by_id[i], names),
    )
    editing = by_id.get(state[PICK_KEY])
    st.text_input("Name", key="sc_name", placeholder="nightly-orders")
    if editing is None:
        cluster = widgets.pick_cluster(clusters, key="sc_cluster", label="Cluster to back up")
    else:
        cluster = next((c for c in clusters if c.id == editing.cluster_id), None)
        st.markdown(f"**Cluster:** {names.get(editing.cluster_id, editing.cluster_id[:8])}")
        if cluster is None:
            st.warning("The schedule's cluster is no longer registered.")
            return
    pick_streams(cluster, PREFIX)
    pick_target(clusters, cluster, PREFIX)
    _cadence("Full backup", "sc_full")
    st.checkbox("Also take incremental backups", key="sc_inc")
    if state.get("sc_inc"):
        _cadence("Incremental backup", "sc_inc")
    st.checkbox("Enabled", key="sc_enabled")
    spec, problems = _spec(cluster.id)
    if spec is not None:
        preview = BackupSchedule.from_json({"id": "-", **spec})
        st.info("\n".join(f"- {line}" for line in text.schedule_lines(preview, names)))
    session.show_flash(PREFIX)
    cols = st.columns([1.2, 1, 3])
    cols[0].button(
        "Create schedule" if editing is None else "Save changes",
        key="sc_save",
        type="primary",
        on_click=_save,
        args=(cluster.id, editing),
    )
    if editing is not None:
        cols[1].button(
            "Delete",
            key="sc_delete",
            icon=":material/delete:",
            on_click=widgets.ask,
            args=(DELETE_KEY, editing.id),
        )
        widgets.confirm(
            DELETE_KEY,
            editing.id,
            f"Delete the schedule {editing.name}? Its backups stay; no new one is taken.",
            "Yes, delete it",
            _delete,
            args=(editing,),
        )


def _cadence(label: str, prefix: str) -> None:
    left, middle, right = st.columns([1, 1.5, 1])
    left.radio(
        f"{label} runs",
        tuple(MODE_LABELS),
        key=f"{prefix}_mode",
        format_func=MODE_LABELS.__getitem__,
        horizontal=True,
    )
    cron = st.session_state.get(f"{prefix}_mode") == "cron"
    middle.text_input(
        "Cron expression" if cron else "Interval",
        key=f"{prefix}_value",
        placeholder="0 2 * * *" if cron else "1h",
        help="minute hour day month weekday, in UTC" if cron else "a number and s, m, h or d",
    )
    right.number_input(
        "Kept (days)", min_value=0.0, max_value=3650.0, step=1.0, key=f"{prefix}_days"
    )


def _spec(cluster_id: str) -> tuple[ScheduleSpec | None, list[str]]:
    state = st.session_state
    return forms.check_schedule_form(
        name=state.get("sc_name") or "",
        cluster_id=cluster_id,
        all_streams=bool(state.get("sc_all", True)),
        streams=list(state.get("sc_streams") or ()),
        **target_values(PREFIX),
        full_mode=state.get("sc_full_mode") or "cron",
        full_value=state.get("sc_full_value") or "",
        full_retention_days=state.get("sc_full_days"),
        incremental=bool(state.get("sc_inc")),
        incremental_mode=state.get("sc_inc_mode") or "every",
        incremental_value=state.get("sc_inc_value") or "",
        incremental_retention_days=state.get("sc_inc_days"),
        enabled=bool(state.get("sc_enabled", True)),
    )


def _fill(schedule: BackupSchedule | None) -> None:
    """Put a schedule's values (or the defaults of a new one) into the form's widgets."""
    state = st.session_state
    for key, value in DEFAULTS.items():
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    if schedule is None:
        return
    state["sc_name"] = schedule.name
    state["sc_all"] = schedule.streams == "all"
    state["sc_streams"] = [] if schedule.streams == "all" else list(schedule.streams)
    target = schedule.target or {}
    if target.get("directory"):
        state["sc_target"], state["sc_directory"] = "directory", target["directory"]
    elif target.get("cluster_id"):
        state["sc_target"] = "object_store"
        state["sc_target_cluster"] = str(target["cluster_id"])
        state["sc_bucket"] = target.get("bucket") or ""
    for prefix, cadence in (("sc_full", schedule.full), ("sc_inc", schedule.incremental)):
        if cadence is not None:
            _fill_cadence(prefix, cadence)
    state["sc_inc"] = schedule.incremental is not None
    state["sc_enabled"] = schedule.enabled


def _fill_cadence(prefix: str, cadence: Cadence) -> None:
    state = st.session_state
    state[f"{prefix}_mode"] = "cron" if cadence.cron else "every"
    state[f"{prefix}_value"] = cadence.cron or cadence.every or ""
    state[f"{prefix}_days"] = float(cadence.retention_days)


def _picked(by_id: dict[str, BackupSchedule]) -> None:
    _fill(by_id.get(st.session_state.get(PICK_KEY)))


def _save(cluster_id: str, editing: BackupSchedule | None) -> None:
    spec, problems = _spec(cluster_id)
    if spec is None:
        session.flash_many(PREFIX, "error", problems)
        return

    def act() -> str:
        api = session.client()
        if editing is None:
            made = api.create_backup_schedule(spec)
            st.session_state[PICK_KEY] = made.id
            return f"Schedule {made.name} created."
        changes = forms.schedule_changes(editing, spec)
        if not changes:
            return f"Nothing changed in {editing.name}."
        saved = api.update_backup_schedule(editing.id, changes)
        return f"Schedule {saved.name} saved."

    session.in_callback(PREFIX, act, success_area=AREA)


def _delete(schedule: BackupSchedule) -> None:
    def act() -> str:
        session.client().delete_backup_schedule(schedule.id)
        st.session_state[PICK_KEY] = NEW
        _fill(None)
        return f"Schedule {schedule.name} deleted; its backups stay."

    session.in_callback(PREFIX, act, success_area=AREA)
