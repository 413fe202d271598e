"""Recent syncs by commit (Commit │ Author │ Changes │ Status │ Time), each with its plan, its
per-resource result, its errors (``path:line: message``) and the approval it waits on."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import fmt

ICONS = {
    "succeeded": "✅ Applied",
    "no_changes": "✅ No changes",
    "waiting_approval": "⏳ Pending",
    "failed": "❌ Failed",
    "rejected": "⛔ Rejected",
    "partially_applied": "⚠️ Partial",
    "running": "… Running",
    "pending": "… Pending",
    "applying": "… Applying",
}


def show_syncs(syncs: list[dict[str, Any]]) -> None:
    st.subheader("Recent Syncs")
    if not syncs:
        st.caption("No sync yet: push to the branch, or press Sync Now.")
        return
    st.dataframe(
        [
            {
                "Commit": (s["commit"] or "")[:7],
                "Author": s["author"].split(" <")[0],
                "Message": (s["message"] or "").splitlines()[0] if s["message"] else "",
                "Changes": s["plan"].get("summary", ""),
                "Trigger": s["trigger"],
                "Status": ICONS.get(s["status"], s["status"]),
                "Time": fmt.ago(s.get("finished_at") or s["created_at"]),
            }
            for s in syncs
        ],
        hide_index=True,
        width="stretch",
    )
    for s in syncs[:10]:
        label = f"{(s['commit'] or s['ref'])[:7]} · {ICONS.get(s['status'], s['status'])}"
        with st.expander(label):
            if s.get("request_id"):
                st.page_link(
                    "screens/approvals.py",
                    label=f"Approval request {s['request_id']}",
                    icon=":material/approval:",
                )
            if s.get("error"):
                st.error(s["error"])
            for error in s.get("errors") or []:
                st.code(error, language=None)
            for warning in s.get("warnings") or []:
                st.caption(f"warning: {warning}")
            if s["plan"].get("diff"):
                st.code(s["plan"]["diff"], language="diff")
            if s.get("results"):
                st.dataframe(
                    [
                        {
                            "Environment": r["environment"],
                            "Resource": r["resource"],
                            "Action": r["action"],
                            "Result": r["status"],
                            "Error": r.get("error") or "",
                        }
                        for r in s["results"]
                    ],
                    hide_index=True,
                    width="stretch",
                )
