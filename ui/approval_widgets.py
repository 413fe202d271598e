"""What the approvals, team portal and notification screens draw: one approval request as a card
(what changes, field by field; the policy that decided and why; risk notes and the assistant's
risk summary; votes so far; the vote or withdraw buttons), a quota as a usage bar, the
notification bell. Actions run in button callbacks and leave a flash message for the page
(``session.flash``)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui import approval_text as text
from ui import fmt, session
from ui.client import (
    ApiError,
    Approval,
    AuthenticationRequired,
    QuotaItem,
    RequestSubmitted,
    RiskSummary,
)

PAGE_AREA = "approvals"  # where the approvals page shows what an action did
VOTES = {  # action: (button label, client method, success sentence)
    "approve": ("Approve", "approve", "You approved “{title}”."),
    "reject": ("Reject", "reject", "You rejected “{title}”."),
    "request_changes": (
        "Request changes",
        "request_changes",
        "You asked for changes to “{title}”.",
    ),
}
REASON_REQUIRED = "Give a reason to reject the request: the requester reads it."


def refusal_text(err: ApiError) -> str:
    """The API's refusal; a ``422`` lists each field it named on a line of its own (under its
    sentence, unless the sentence is only that list run together)."""
    if err.status != 422 or not err.field_errors:
        return session.error_text(err)
    lines = [
        f"- **{fe.field}**: {fe.message}" if fe.field else f"- {fe.message}"
        for fe in err.field_errors
    ]
    only_fields = all(f"{fe.field}: {fe.message}" in err.message for fe in err.field_errors)
    return ("The API refused it:" if only_fields else err.message) + "\n\n" + "\n".join(lines)


def md(value: str) -> str:
    """Plain text inside Markdown: a "$" is a dollar, not the start of a formula."""
    return value.replace("$", "\\$")


def submitted_sentence(sent: RequestSubmitted) -> str:
    """What a person reads after a change policy sent for approval (or approved by itself)."""
    if sent.waiting:
        sentence = f"Sent for approval: {sent.title}"
    elif sent.status == "auto_approved":
        sentence = f"Approved automatically: {sent.title}"
    else:
        sentence = f"{text.status_badge(sent.status)}: {sent.title}"
    if sent.reasons:
        sentence += "\n\n" + "\n".join(f"- {md(r)}" for r in sent.reasons)
    return sentence


# --------------------------------------------------------------------------- a request


def request_caption(a: Approval, clusters: dict[str, str], teams: dict[str, str]) -> str:
    parts = [
        f"Requester: {a.requester_email or (a.requester_id or '?')[:8]}",
        f"Type: {a.operation} {text.KIND_NAMES.get(a.kind, a.kind)}",
    ]
    if a.environment:
        parts.append(f"Environment: {a.environment}")
    if a.cluster_id:
        parts.append(f"Cluster: {clusters.get(a.cluster_id, a.cluster_id[:8])}")
    if a.team_id:
        parts.append(f"Team: {teams.get(a.team_id, a.team_id[:8])}")
    return " · ".join(parts)


def show_request(
    a: Approval,
    clusters: dict[str, str],
    teams: dict[str, str],
    *,
    vote: bool = False,
    withdraw: bool = False,
    key: str = "apr",
) -> None:
    """One request as a card; with ``vote`` the Approve / Reject / Request changes form (when the
    caller can vote), with ``withdraw`` the Withdraw button (when the caller can withdraw)."""
    with st.container(border=True, key=f"{key}_card_{a.id}"):
        st.markdown(
            f"**{a.title}** · {text.status_badge(a.status)} · submitted {fmt.when(a.created_at)}"
        )
        st.caption(request_caption(a, clusters, teams))
        changes, decision = st.columns([3, 2])
        with changes:
            if a.justification:
                st.markdown(f"**Justification:** {md(a.justification)}")
            rows = text.change_rows(a.diff, a.spec)
            if rows:
                st.markdown("**Changes** (before → after)")
                st.dataframe(rows, hide_index=True, key=f"{key}_diff_{a.id}")
            with st.expander("Full request"):
                st.json(a.spec, expanded=True)
        with decision:
            show_decision(a)
            if a.risk_notes:
                st.markdown("**Risk notes**\n" + "\n".join(f"- {md(n)}" for n in a.risk_notes))
            if a.risk_summary:
                show_risk_summary(a.risk_summary)
            votes = [
                md(text.vote_text(v.voter.email, v.voter.role, v.action, v.group, v.comment))
                + f" · {fmt.when(v.at)}"
                for v in a.votes
            ]
            st.markdown(
                "**Votes so far**\n"
                + ("\n".join(f"- {v}" for v in votes) if votes else "\nnone yet")
            )
        if a.error:
            st.error(f"It failed: {a.error}")
        elif a.result and a.status == "executed":
            st.caption("Applied.")
        if vote and a.can_vote and a.waiting:
            vote_form(a, key)
        if withdraw and a.can_withdraw and a.waiting:
            st.button(
                "Withdraw",
                key=f"{key}_withdraw_{a.id}",
                on_click=_withdraw,
                args=(a,),
                help="Take the request back: nothing is changed.",
            )


def show_risk_summary(summary: RiskSummary) -> None:
    """The assistant's summary, as plain text (a model's words are never Markdown to render),
    and who wrote it."""
    st.markdown("**Assistant's risk summary**\n\n" + text.plain(summary.text))
    st.caption(
        f"Written by {summary.model or 'the assistant'} · {fmt.when(summary.at)}: a "
        "model's reading of the request; the risk notes are the console's own."
    )


def show_decision(a: Approval) -> None:
    d = a.decision
    policy = (
        f"{d.policy_name} (version {d.policy_version})"
        if d.policy_name
        else "no policy matched (the default rule)"
    )
    lines = [f"**Policy:** {policy} · SLA {text.sla_text(d.sla_hours)}"]
    if a.current_group is not None and a.waiting:
        lines[0] += f" · waiting for **{a.current_group.name}**"
    if d.groups:
        needed = [
            text.group_text(
                {
                    "name": g.name,
                    "count": g.count,
                    "roles": g.roles,
                    "teams": g.teams,
                    "users": g.users,
                }
            )
            for g in d.groups
        ]
        lines.append("**Approvals needed**\n" + "\n".join(f"- {n}" for n in needed))
    escalation = [text.escalation_text(e) for e in d.escalation or () if isinstance(e, dict)]
    if escalation and a.waiting:
        lines.append("**Escalation:** " + "; ".join(escalation))
    if d.reasons:
        lines.append("**Why**\n" + "\n".join(f"- {r}" for r in d.reasons))
    st.markdown("\n\n".join(md(line) for line in lines))


def vote_form(a: Approval, key: str) -> None:
    with st.form(f"{key}_vote_{a.id}", border=False):
        st.text_area(
            "Comment",
            key=f"{key}_comment_{a.id}",
            height=68,
            placeholder="Optional for an approval; required to reject.",
        )
        cols = st.columns([1, 1, 1.4, 3])
        for col, action in zip(cols, VOTES, strict=False):
            label = VOTES[action][0]
            col.form_submit_button(
                label,
                key=f"{key}_{action}_{a.id}",
                type="primary" if action == "approve" else "secondary",
                on_click=_vote,
                args=(a, action, key),
                width="stretch",
            )


def _vote(a: Approval, action: str, key: str) -> None:
    comment = (st.session_state.get(f"{key}_comment_{a.id}") or "").strip()
    if action == "reject" and not comment:
        session.flash(PAGE_AREA, "error", REASON_REQUIRED)
        return
    _, method, sentence = VOTES[action]

    def act() -> str:
        after = getattr(session.client(), method)(a.id, comment)
        st.session_state.pop(f"{key}_comment_{a.id}", None)
        told = sentence.format(title=a.title)
        if after.status != a.status:
            told += f" It is now: {text.status_badge(after.status)}."
        return told

    run_action(act)


def _withdraw(a: Approval) -> None:
    def act() -> str:
        session.client().withdraw(a.id, "")
        return f"You withdrew “{a.title}”."

    run_action(act)


def run_action(fn: Callable[[], str], area: str = PAGE_AREA) -> None:
    """Run an action from a callback: its sentence, or the API's refusal (its ``detail``), as a
    flash message."""
    try:
        session.flash(area, "success", fn())
    except AuthenticationRequired:
        session.forget()
        session.flash("login", "warning", session.EXPIRED)
    except ApiError as err:
        session.flash(area, "error", refusal_text(err))


# --------------------------------------------------------------------------- quotas


def quota_bar(item: QuotaItem, column) -> None:
    """ "Streams" over a bar labelled "8 / 15 (53%)"."""
    label = text.usage_label(item.resource, item.usage, item.limit, item.percent)
    with column:
        st.markdown(f"**{item.label}**")
        if item.limit is None or item.usage is None:
            st.progress(0.0, text=label)
        else:
            st.progress(text.usage_fraction(item.percent), text=label)


# --------------------------------------------------------------------------- notifications


def notification_bell() -> None:
    """A link to the notifications with the number unread (one small call), in the sidebar."""
    api = session.client()
    try:
        unread = api.notifications(limit=1, unread_only=True).unread
    except (AuthenticationRequired, ApiError):
        return  # a convenience: the page itself reports a failure or a dead session
    label = f"Notifications ({unread} unread)" if unread else "Notifications"
    st.page_link(
        "screens/notifications.py",
        label=label,
        icon=":material/notifications_active:" if unread else ":material/notifications:",
    )
