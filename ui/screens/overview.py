"""Overview: every cluster with its health and streams, and the totals across them."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui import fmt, session
from ui.client import (ApiClient, ApiError, AuthenticationRequired, Cluster, ClusterHealth,
                       StreamInfo)


@dataclass
class Summary:
    cluster: Cluster
    health: ClusterHealth | None
    streams: list[StreamInfo] | None
    problem: str | None


def summarize(api: ApiClient, cluster: Cluster) -> Summary:
    """Health first; the streams only of a cluster that answers (an unreachable one would wait)."""
    try:
        health = api.cluster_health(cluster.id)
    except AuthenticationRequired:
        raise
    except ApiError as err:
        return Summary(cluster, None, None, err.message)
    if not health.connected:
        return Summary(cluster, health, None, health.error)
    try:
        return Summary(cluster, health, api.list_streams(cluster.id), health.error)
    except AuthenticationRequired:
        raise
    except ApiError as err:
        return Summary(cluster, health, None, err.message)


def main() -> None:
    api = session.client()
    head, refresh = st.columns([6, 1], vertical_alignment="bottom")
    head.title("Overview")
    refresh.button("↻ Refresh", key="overview_refresh")

    clusters = session.call(api.list_clusters)
    if clusters is None:
        return
    if not clusters:
        st.info("No cluster is registered yet. Add your first one on the Clusters page.")
        st.page_link("screens/clusters.py", label="Add a cluster", icon=":material/add:")
        return

    summaries = [s for s in session.fetch_all(lambda c: summarize(api, c), clusters)
                 if isinstance(s, Summary)]
    healthy = sum(1 for s in summaries if s.health and s.health.status == "healthy")
    known = [s.streams for s in summaries if s.streams is not None]

    cols = st.columns(5)
    cols[0].metric("Clusters", len(clusters), border=True)
    cols[1].metric("Healthy", f"{healthy} of {len(clusters)}", border=True)
    cols[2].metric("Streams", sum(len(s) for s in known), border=True)
    cols[3].metric("Consumers", fmt.count(sum(x.consumer_count for s in known for x in s)),
                   border=True)
    cols[4].metric("Messages", fmt.count(sum(x.messages for s in known for x in s)),
                   help=f"{fmt.size(sum(x.bytes for s in known for x in s))} stored", border=True)
    if len(known) < len(summaries):
        st.caption("Totals count only the clusters that answered.")

    st.subheader("Clusters")
    st.dataframe([_row(s) for s in summaries], hide_index=True)


def _row(s: Summary) -> dict[str, object]:
    streams = s.streams
    return {
        "Cluster": s.cluster.name,
        "Environment": s.cluster.environment,
        "Health": fmt.health(s.health.status if s.health else None),
        "RTT": fmt.rtt(s.health.rtt_ms if s.health else None),
        "Version": (s.health.version if s.health else None) or s.cluster.version or "",
        "Streams": None if streams is None else len(streams),
        "Consumers": None if streams is None else sum(x.consumer_count for x in streams),
        "Messages": None if streams is None else fmt.count(sum(x.messages for x in streams)),
        "Stored": None if streams is None else fmt.size(sum(x.bytes for x in streams)),
        "Note": s.problem or "",
    }


session.run_page(main)
