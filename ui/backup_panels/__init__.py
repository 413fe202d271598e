"""Parts of the Backups page (``ui/screens/backups.py``), the source design's "Backup &
Snapshots" panel: ``latest.py`` (the scheduled backups in words, the Latest Backups table and one
backup's details), and the panels the page's three buttons open: ``create.py`` ("Create Manual
Backup"), ``restore.py`` ("Restore from Backup") and ``schedule.py`` ("Configure Schedule":
create, edit, delete). An operation started here is followed where it was started
(``ui.replication_tabs.live``), or its approval request is shown with the way to it.

The page's state keys live here so that the parts can open one another (a backup's "Restore"
opens the restore panel on it)."""

from __future__ import annotations

import streamlit as st

AREA = "backups"  # where the page shows what an action did
PANEL_KEY = "bk_panel"
CREATE, RESTORE, SCHEDULE = "create", "restore", "schedule"
PANELS = {  # panel: (button label, permission, icon)
    CREATE: ("Create Manual Backup", "backups:create", ":material/backup:"),
    RESTORE: ("Restore from Backup", "backups:restore", ":material/settings_backup_restore:"),
    SCHEDULE: ("Configure Schedule", "backups:manage", ":material/schedule:"),
}


def open_panel(panel: str | None, **state: object) -> None:
    """Button callback: show ``panel`` under the buttons (None closes it), with these values."""
    st.session_state.update(state)
    st.session_state[PANEL_KEY] = panel


def opened() -> str | None:
    return st.session_state.get(PANEL_KEY)
