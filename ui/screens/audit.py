"""Audit log: who did what, when, from where, and how it ended, newest first; filtered by action,
resource type and outcome, paged. Admins only: anyone else reads the API's refusal."""

from __future__ import annotations

import streamlit as st

from ui import fmt, session, widgets
from ui.client import AuditEvent

STATUSES = ("", "success", "failure", "denied")
PAGE_SIZES = (50, 100, 200)
OFFSET = "audit_offset"


def main() -> None:
    api = session.client()
    st.title("Audit log")
    cols = st.columns([3, 3, 2, 1], vertical_alignment="bottom")
    cols[0].text_input(
        "Action", key="audit_action", placeholder="e.g. stream.create", on_change=_reset_offset
    )
    cols[1].text_input(
        "Resource type",
        key="audit_resource_type",
        placeholder="e.g. stream, consumer, operation",
        on_change=_reset_offset,
    )
    cols[2].selectbox(
        "Outcome",
        STATUSES,
        key="audit_status",
        on_change=_reset_offset,
        format_func=lambda s: "Any outcome" if not s else fmt.status(s),
    )
    cols[3].selectbox("Per page", PAGE_SIZES, key="audit_limit", on_change=_reset_offset)
    state = st.session_state
    limit = int(state.get("audit_limit") or PAGE_SIZES[0])
    offset = int(state.get(OFFSET, 0))
    page = session.call(
        lambda: api.audit_logs(
            action=(state.get("audit_action") or "").strip() or None,
            resource_type=(state.get("audit_resource_type") or "").strip() or None,
            status=state.get("audit_status") or None,
            limit=limit + 1,
            offset=offset,
        )
    )
    if page is None:
        return
    events, has_more = page.items[:limit], len(page.items) > limit
    if not events:
        st.info("No event matches." if offset == 0 else "No older event.")
    else:
        st.dataframe([_row(e) for e in events], hide_index=True)
    widgets.offset_pager(OFFSET, limit, len(events), has_more, noun="events")
    if events:
        show_event(events)


def _reset_offset() -> None:
    st.session_state[OFFSET] = 0


def _row(e: AuditEvent) -> dict[str, object]:
    return {
        "Time": fmt.when(e.timestamp),
        "User": e.user_email or "—",
        "Action": e.action,
        "Resource type": e.resource_type,
        "Resource": e.resource_name,
        "Outcome": fmt.status(e.status),
        "IP address": e.ip_address or "",
        "Error": e.error_message or "",
    }


def show_event(events: list[AuditEvent]) -> None:
    by_id = {e.id: e for e in events}
    if st.session_state.get("audit_selected") not in by_id:
        st.session_state["audit_selected"] = events[0].id
    chosen = st.selectbox(
        "Details of",
        list(by_id),
        key="audit_selected",
        format_func=lambda i: (
            f"{fmt.when(by_id[i].timestamp)} · {by_id[i].action} · {by_id[i].resource_name}"
        ),
    )
    event = by_id[chosen]
    with st.container(border=True):
        st.markdown(
            f"**{event.action}** of {event.resource_type} **{event.resource_name}** by "
            f"{event.user_email or 'the system'} · {fmt.status(event.status)} · "
            f"{fmt.when(event.timestamp)}"
            + (f" · from {event.ip_address}" if event.ip_address else "")
        )
        if event.error_message:
            st.error(event.error_message)
        if event.changes:
            st.json(event.changes, expanded=2)
        else:
            st.caption("No change recorded with this event.")


session.run_page(main)
