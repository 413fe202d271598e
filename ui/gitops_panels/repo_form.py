"""Registering a repository (admins): URL, branch, path, environments → clusters, sync and prune
modes, drift interval and policy, namespaces, and the write-only secrets (webhook secret, a
token for https, a key and known_hosts for ssh). Also removing one."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import session
from ui.client import ApiError
from ui.gitops_panels import AREA

ENV_ROWS = 3


def _spec(values: dict[str, Any], clusters: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "url": values["url"].strip(),
        "branch": values["branch"].strip() or "main",
        "path": values["path"].strip(),
        "sync": values["sync"],
        "prune": values["prune"],
        "interval": values["interval"].strip() or "5m",
        "on_drift": values["on_drift"],
        "namespaces": [n.strip() for n in values["namespaces"].split(",") if n.strip()],
        "environments": {
            env.strip(): clusters[cluster]
            for env, cluster in values["envs"]
            if env.strip() and cluster
        },
    }
    if values["name"].strip():
        spec["name"] = values["name"].strip()
    for secret in ("webhook_secret", "token", "ssh_key", "known_hosts"):
        if values[secret].strip():
            spec[secret] = values[secret].strip()
    return spec


def show_register(clusters: list) -> None:
    names = {c.name: c.id for c in clusters}
    with st.form("go_register"):
        st.markdown("**Register a repository**")
        values: dict[str, Any] = {
            "url": st.text_input(
                "URL", key="go_url", placeholder="https://github.com/acme/nats-config.git"
            ),
            "name": st.text_input("Name (default: from the URL)"),
            "branch": st.text_input("Branch", value="main"),
            "path": st.text_input("Path in the repository (holds environments/)", value=""),
        }
        envs = []
        for i in range(ENV_ROWS):
            left, right = st.columns(2)
            envs.append(
                (
                    left.text_input(
                        f"Environment {i + 1}",
                        key=f"go_env_{i}",
                        placeholder="production" if i == 0 else "",
                    ),
                    right.selectbox(f"Cluster {i + 1}", [""] + list(names), key=f"go_cluster_{i}"),
                )
            )
        values["envs"] = envs
        left, right = st.columns(2)
        values["sync"] = left.selectbox("Sync", ["auto", "manual"])
        values["prune"] = right.selectbox("Prune", ["never", "with_approval"])
        values["interval"] = left.text_input("Check drift every", value="5m")
        values["on_drift"] = right.selectbox("On drift", ["report", "revert"])
        values["namespaces"] = st.text_input(
            "Managed namespaces (stream-name prefixes, comma-separated)"
        )
        values["webhook_secret"] = st.text_input("Webhook secret (16+ characters)", type="password")
        values["token"] = st.text_input("Token (https)", type="password")
        values["ssh_key"] = st.text_area("SSH private key (ssh)")
        values["known_hosts"] = st.text_area("known_hosts line(s) of the git host (ssh)")
        if st.form_submit_button("Register", type="primary", key="go_register_submit"):
            try:
                made = session.client().create_gitops_repo(_spec(values, names))
            except ApiError as err:
                session.show_error(err)
                return
            session.flash(AREA, "success", f"Repository {made['name']} registered.")
            st.session_state["go_repo"] = made["id"]
            st.rerun()


def show_remove(repo: dict[str, Any]) -> None:
    if st.button(f"Remove {repo['name']}", key="go_remove"):
        session.in_callback(AREA, lambda: _remove(repo))
        st.session_state.pop("go_repo", None)
        st.rerun()


def _remove(repo: dict[str, Any]) -> str:
    session.client().delete_gitops_repo(repo["id"])
    return f"Repository {repo['name']} removed (the clusters are left as they are)."
