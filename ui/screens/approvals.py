"""Approvals: change requests that policy sent for approval. A request opened by a link
(``?request=ID``, as the assistant's proposal cards open it) is shown first, above the tabs.
**Queue**: the requests waiting for your decision, each with what changes (field by field), the
policy that matched and why, its risk notes (and, when a model is configured, the assistant's
written risk summary, with the model's name) and the votes so far; approve, reject (with a
reason) or request changes, with a comment.
**My requests**: the requests you made, with their status, and Withdraw while one still waits.
**All**: every request of the organization, filtered by status, team and cluster.

Nobody approves their own request, and a vote counts once: the API (the approval workflow)
enforces it, and its refusal is shown as it says it.
"""

from __future__ import annotations

import streamlit as st

from ui import approval_text as text
from ui import fmt, session
from ui.approval_widgets import PAGE_AREA, show_request
from ui.client import APPROVAL_STATUSES, ApiError, Approval

TAB_KEY = "apr_tab"
TABS = ("Queue", "My requests", "All")
SELECTED = "apr_selected"
OPENED = "apr_open"  # a request opened by a link (the assistant's proposal cards set it)
LIMIT = 50
ALL = ""


def main() -> None:
    api = session.client()
    st.title("Approvals")  # the sidebar links to notifications, with the number unread
    session.show_flash(PAGE_AREA)
    clusters, teams = session.fetch_all(lambda fn: fn(), [api.list_clusters, api.list_teams])
    cluster_names = {} if isinstance(clusters, ApiError) else {c.id: c.name for c in clusters}
    team_names = {} if isinstance(teams, ApiError) else {t.id: t.name for t in teams}
    show_opened(cluster_names, team_names)
    queue, mine, everything = st.tabs(TABS, key=TAB_KEY, on_change="rerun")
    if queue.open:
        with queue:
            show_queue(cluster_names, team_names)
    if mine.open:
        with mine:
            show_mine(cluster_names, team_names)
    if everything.open:
        with everything:
            show_all(cluster_names, team_names)


def show_opened(clusters: dict[str, str], teams: dict[str, str]) -> None:
    """The request a link opened (``?request=ID``, e.g. the assistant's proposal), above the
    tabs, until closed."""
    request_id = st.query_params.get("request") or st.session_state.get(OPENED)
    if not request_id:
        return
    st.session_state[OPENED] = request_id
    approval = session.call(lambda: session.client().approval(request_id))
    head, close = st.columns([5, 1], vertical_alignment="center")
    head.subheader("The request you opened")
    close.button("Close", key="apr_open_close", on_click=_close_opened, width="stretch")
    if approval is not None:
        show_request(approval, clusters, teams, vote=True, withdraw=True, key="apr_open")


def _close_opened() -> None:
    st.session_state.pop(OPENED, None)
    st.query_params.pop("request", None)


def show_queue(clusters: dict[str, str], teams: dict[str, str]) -> None:
    waiting = session.call(
        lambda: session.client().list_approvals(
            status="waiting_approval", waiting_for_me=True, limit=LIMIT
        )
    )
    if waiting is None:
        return
    if not waiting:
        st.info("Nothing waits for your decision.")
        return
    st.markdown(f"**Pending approvals ({len(waiting)})**")
    for approval in waiting:
        show_request(approval, clusters, teams, vote=True, key="apr_q")


def show_mine(clusters: dict[str, str], teams: dict[str, str]) -> None:
    mine = session.call(lambda: session.client().list_approvals(mine=True, limit=LIMIT))
    if mine is None:
        return
    if not mine:
        st.info("You have not made a request that needed approval.")
        return
    st.dataframe([row(a, clusters, teams) for a in mine], hide_index=True, key="apr_mine_table")
    waiting = [a for a in mine if a.waiting]
    for approval in waiting:
        show_request(approval, clusters, teams, withdraw=True, key="apr_m")
    closed = [a for a in mine if not a.waiting]
    if closed:
        show_details(
            closed, clusters, teams, key="apr_m_selected", label="Details of a past request"
        )


def show_all(clusters: dict[str, str], teams: dict[str, str]) -> None:
    cols = st.columns(3)
    status = cols[0].selectbox(
        "Status",
        (ALL, *APPROVAL_STATUSES),
        key="apr_f_status",
        format_func=lambda s: "All statuses" if s == ALL else text.status_badge(s),
    )
    team = cols[1].selectbox(
        "Team",
        (ALL, *teams),
        key="apr_f_team",
        format_func=lambda t: "All teams" if t == ALL else teams[t],
    )
    cluster = cols[2].selectbox(
        "Cluster",
        (ALL, *clusters),
        key="apr_f_cluster",
        format_func=lambda c: "All clusters" if c == ALL else clusters[c],
    )
    found = session.call(
        lambda: session.client().list_approvals(
            status=status or None, team_id=team or None, cluster_id=cluster or None, limit=LIMIT
        )
    )
    if found is None:
        return
    if not found:
        st.info("No request matches these filters.")
        return
    st.dataframe([row(a, clusters, teams) for a in found], hide_index=True, key="apr_all_table")
    show_details(found, clusters, teams, key=SELECTED, label="Details of")


def show_details(
    found: list[Approval], clusters: dict[str, str], teams: dict[str, str], *, key: str, label: str
) -> None:
    """A picker over ``found`` and the chosen request's card (with the buttons the caller may
    use on it)."""
    by_id = {a.id: a for a in found}
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = found[0].id
    chosen = st.selectbox(
        label,
        list(by_id),
        key=key,
        format_func=lambda i: (
            f"{by_id[i].title} · "
            f"{text.status_badge(by_id[i].status)} · "
            f"{fmt.when(by_id[i].created_at)}"
        ),
    )
    show_request(by_id[chosen], clusters, teams, vote=True, withdraw=True, key=key)


def row(a: Approval, clusters: dict[str, str], teams: dict[str, str]) -> dict[str, str]:
    return {
        "Request": a.title,
        "Status": text.status_badge(a.status),
        "Requester": a.requester_email,
        "Environment": a.environment or "—",
        "Cluster": clusters.get(a.cluster_id or "", (a.cluster_id or "—")[:8]),
        "Team": teams.get(a.team_id or "", (a.team_id or "—")[:8]),
        "Policy": a.decision.policy_name or "default",
        "Submitted": fmt.when(a.created_at),
        "Closed": fmt.when(a.closed_at) if a.closed_at else "",
    }


session.run_page(main)
