"""GitOps (the source design's section 8.1): a repository's header with "Sync Now", its
environments (resources / synced / drift / last sync), the detected drift with Git (expected) vs
Actual per field and the actions "Revert to Git", "Update Git from Cluster" and "Ignore", the
plan of the branch as it is now, and the recent syncs by commit. Admins register and remove
repositories. Buttons are drawn only for what the person's role allows; the API decides anyway."""

from __future__ import annotations

import streamlit as st

from ui import session
from ui.client import ApiError
from ui.gitops_panels import AREA
from ui.gitops_panels.drift import show_drift
from ui.gitops_panels.overview import show_environments, show_header
from ui.gitops_panels.repo_form import show_register, show_remove
from ui.gitops_panels.syncs import show_syncs


def main() -> None:
    api = session.client()
    person = session.me()
    st.title("GitOps: Infrastructure as Code")
    session.show_flash(AREA)
    repos = session.call(api.list_gitops_repos) or []
    admin = bool(person and person.can("gitops:create"))
    if not repos:
        st.caption("No repository yet." + ("" if admin else " An admin registers one."))
    else:
        names = {r["id"]: r["name"] for r in repos}
        chosen = st.session_state.get("go_repo")
        repo_id = st.selectbox(
            "Repository",
            list(names),
            format_func=names.get,
            index=list(names).index(chosen) if chosen in names else 0,
        )
        st.session_state["go_repo"] = repo_id
        show_repository(api, next(r for r in repos if r["id"] == repo_id), person)
    if admin:
        clusters = session.call(api.list_clusters) or []
        with st.expander("Register a repository", expanded=not repos):
            show_register(clusters)


def show_repository(api, repo: dict, person) -> None:
    can_sync = bool(person and person.can("gitops:sync"))
    show_header(repo, can_sync)
    show_environments(repo)
    found = session.fetch_all(lambda fn: fn(repo["id"]), [api.gitops_drift, api.list_gitops_syncs])
    drift, syncs = found
    if isinstance(drift, ApiError):
        session.show_error(drift)
    else:
        show_drift(repo, drift, can_sync)
    with st.expander("Plan: what a sync of the branch would do now"):
        if st.button("Show the plan", key="go_plan"):
            plan = session.call(api.gitops_plan, repo["id"])
            if plan is not None:
                for error in plan["errors"]:
                    st.code(error, language=None)
                st.code(plan["diff"], language="diff")
    if isinstance(syncs, ApiError):
        session.show_error(syncs)
    else:
        show_syncs(syncs)
    if person and person.can("gitops:delete"):
        show_remove(repo)


session.run_page(main)
