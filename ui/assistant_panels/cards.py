"""What an answer holds besides its text, drawn under it: the tool calls folded in an expander
(name, input, the summary of the result), the findings of the deterministic checks as compact
cards, proposals as cards with their status and the way to their approval, and the notice when the
model was absent. A live answer and a stored one are drawn by the same functions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import streamlit as st

from ui import approval_text as text
from ui.approval_widgets import md
from ui.client import Answer

SEVERITY_BADGES = {
    "critical": ":red-badge[Critical]",
    "warning": ":orange-badge[Warning]",
    "info": ":blue-badge[Info]",
}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
APPROVAL_KEY = "apr_open"  # the request the Approvals page opens first (ui/screens/approvals.py)
GO_APPROVAL_KEY = "ai_go_approval"


def show_extras(answer: Answer, key: str) -> None:
    """Everything of ``answer`` but its text (``key`` keeps its widgets apart)."""
    if answer.notice:
        show_notice(answer.notice)
    if answer.tool_calls:
        show_tool_calls(answer.tool_calls)
    for i, finding in enumerate(
        sorted(answer.findings, key=lambda f: SEVERITY_ORDER.get(str(f.get("severity")), 3))
    ):
        finding_card(finding, key=f"{key}_f{i}")
    for refused in answer.refused:
        st.caption(f"Refused {refused.get('tool') or 'a tool'}: {md(str(refused.get('reason')))}")
    for proposal in answer.proposals:
        proposal_card(proposal, key=key)


def show_notice(notice: Mapping[str, Any]) -> None:
    st.info(
        md(str(notice.get("message") or notice.get("reason") or "The model is absent.")),
        icon=":material/cloud_off:",
    )


def tool_line(call: Mapping[str, Any]) -> str:
    mark = "✖" if call.get("is_error") else "→"
    summary = call.get("summary")
    return f"{mark} `{call.get('name')}`" + (f": {md(str(summary))}" if summary else "")


def show_tool_calls(calls: list[dict[str, Any]]) -> None:
    failed = sum(1 for c in calls if c.get("is_error"))
    label = f"Looked at {len(calls)} thing{'s' if len(calls) != 1 else ''}: " + ", ".join(
        dict.fromkeys(str(c.get("name")) for c in calls)
    )
    if failed:
        label += f" ({failed} failed)"
    with st.expander(label, icon=":material/build:"):
        for call in calls:
            st.markdown(tool_line(call))
            if call.get("input"):
                st.code(json.dumps(call["input"], indent=2, ensure_ascii=False), language="json")


def finding_card(finding: Mapping[str, Any], key: str) -> None:
    severity = str(finding.get("severity") or "info")
    with st.container(border=True, key=f"{key}_card"):
        st.markdown(
            f"{SEVERITY_BADGES.get(severity, severity)} "
            f"**{md(str(finding.get('title') or finding.get('code')))}**"
        )
        if finding.get("summary"):
            st.markdown(md(str(finding["summary"])))
        if finding.get("suggestion"):
            st.caption(f"What to do: {md(str(finding['suggestion']))}")
        if finding.get("evidence"):
            st.caption("Evidence: " + md(evidence_text(finding["evidence"])))


def evidence_text(evidence: Mapping[str, Any], limit: int = 300) -> str:
    parts = []
    for name, value in evidence.items():
        shown = (
            f"{value:,}"
            if isinstance(value, int) and not isinstance(value, bool)
            else json.dumps(value, default=str, separators=(",", ":"))
            if isinstance(value, (list, dict, bool)) or value is None
            else str(value)
        )
        parts.append(f"{name} = {shown if len(shown) <= 60 else shown[:59] + '…'}")
    joined = " · ".join(parts)
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"


def proposal_card(proposal: Mapping[str, Any], key: str) -> None:
    request_id = str(proposal.get("request_id") or "")
    with st.container(border=True, key=f"{key}_p_{request_id}"):
        st.markdown(
            f":material/approval: **Proposed change: "
            f"{md(str(proposal.get('title') or 'a change'))}** · "
            f"{text.status_badge(proposal.get('status'))}"
        )
        for reason in proposal.get("reasons") or []:
            st.markdown(f"- {md(str(reason))}")
        st.caption(f"Nothing changes until a person approves it. Request `{request_id}`")
        st.button(
            "Open the approval",
            key=f"{key}_open_{request_id}",
            icon=":material/open_in_new:",
            on_click=open_approval,
            args=(request_id,),
        )


def open_approval(request_id: str) -> None:
    """Button callback: open this request on the Approvals page (on the next run)."""
    st.session_state[APPROVAL_KEY] = request_id
    st.session_state[GO_APPROVAL_KEY] = True


def follow() -> None:
    if st.session_state.pop(GO_APPROVAL_KEY, False):
        st.switch_page(
            "screens/approvals.py", query_params={"request": st.session_state.get(APPROVAL_KEY)}
        )
