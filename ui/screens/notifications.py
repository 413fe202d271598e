"""Notifications: what happened to the requests you made or have to decide (a request waiting for
you, approved, rejected, changes requested, escalated, executed, failed), newest first, the
unread ones marked; "Mark all read"; a link to the approvals."""

from __future__ import annotations

import streamlit as st

from ui import approval_text as text
from ui import fmt, session
from ui.approval_widgets import run_action
from ui.client import Notification

AREA = "notifications"
LIMIT = 100
EVENTS = {
    "created": "New request",
    "approved": "Approved",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
    "changes_requested": "Changes requested",
    "escalated": "Escalated",
    "executed": "Executed",
    "failed": "Failed",
}


def main() -> None:
    api = session.client()
    st.title("Notifications")
    session.show_flash(AREA)
    only_unread = st.toggle("Unread only", key="notif_unread_only")
    found = session.call(lambda: api.notifications(limit=LIMIT, unread_only=only_unread))
    if found is None:
        return
    head, mark = st.columns([4, 1], vertical_alignment="center")
    head.markdown(f"**{found.unread} unread**" if found.unread else "Everything is read.")
    mark.button(
        "Mark all read",
        key="notif_mark_read",
        disabled=not found.unread,
        on_click=_mark_read,
        width="stretch",
    )
    if not found.items:
        st.info("No unread notification." if only_unread else "No notification yet.")
        return
    st.dataframe([row(n) for n in found.items], hide_index=True, key="notif_table")
    st.page_link("screens/approvals.py", label="Open the approvals", icon=":material/approval:")


def row(n: Notification) -> dict[str, str]:
    what = EVENTS.get(n.event, n.event.replace("_", " ").capitalize() or n.type)
    if n.event == "escalated" and n.target:
        what += f" → {n.target}"
    return {
        "": "" if n.read else "●",
        "When": fmt.when(n.created_at),
        "Event": what,
        "Request": n.title,
        "By": n.actor_email or "—",
        "Comment": text.value_text(n.comment) if n.comment else "",
    }


def _mark_read() -> None:
    def act() -> str:
        session.client().mark_notifications_read()
        return "Every notification is marked read."

    run_action(act, AREA)


session.run_page(main)
