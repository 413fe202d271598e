"""Detected drift, per resource: Field │ Git (Expected) │ Actual, who changed it and when (or
"changed outside the console"), and the three actions: Revert to Git, Update Git from Cluster,
Ignore (for a while)."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from ui import fmt, session
from ui.gitops_panels import AREA

IGNORE_FOR = {"1 day": "1d", "7 days": "7d", "30 days": "30d"}
KIND_TITLES = {
    "stream": "Stream",
    "consumer": "Consumer",
    "kv": "KV bucket",
    "object_store": "Object store",
}


def _value(field: str, value: Any) -> str:
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and field in ("max_age", "duplicate_window", "ack_wait", "ttl", "inactive_threshold")
    ):
        return fmt.duration_ns(value)
    return json.dumps(value) if not isinstance(value, str) else value


def who(item: dict[str, Any]) -> str:
    changed = item.get("changed_by") or {}
    if changed.get("source") == "console":
        approved = (
            f", approved by {', '.join(changed['approved_by'])}"
            if changed.get("approved_by")
            else ""
        )
        return (
            f"Manual change detected at {fmt.when(changed.get('at'))} by "
            f"{changed.get('actor')} ({changed.get('action')}{approved})"
        )
    if changed.get("at"):
        return f"Changed outside the console: {changed.get('note')} at {fmt.when(changed['at'])}"
    return "Changed outside the console (no change of it through the console since the last sync)"


def show_drift(repo: dict[str, Any], drift: dict[str, Any], can_act: bool) -> None:
    items = drift.get("items") or []
    st.subheader(f"Detected Drift ({len(items)})")
    if drift.get("error"):
        st.warning(f"The last drift check failed: {drift['error']}")
    if not items:
        st.caption(f"No drift. Last checked {fmt.ago(drift.get('scanned_at'))}.")
        return
    api = session.client()
    for item in items:
        with st.container(border=True):
            title = KIND_TITLES.get(item["kind"], item["kind"])
            name = f"{item['stream']}/{item['name']}" if item.get("stream") else item["name"]
            st.markdown(
                f"**{title}: {name}** · {item['environment']} · "
                f"{item['drift_type']} · {item['status']}"
                + (f" until {fmt.when(item['ignored_until'])}" if item.get("ignored_until") else "")
            )
            if item["fields"]:
                st.dataframe(
                    [
                        {
                            "Field": f["field"],
                            "Git (Expected)": _value(f["field"], f["git"]),
                            "Actual": _value(f["field"], f["live"]),
                        }
                        for f in item["fields"]
                    ],
                    hide_index=True,
                    width="stretch",
                )
            elif item["drift_type"] == "missing":
                st.caption("In git, but not on the cluster.")
            else:
                st.caption(
                    "On the cluster, not in git: in a namespace this repository manages, "
                    "or applied by one of its syncs before git dropped it."
                )
            st.caption(who(item) + (f" · declared at {item['source']}" if item["source"] else ""))
            if item.get("remediation"):
                st.caption(f"Remediation: {item['remediation']}")
            if can_act and item["status"] in ("open", "ignored"):
                _actions(api, repo, item)


def _actions(api, repo: dict[str, Any], item: dict[str, Any]) -> None:
    key = item["id"]
    cols = st.columns([1, 1, 1, 1])
    cols[0].button(
        "Revert to Git",
        key=f"go_revert_{key}",
        on_click=session.in_callback,
        args=(AREA, lambda: _revert(api, repo, item)),
    )
    cols[1].button(
        "Update Git from Cluster",
        key=f"go_update_{key}",
        on_click=session.in_callback,
        args=(AREA, lambda: _update(api, repo, item)),
    )
    span = cols[3].selectbox(
        "Ignore for", list(IGNORE_FOR), key=f"go_for_{key}", label_visibility="collapsed"
    )
    cols[2].button(
        "Ignore",
        key=f"go_ignore_{key}",
        on_click=session.in_callback,
        args=(AREA, lambda: _ignore(api, repo, item, IGNORE_FOR[span])),
    )


def _revert(api, repo, item) -> str:
    answer = api.gitops_remediate(repo["id"], "revert", [item["id"]])
    return (
        f"Revert of {item['resource']} started as sync {answer['sync_id'][:8]}… "
        "(production waits for an approval)."
    )


def _update(api, repo, item) -> str:
    answer = api.gitops_remediate(repo["id"], "update_git", [item["id"]])
    return (
        f"Pushed branch {answer['branch']} ({answer['commit'][:7]}) with the cluster's "
        "values: review and merge it."
    )


def _ignore(api, repo, item, span: str) -> str:
    api.gitops_remediate(repo["id"], "ignore", [item["id"]], ignore_for=span)
    return f"{item['resource']} ignored for {span}."
