"""The server information of one cluster, read live (``GET /clusters/{id}/info``): the server
that answered (version, name, cluster, JetStream domain, ...) and the console's account on it,
each JetStream resource as used against its limit."""

from __future__ import annotations

import streamlit as st

from ui import fmt, session, widgets
from ui.client import ApiError, AuthenticationRequired, Cluster, ClusterInfo


def show_info(cluster: Cluster, reachable: bool = True) -> None:
    """The cluster's server information; when it cannot be read (the list already says the
    cluster is unreachable), why, as a note rather than an error of the page."""
    if not reachable:
        st.info(f"No server information: {cluster.name} could not be reached.")
        return
    try:
        info = session.client().cluster_info(cluster.id)
    except AuthenticationRequired:
        raise  # the page sends the person to the login
    except ApiError as err:
        st.info(f"No server information: {session.error_text(err)}")
        return
    widgets.facts(server_facts(info))
    st.markdown("**JetStream account: usage and limits**")
    st.dataframe(usage_rows(info), hide_index=True, key="cluster_info_usage")
    total, errors = info.api_calls
    st.caption(
        f"JetStream API requests served to the account: {fmt.count(total)}, "
        f"{fmt.count(errors)} of them refused or failed."
    )


def server_facts(info: ClusterInfo) -> dict[str, object]:
    server = info.server
    return {
        "Version": info.version or "—",
        "Server name": info.server_name or "—",
        "Server id": server.get("server_id") or "—",
        "Cluster": info.cluster or "— (a single server)",
        "JetStream domain": info.jetstream_domain or "— (none)",
        "Go": server.get("go") or "—",
        "Max payload": fmt.size(server.get("max_payload")),
        "Other servers of the cluster": ", ".join(server.get("connect_urls") or []) or "—",
    }


def usage_rows(info: ClusterInfo) -> list[dict[str, str]]:
    """Memory, storage, streams and consumers: used, the account's limit (-1: unlimited)."""
    account, limits = info.account, info.limits
    return [
        {
            "Resource": "Memory",
            "Used": fmt.size(account.get("memory") or 0),
            "Limit": fmt.size(limits.get("max_memory", -1)),
        },
        {
            "Resource": "Storage",
            "Used": fmt.size(account.get("storage") or 0),
            "Limit": fmt.size(limits.get("max_storage", -1)),
        },
        {
            "Resource": "Streams",
            "Used": fmt.count(info.streams),
            "Limit": fmt.limit(limits.get("max_streams", -1)),
        },
        {
            "Resource": "Consumers",
            "Used": fmt.count(info.consumers),
            "Limit": fmt.limit(limits.get("max_consumers", -1)),
        },
    ]
