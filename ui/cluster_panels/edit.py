"""Changing a cluster's registration: name, environment, description, server URLs, JetStream
domain, monitoring URL, credentials and TLS (``PATCH /clusters/{id}``, admins only).

The fields start on the cluster's current values and start over whenever it changes. Credentials
and TLS keys are never shown: blank fields keep the stored ones, and only what differs is sent."""

from __future__ import annotations

import streamlit as st

from ui import forms, session
from ui.client import Cluster

AREA = "cluster_edit"
LOADED = "cluster_edit_loaded"  # which cluster (and which values of it) the fields hold
CREDENTIAL_LABELS = {
    "none": "No credentials",
    "user_password": "User and password",
    "token": "Token",
    "creds": ".creds file (JWT and NKey)",
}
TLS_LABELS = {
    "keep": "Keep as they are",
    "replace": "Replace with the fields below",
    "remove": "Remove (no client certificate, default verification)",
}
SECRETS = ("username", "password", "token", "creds", "ca_pem", "cert_pem", "key_pem")


def key(field: str) -> str:
    return f"cluster_edit_{field}"


def load(cluster: Cluster) -> None:
    """Put the cluster's current values in the fields (once per version of it, and again when
    Streamlit dropped them after a visit to another page)."""
    # what the fields show, not ``updated_at``: a health probe bumps that, and must not wipe
    # what the person is typing
    version = repr(
        (
            cluster.id,
            cluster.name,
            cluster.environment,
            cluster.description,
            cluster.server_urls,
            cluster.jetstream_domain,
            cluster.monitoring_url,
            cluster.credentials_type,
            cluster.tls_enabled,
        )
    )
    if st.session_state.get(LOADED) == version and key("name") in st.session_state:
        return
    st.session_state.update(
        {
            key("name"): cluster.name,
            key("environment"): cluster.environment,
            key("description"): cluster.description,
            key("server_urls"): "\n".join(cluster.server_urls),
            key("domain"): cluster.jetstream_domain or "",
            key("monitoring_url"): cluster.monitoring_url or "",
            key("credentials_type"): (
                cluster.credentials_type
                if cluster.credentials_type in forms.CREDENTIAL_TYPES
                else "none"
            ),
            key("tls"): "keep",
            key("insecure_skip_verify"): False,
            **{key(field): "" for field in SECRETS},
        }
    )
    st.session_state[LOADED] = version


def show_edit(cluster: Cluster) -> None:
    load(cluster)
    with st.form("edit_cluster"):
        left, right = st.columns(2)
        left.text_input("Name", key=key("name"))
        right.selectbox("Environment", forms.ENVIRONMENTS, key=key("environment"))
        st.text_input("Description", key=key("description"))
        st.text_area("Server URLs, one per line", key=key("server_urls"))
        left, right = st.columns(2)
        left.text_input("JetStream domain (optional)", key=key("domain"))
        right.text_input("Monitoring URL (optional)", key=key("monitoring_url"))
        stored = CREDENTIAL_LABELS.get(cluster.credentials_type, cluster.credentials_type)
        st.selectbox(
            "Credentials",
            forms.CREDENTIAL_TYPES,
            key=key("credentials_type"),
            format_func=CREDENTIAL_LABELS.__getitem__,
            help=f"Stored now: {stored}. Secrets are never shown: leave the fields "
            "blank to keep the stored ones, or type new ones to replace them.",
        )
        left, right = st.columns(2)
        left.text_input("User name", key=key("username"), placeholder="unchanged")
        right.text_input("Password", key=key("password"), type="password", placeholder="unchanged")
        st.text_input("Token", key=key("token"), type="password", placeholder="unchanged")
        st.text_area(".creds file", key=key("creds"), height=100, placeholder="unchanged")
        with st.expander("TLS" + (" (set)" if cluster.tls_enabled else " (not set)")):
            st.radio(
                "TLS settings",
                forms.TLS_CHOICES,
                key=key("tls"),
                format_func=TLS_LABELS.__getitem__,
                horizontal=True,
            )
            st.text_area("CA certificate (PEM)", key=key("ca_pem"), height=80)
            left, right = st.columns(2)
            left.text_area("Client certificate (PEM)", key=key("cert_pem"), height=80)
            right.text_area("Client key (PEM)", key=key("key_pem"), height=80)
            st.checkbox(
                "Skip verifying the server's certificate (testing only)",
                key=key("insecure_skip_verify"),
            )
        st.form_submit_button(
            "Save changes",
            key="cluster_edit_submit",
            type="primary",
            on_click=_save,
            args=(cluster,),
        )
    session.show_flash(AREA)


def _save(cluster: Cluster) -> None:
    state = st.session_state
    changes, problems = forms.check_cluster_changes(
        cluster,
        name=state[key("name")],
        environment=state[key("environment")],
        description=state[key("description")],
        server_urls=state[key("server_urls")],
        jetstream_domain=state[key("domain")],
        monitoring_url=state[key("monitoring_url")],
        credentials_type=state[key("credentials_type")],
        username=state[key("username")],
        password=state[key("password")],
        token=state[key("token")],
        creds=state[key("creds")],
        tls_choice=state[key("tls")],
        ca_pem=state[key("ca_pem")],
        cert_pem=state[key("cert_pem")],
        key_pem=state[key("key_pem")],
        insecure_skip_verify=state[key("insecure_skip_verify")],
    )
    if changes is None:
        session.flash_many(AREA, "error", problems)
        return
    if not changes:
        session.flash(
            AREA, "info", "Nothing to save: every field holds the cluster's current value."
        )
        return

    def act() -> str:
        updated = session.client().update_cluster(cluster.id, changes)
        state.pop(LOADED, None)  # the fields start over on what is stored now
        return f"Cluster {updated.name} saved ({', '.join(described(changes))})."

    session.in_callback(AREA, act)


def described(changes: dict) -> list[str]:
    """The changed fields for a person: "name", "credentials", ..."""
    names = {
        "server_urls": "server URLs",
        "jetstream_domain": "JetStream domain",
        "monitoring_url": "monitoring URL",
        "tls": "TLS",
    }
    return [names.get(field, field) for field in changes]
