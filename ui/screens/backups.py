"""Backups (the source design's section 11, "Backup & Snapshots"): the scheduled backups in words
("Full backup: Daily at 02:00 UTC → dr / jsc-backups (retained 30 days)"), the latest backups
(Type, Time, Size, Streams, Status: ✅ Verified, ❌ Verification failed, ⏳ Pending, Duration) with
one backup's details, and the buttons "Create Manual Backup", "Restore from Backup" and
"Configure Schedule", each opening its panel under them.

Buttons are drawn only for what the person's role allows (the API decides anyway): an operator
backs up, an editor also restores, an admin also configures schedules; a viewer reads."""

from __future__ import annotations

import streamlit as st

from ui import session
from ui.backup_panels import AREA, CREATE, PANELS, RESTORE, SCHEDULE, open_panel, opened
from ui.backup_panels.create import show_create
from ui.backup_panels.latest import show_latest, show_schedules
from ui.backup_panels.restore import show_restore
from ui.backup_panels.schedule import show_schedule
from ui.client import ApiError
from ui.replication_tabs import live

LATEST = 20  # backups in the table


def main() -> None:
    live.switch_if_asked()
    api = session.client()
    person = session.me()
    st.title("Backups")
    session.show_flash(AREA)
    found = session.fetch_all(
        lambda fn: fn(),
        [api.list_clusters, api.list_backup_schedules, lambda: api.list_backups(limit=LATEST)],
    )
    for result in found:
        if isinstance(result, ApiError):
            session.show_error(result)
    clusters, schedules, backups = (None if isinstance(r, ApiError) else r for r in found)
    names = {c.id: c.name for c in clusters or ()}
    show_schedules(schedules, names)
    show_latest(backups, names, person)

    allowed = [p for p, (_, needed, _) in PANELS.items() if person and person.can(needed)]
    if not allowed:
        st.caption(
            f"Your role ({person.role if person else '?'}) reads backups; backing up, "
            "restoring and scheduling are for other roles."
        )
        return
    panel = opened() if opened() in allowed else None
    cols = st.columns(len(PANELS) + 1)
    for col, name in zip(cols, allowed, strict=False):
        label, _, icon = PANELS[name]
        col.button(
            label,
            key=f"bk_open_{name}",
            icon=icon,
            width="stretch",
            type="primary" if panel == name else "secondary",
            on_click=open_panel,
            args=(None if panel == name else name,),
        )
    if panel is None or clusters is None:
        return
    with st.container(border=True):
        if panel == CREATE:
            show_create(clusters, names)
        elif panel == RESTORE:
            show_restore(clusters, backups, names)
        elif panel == SCHEDULE:
            show_schedule(clusters, schedules, names)
        st.button("Close", key="bk_close", on_click=open_panel, args=(None,))


session.run_page(main)
