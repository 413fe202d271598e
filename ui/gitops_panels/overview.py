"""The repository's header (URL, branch, last sync, status, webhook URL, "Sync now") and its
environments (resources / synced / drift / last sync / status)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import fmt, session
from ui.gitops_panels import AREA


def status_of(repo: dict[str, Any]) -> str:
    last = repo.get("last_sync") or {}
    if last.get("status") in ("failed", "rejected", "partially_applied"):
        return f"❌ Last sync {last['status'].replace('_', ' ')}"
    if last.get("status") == "waiting_approval":
        return "⏳ Waiting for approval"
    if any(env["drift"] for env in repo["status"].values()):
        return "⚠️ Drift"
    if repo["status"] and all(env["synced"] for env in repo["status"].values()):
        return "● In sync"
    return "○ Not synced yet"


def show_header(repo: dict[str, Any], can_sync: bool) -> None:
    api = session.client()
    left, right = st.columns([4, 1])
    last = repo.get("last_sync") or {}
    with left:
        st.markdown(f"**Repository:** `{repo['url']}`")
        st.markdown(
            f"Branch: `{repo['branch']}` │ Last sync: "
            f"{fmt.ago(last.get('finished_at') or last.get('created_at'))} │ "
            f"Status: {status_of(repo)}"
        )
        st.caption(
            f"Webhook URL (GitHub, GitLab or a signed POST): {session.api_url()}"
            f"{repo['webhook_url'].removeprefix('/api/v1')} · sync {repo['sync']} · "
            f"prune {repo['prune'].replace('_', ' ')} · drift checked every "
            f"{fmt.seconds(repo['interval_seconds'])}, on drift: {repo['on_drift']}"
        )
    if can_sync:
        right.button(
            "⟳ Sync Now",
            key="go_sync_now",
            type="primary",
            width="stretch",
            on_click=session.in_callback,
            args=(AREA, lambda: _sync(api, repo)),
        )
        right.button(
            "Check drift now",
            key="go_scan_now",
            width="stretch",
            on_click=session.in_callback,
            args=(AREA, lambda: _scan(api, repo)),
        )


def _sync(api, repo) -> str:
    started = api.sync_gitops_repo(repo["id"])
    return f"Sync of {repo['name']} started (sync {started['sync_id'][:8]}…)."


def _scan(api, repo) -> str:
    api.gitops_scan(repo["id"])
    return "Drift check started: reload in a moment."


def show_environments(repo: dict[str, Any]) -> None:
    st.subheader("Environment Status")
    rows = [
        {
            "Environment": env,
            "Cluster": s.get("cluster_name") or s["cluster_id"],
            "Resources": s["resources"],
            "Synced": s["resources"] if s["synced"] else 0,
            "Drift": s["drift"],
            "Last Sync": fmt.ago(s.get("last_sync_at")),
            "Status": "● In Sync" if s["synced"] else ("⚠️ Drift" if s["drift"] else "○ Pending"),
        }
        for env, s in sorted(repo["status"].items())
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
