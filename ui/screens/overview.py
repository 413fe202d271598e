"""Overview (the source design's §4.2): cards, every cluster with its health and streams, the
live part pushed by the server (cards, throughput, top streams, consumers by lag: ``ui.live``),
the throughput history over the chosen range, active alerts and recent activity."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui import fmt, session
from ui.client import (
    ApiClient,
    ApiError,
    AuthenticationRequired,
    Cluster,
    ClusterHealth,
    StreamInfo,
)
from ui.live import live_overview


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
    head, span, refresh = st.columns([5, 1.4, 1], vertical_alignment="bottom")
    head.title("Overview")
    range_ = span.selectbox(
        "Range", list(RANGES), format_func=RANGES.get, index=1, key="overview_range"
    )
    refresh.button("↻ Refresh", key="overview_refresh")

    clusters = session.call(api.list_clusters)
    if clusters is None:
        return
    if not clusters:
        st.info("No cluster is registered yet. Add your first one on the Clusters page.")
        st.page_link("screens/clusters.py", label="Add a cluster", icon=":material/add:")
        return

    summaries = [
        s
        for s in session.fetch_all(lambda c: summarize(api, c), clusters)
        if isinstance(s, Summary)
    ]
    healthy = sum(1 for s in summaries if s.health and s.health.status == "healthy")
    known = [s.streams for s in summaries if s.streams is not None]

    cols = st.columns(5)
    cols[0].metric("Clusters", len(clusters), border=True)
    cols[1].metric("Healthy", f"{healthy} of {len(clusters)}", border=True)
    cols[2].metric("Streams", sum(len(s) for s in known), border=True)
    cols[3].metric(
        "Consumers", fmt.count(sum(x.consumer_count for s in known for x in s)), border=True
    )
    cols[4].metric(
        "Messages",
        fmt.count(sum(x.messages for s in known for x in s)),
        help=f"{fmt.size(sum(x.bytes for s in known for x in s))} stored",
        border=True,
    )
    if len(known) < len(summaries):
        st.caption("Totals count only the clusters that answered.")

    st.subheader("Clusters")
    st.dataframe([_row(s) for s in summaries], hide_index=True)

    st.subheader("Live")
    live_part({c.id: c.name for c in clusters})
    show_history(api, range_)
    show_alerts(api)
    show_activity(api)


RANGES = {
    "15m": "Last 15 minutes",
    "1h": "Last hour",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
}


@st.fragment(run_every=240)
def live_part(names: dict[str, str]) -> None:
    """Re-run every four minutes: a fresh five-minute token for the component."""
    token = session.call(session.client().realtime_token)
    if token:
        live_overview(token["token"], names)


def show_history(api, range_: str) -> None:
    st.subheader(f"Message throughput · {RANGES[range_].lower()}")
    data = session.call(api.analytics_overview, None, range_)
    if data is None:
        return
    points = data["throughput"]["points"]
    if not points:
        st.caption("No samples in this range yet: the collector takes one every few seconds.")
        return
    st.line_chart(
        {"time": [p["t"] for p in points], "messages/s": [p["value"] for p in points]},
        x="time",
        y="messages/s",
        height=220,
    )
    step = data["throughput"]["step_seconds"]
    st.caption(
        f"{data['throughput']['resolution']} samples, one point per {step // 3600} h"
        if step >= 3600
        else f"{data['throughput']['resolution']} samples, one point per {step} s"
    )


def show_alerts(api) -> None:
    me = session.me()
    if me is None or not me.can("alerts:read"):
        return
    rules = session.call(api.list_alert_rules)
    if rules is None:
        return
    firing = [r for r in rules if (r.get("state") or {}).get("status") == "firing"]
    st.subheader(f"Active alerts · {len(firing)}")
    if not firing:
        st.caption("Nothing is firing.")
    for rule in firing:  # as text: names are the users' own
        state = rule["state"]
        target = " / ".join(x for x in (rule.get("stream"), rule.get("consumer")) if x)
        st.text(
            f"⚠ {rule['severity']}  {rule['name']} · {target or rule['kind']}: "
            f"{state.get('value')} (threshold {rule['threshold']}) since "
            f"{fmt.when(state.get('since'))}"
        )
    st.page_link(
        "screens/alerts.py", label="Open the alerts", icon=":material/notifications_active:"
    )


def show_activity(api) -> None:
    me = session.me()
    if me is None or not me.can("audit_logs:read"):
        return
    st.subheader("Recent activity")
    page = session.call(lambda: api.audit_logs(limit=8))
    if page is None:
        return
    if not page.items:
        st.caption("Nothing yet.")
    for event in page.items:  # as text: names are the users' own
        when = (event.timestamp or "")[11:16]
        st.text(
            f"{when}  {event.action} · {event.resource_name or event.resource_type} "
            f"by {event.user_email or 'the console'}"
        )


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
