"""The read part of the Backups page: "Scheduled Backups" (each schedule's cadences in words,
where they go and how long they are kept) and "Latest Backups" (Type, Time, Size, Streams,
Status, Duration), with one backup's details under the table: its streams, chain and
verification, and "Verify again", "Restore this backup" and "Delete" for those allowed."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from ui import backup_text as text
from ui import fmt, session, widgets
from ui.backup_panels import AREA, RESTORE, open_panel
from ui.client import Backup, BackupSchedule, Me

DETAIL_KEY = "bk_detail"
DELETE_KEY = "bk_delete_ask"
LATEST_COLUMNS = (
    "Type",
    "Time",
    "Size",
    "Streams",
    "Status",
    "Duration",
    "Cluster",
    "Kept in",
    "Why",
    "ID",
)


def show_schedules(schedules: list[BackupSchedule] | None, names: Mapping[str, str]) -> None:
    st.subheader("Scheduled Backups")
    if schedules is None:
        return
    if not schedules:
        st.caption(
            'No schedule yet: backups are taken only by hand. "Configure Schedule" adds one.'
        )
        return
    for schedule in schedules:
        st.markdown(f"**{text.schedule_title(schedule, names)}**")
        lines = text.schedule_lines(schedule, names)
        if schedule.next_runs and schedule.enabled:
            lines.append(f"Next run: {fmt.when(schedule.next_runs[0])}")
        st.markdown("\n".join(f"- {line}" for line in lines))


def show_latest(backups: list[Backup] | None, names: Mapping[str, str], person: Me | None) -> None:
    st.subheader("Latest Backups")
    if backups is None:
        return
    if not backups:
        st.caption("No backup yet.")
        return
    st.dataframe(
        [text.backup_row(b, names) for b in backups],
        hide_index=True,
        column_order=LATEST_COLUMNS,
        key="bk_latest",
    )
    by_id = {b.id: b for b in backups}
    if st.session_state.get(DETAIL_KEY) not in by_id:
        st.session_state[DETAIL_KEY] = backups[0].id
    chosen = st.selectbox(
        "Details of",
        list(by_id),
        key=DETAIL_KEY,
        format_func=lambda i: text.backup_label(by_id[i], names),
    )
    show_backup(by_id[chosen], names, person)


def show_backup(backup: Backup, names: Mapping[str, str], person: Me | None) -> None:
    if backup.error:
        st.error(f"The backup failed: {backup.error}")
    st.markdown(text.verification_text(backup))
    if backup.streams:
        st.dataframe(
            [
                {
                    "Stream": item.stream,
                    "Kind": text.KIND_NAMES.get(item.kind, item.kind),
                    "Sequences": f"{fmt.count(item.first_seq)}–{fmt.count(item.last_seq)}",
                    "Messages": fmt.count(item.messages),
                    "Source size": fmt.size(item.source_bytes),
                    "Stored": fmt.size(item.stored_bytes),
                    "Consumers": ", ".join(item.consumers),
                    "Based on": (item.base_backup_id or "")[:8],
                }
                for item in backup.streams
            ],
            hide_index=True,
            key="bk_items",
        )
    if len(backup.chain) > 1:
        st.caption("Chain (oldest first): " + " → ".join(b[:8] for b in backup.chain))

    def can(p):
        return bool(person and person.can(p))

    cols = st.columns([1, 1.3, 1, 2])
    if can("backups:create") and backup.status == "completed":
        cols[0].button(
            "Verify again",
            key="bk_verify",
            icon=":material/verified:",
            on_click=_verify,
            args=(backup.id,),
        )
    if can("backups:restore") and backup.restorable:
        cols[1].button(
            "Restore this backup",
            key="bk_restore_this",
            icon=":material/settings_backup_restore:",
            on_click=open_panel,
            args=(RESTORE,),
            kwargs={"rs_backup": backup.id},
        )
    if can("backups:delete") and backup.status != "running":
        cols[2].button(
            "Delete",
            key="bk_delete",
            icon=":material/delete:",
            on_click=widgets.ask,
            args=(DELETE_KEY, backup.id),
        )
        widgets.confirm(
            DELETE_KEY,
            backup.id,
            f"Delete the backup {backup.id[:8]} and its data? Backups that build on "
            "it are refused unless deleted with it.",
            "Yes, delete it",
            _delete,
            args=(backup.id,),
        )


def _verify(backup_id: str) -> None:
    def act() -> str:
        started = session.client().verify_backup(backup_id)
        return (
            f"Verification of backup {backup_id[:8]} started (operation "
            f"{started.id[:8]}): its status changes here once it ends."
        )

    session.in_callback(AREA, act)


def _delete(backup_id: str) -> None:
    def act() -> str:
        session.client().delete_backup(backup_id)
        st.session_state.pop(DETAIL_KEY, None)
        return f"Backup {backup_id[:8]} deleted."

    session.in_callback(AREA, act)
