"""The stream's Metrics tab: its throughput (in, out) and each consumer's lag with its
acknowledgement rate, over a range the person picks, from the metrics history."""

from __future__ import annotations

import streamlit as st

from ui import session
from ui.client import Cluster, StreamInfo

RANGES = {
    "15m": "Last 15 minutes",
    "1h": "Last hour",
    "6h": "Last 6 hours",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
}


def _series(points: list[dict]) -> tuple[list, list]:
    return [p["t"] for p in points], [p["value"] for p in points]


def show_metrics(cluster: Cluster, info: StreamInfo) -> None:
    api = session.client()
    range_ = st.selectbox(
        "Range", list(RANGES), format_func=RANGES.get, index=1, key="sd_metrics_range"
    )
    data = session.call(api.stream_throughput, cluster.id, info.name, range_)
    if data is None:
        return
    st.markdown("**Throughput** (messages per second)")
    times, rate_in = _series(data["messages_rate"])
    if not times:
        st.info(
            "No samples of this stream in this range yet: the collector takes one every "
            "few seconds once the cluster is registered."
        )
    else:
        out = {p["t"]: p["value"] for p in data["messages_out_rate"]}
        st.line_chart(
            {"time": times, "in": rate_in, "out": [out.get(t, 0.0) for t in times]},
            x="time",
            y=["in", "out"],
            height=220,
        )
        st.caption(f"{data['resolution']} samples, a point every {data['step_seconds']} s")
    consumers = session.call(api.list_consumers, cluster.id, info.name) or []
    if not consumers:
        return
    names = [c.name for c in consumers]
    name = st.selectbox("Consumer", names, key="sd_metrics_consumer")
    lag = session.call(api.consumer_lag, cluster.id, info.name, name, range_)
    if lag is None:
        return
    st.markdown(f"**Consumer {name}**: lag (messages not yet processed) and acknowledgements/s")
    times, values = _series(lag["lag"])
    if not times:
        st.caption("No samples of this consumer in this range yet.")
        return
    acks = {p["t"]: p["value"] for p in lag["ack_rate"]}
    left, right = st.columns(2)
    left.line_chart({"time": times, "lag": values}, x="time", y="lag", height=200)
    right.line_chart(
        {"time": times, "acks/s": [acks.get(t, 0.0) for t in times]},
        x="time",
        y="acks/s",
        height=200,
    )
