"""Clusters: the registered clusters with the health of each; for the one chosen, its server
information and (for those allowed) changing or removing it; adding one."""

from __future__ import annotations

import streamlit as st

from ui import fmt, forms, session
from ui.client import Cluster, ClusterHealth
from ui.cluster_panels.edit import CREDENTIAL_LABELS, show_edit
from ui.cluster_panels.info import show_info

FORM_DEFAULTS: dict[str, str] = {
    "cluster_name": "",
    "cluster_environment": "development",
    "cluster_description": "",
    "cluster_server_urls": "",
    "cluster_domain": "",
    "cluster_monitoring_url": "",
    "cluster_credentials_type": "none",
    "cluster_username": "",
    "cluster_password": "",
    "cluster_token": "",
    "cluster_creds": "",
}
PENDING_DELETE = "clusters_pending_delete"


def main() -> None:
    api = session.client()
    st.title("Clusters")
    session.show_flash("clusters")
    clusters = session.call(api.list_clusters)
    if clusters is None:
        return
    if clusters:
        healths = show_list(clusters)
        chosen = show_actions(clusters)
        show_chosen(chosen, reachable=healths.get(chosen.id) != "unreachable")
    else:
        st.info("No cluster is registered yet. Add one below.")
    st.subheader("Add a cluster")
    show_form()


def show_list(clusters: list[Cluster]) -> dict[str, str]:
    """The table of clusters with each one's health; the health status by cluster id."""
    api = session.client()
    healths = session.fetch_all(lambda c: api.cluster_health(c.id), clusters)
    rows = []
    for cluster, health in zip(clusters, healths, strict=False):
        ok = isinstance(health, ClusterHealth)
        rows.append(
            {
                "Name": cluster.name,
                "Environment": cluster.environment,
                "Health": fmt.health(health.status) if ok else "unknown",
                "RTT": fmt.rtt(health.rtt_ms) if ok else "—",
                "Version": (health.version if ok else None) or cluster.version or "",
                "Servers": ", ".join(cluster.server_urls),
                "Domain": cluster.jetstream_domain or "",
                "Credentials": CREDENTIAL_LABELS.get(
                    cluster.credentials_type, cluster.credentials_type
                ),
                "Note": (health.error or "") if ok else health.message,
            }
        )
    st.dataframe(rows, hide_index=True)
    return {
        c.id: h.status
        for c, h in zip(clusters, healths, strict=False)
        if isinstance(h, ClusterHealth)
    }


def show_actions(clusters: list[Cluster]) -> Cluster:
    """The cluster picker with its buttons; the cluster chosen."""
    by_id = {c.id: c for c in clusters}
    ids = list(by_id)
    chosen = session.chosen_cluster()
    pick, open_col, delete_col = st.columns([4, 1, 1], vertical_alignment="bottom")
    cluster_id = pick.selectbox(
        "Cluster",
        ids,
        index=ids.index(chosen) if chosen in by_id else 0,
        format_func=lambda i: by_id[i].name,
        key="clusters_selected",
    )
    session.choose_cluster(cluster_id)
    if open_col.button("Open its streams", key="clusters_open_streams", width="stretch"):
        st.switch_page("screens/streams.py")
    delete_col.button("Remove…", key="clusters_delete", width="stretch", on_click=_ask_removal)

    pending = by_id.get(st.session_state.get(PENDING_DELETE) or "")
    if pending is not None:
        confirm_removal(pending)
    return by_id[cluster_id]


def confirm_removal(pending: Cluster) -> None:
    st.warning(
        f"Remove the cluster **{pending.name}** from JetStream Console? Its registration "
        "and stored credentials are deleted; the NATS servers themselves are not touched."
    )
    yes, no, _ = st.columns([1, 1, 3])
    yes.button(
        "Yes, remove it",
        key="clusters_confirm_delete",
        type="primary",
        on_click=_remove,
        args=(pending,),
    )
    no.button(
        "Cancel",
        key="clusters_cancel_delete",
        on_click=st.session_state.pop,
        args=(PENDING_DELETE, None),
    )


def show_chosen(cluster: Cluster, reachable: bool = True) -> None:
    """The chosen cluster's server information and, for those who may, its edit form."""
    person = session.me()
    editable = person is not None and person.can("clusters:update")
    tabs = st.tabs(["Server information", "Edit"] if editable else ["Server information"])
    with tabs[0]:
        show_info(cluster, reachable)
    if editable:
        with tabs[1]:
            show_edit(cluster)


def _ask_removal() -> None:
    # read the selection when clicked, not the one of the run that drew the button
    st.session_state[PENDING_DELETE] = st.session_state.clusters_selected


def _remove(cluster: Cluster) -> None:
    st.session_state.pop(PENDING_DELETE, None)

    def act() -> str:
        session.client().delete_cluster(cluster.id)
        if session.chosen_cluster() == cluster.id:
            session.choose_cluster(None)
        return f"Cluster {cluster.name} removed."

    session.in_callback("clusters", act)


def show_form() -> None:
    for key, value in FORM_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.form("add_cluster"):
        left, right = st.columns(2)
        left.text_input("Name", key="cluster_name", placeholder="production-east")
        right.selectbox("Environment", forms.ENVIRONMENTS, key="cluster_environment")
        st.text_input("Description", key="cluster_description")
        st.text_area(
            "Server URLs, one per line",
            key="cluster_server_urls",
            placeholder="nats://nats-1.example.com:4222\ntls://nats-2.example.com:4222",
        )
        left, right = st.columns(2)
        left.text_input("JetStream domain (optional)", key="cluster_domain")
        right.text_input(
            "Monitoring URL (optional)",
            key="cluster_monitoring_url",
            placeholder="http://nats-1.example.com:8222",
        )
        st.selectbox(
            "Credentials",
            forms.CREDENTIAL_TYPES,
            key="cluster_credentials_type",
            format_func=CREDENTIAL_LABELS.__getitem__,
            help="Only the fields of the chosen kind are sent. Secrets are stored "
            "encrypted and never shown again.",
        )
        left, right = st.columns(2)
        left.text_input("User name", key="cluster_username")
        right.text_input("Password", key="cluster_password", type="password")
        st.text_input("Token", key="cluster_token", type="password")
        st.text_area(".creds file", key="cluster_creds", height=100)
        st.form_submit_button(
            "Add cluster", key="cluster_submit", type="primary", on_click=_add_cluster
        )
    session.show_flash("cluster_form")


def _add_cluster() -> None:
    state = st.session_state
    spec, problems = forms.check_cluster_form(
        name=state.cluster_name,
        environment=state.cluster_environment,
        description=state.cluster_description,
        server_urls=state.cluster_server_urls,
        jetstream_domain=state.cluster_domain,
        monitoring_url=state.cluster_monitoring_url,
        credentials_type=state.cluster_credentials_type,
        username=state.cluster_username,
        password=state.cluster_password,
        token=state.cluster_token,
        creds=state.cluster_creds,
    )
    if spec is None:
        session.flash_many("cluster_form", "error", problems)
        return

    def act() -> str:
        cluster = session.client().create_cluster(spec)
        state.update(FORM_DEFAULTS)
        session.choose_cluster(cluster.id)
        return f"Cluster {cluster.name} added."

    session.in_callback("cluster_form", act)


session.run_page(main)
