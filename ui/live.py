"""The live part of the overview: a small component in the page (an iframe Streamlit renders)
that opens the API's server-sent events with a short-lived read-only token and redraws the cards,
the throughput line, the top streams and the consumers by lag as each sample arrives: pushed, not
polled, and no page reload. Names from the clusters are put in the page as text, never as HTML.

The browser reaches the API at ``JSC_BROWSER_API_URL`` (default: ``JSC_API_URL``, the address the
UI server itself uses), which must allow the UI's origin (it does for the events endpoint)."""

from __future__ import annotations

import json

import streamlit as st

from ui import session

HEIGHT = 560

_PAGE = """
<style>
  body { font-family: "Source Sans Pro", sans-serif; margin: 0; color: #262730; }
  .cards { display: flex; gap: 12px; margin-bottom: 10px; }
  .card { flex: 1; border: 1px solid #e6e9ef; border-radius: 8px; padding: 8px 12px; }
  .label { font-size: 13px; color: #6b7080; }
  .value { font-size: 26px; font-weight: 600; }
  .row { display: flex; gap: 16px; }
  .half { flex: 1; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid #f0f2f6; }
  th { color: #6b7080; font-weight: 600; }
  .num { text-align: right; font-variant-numeric: tabular-nums; }
  #status { font-size: 12px; color: #6b7080; margin-top: 6px; }
  h4 { margin: 8px 0 4px 0; }
</style>
<div id="live" data-samples="0">
  <div class="cards">
    <div class="card"><div class="label">Messages in / s</div><div class="value" id="rate">–</div></div>
    <div class="card"><div class="label">Delivered / s</div><div class="value" id="out">–</div></div>
    <div class="card"><div class="label">Consumer lag</div><div class="value" id="lag">–</div></div>
    <div class="card"><div class="label">Clusters reachable</div><div class="value" id="reach">–</div></div>
  </div>
  <h4>Message throughput (live)</h4>
  <svg id="chart" width="100%" height="120" viewBox="0 0 600 120" preserveAspectRatio="none">
    <polyline id="line" fill="none" stroke="#ff4b4b" stroke-width="2" points=""></polyline>
  </svg>
  <div class="row">
    <div class="half"><h4>Top streams</h4><table id="top"><thead><tr><th>Stream</th>
      <th>Cluster</th><th class="num">msg/s</th><th class="num">Messages</th></tr></thead>
      <tbody></tbody></table></div>
    <div class="half"><h4>Consumers by lag</h4><table id="lagging"><thead><tr><th>Consumer</th>
      <th>Stream</th><th class="num">Lag</th><th class="num">acks/s</th></tr></thead>
      <tbody></tbody></table></div>
  </div>
  <div id="status">connecting…</div>
</div>
<script>
const CONFIG = __CONFIG__;
const streams = new Map(), clusters = new Map(), points = [];
let samples = 0, queued = false;
const fmt = (n) => n == null ? "–" : (Math.abs(n) >= 1e6 ? (n / 1e6).toFixed(1) + "M"
  : Math.abs(n) >= 1e3 ? (n / 1e3).toFixed(1) + "k" : (Math.round(n * 10) / 10).toString());
const cell = (text, num) => { const td = document.createElement("td");
  td.textContent = text; if (num) td.className = "num"; return td; };
function rows(id, items) {
  const body = document.querySelector(`#${id} tbody`); body.replaceChildren();
  for (const cells of items) { const tr = document.createElement("tr");
    cells.forEach(([t, n]) => tr.appendChild(cell(t, n))); body.appendChild(tr); }
}
function render() {
  queued = false;
  const all = [...streams.values()];
  const rate = all.reduce((a, s) => a + (s.messages_rate || 0), 0);
  const out = all.reduce((a, s) => a + (s.messages_out_rate || 0), 0);
  const consumers = all.flatMap(s => (s.consumers || []).map(c => ({...c, stream: s.stream})));
  document.getElementById("rate").textContent = fmt(rate);
  document.getElementById("out").textContent = fmt(out);
  document.getElementById("lag").textContent = fmt(consumers.reduce((a, c) => a + c.lag, 0));
  const cs = [...clusters.values()];
  document.getElementById("reach").textContent = cs.length
    ? `${cs.filter(c => c.reachable).length} of ${cs.length}` : "–";
  rows("top", all.sort((a, b) => (b.messages_rate || 0) - (a.messages_rate || 0)
      || b.messages - a.messages).slice(0, 10)
    .map(s => [[s.stream], [CONFIG.names[s.cluster_id] || s.cluster_id.slice(0, 8)],
               [fmt(s.messages_rate), 1], [fmt(s.messages), 1]]));
  rows("lagging", consumers.sort((a, b) => b.lag - a.lag).slice(0, 10)
    .map(c => [[c.name], [c.stream], [fmt(c.lag), 1], [fmt(c.ack_rate), 1]]));
  points.push(rate); if (points.length > 120) points.shift();
  const top = Math.max(1, ...points);
  document.getElementById("line").setAttribute("points", points.map((v, i) =>
    `${(i / Math.max(1, points.length - 1)) * 600},${115 - (v / top) * 110}`).join(" "));
  document.getElementById("live").dataset.samples = samples;
}
function take(event) {
  const sample = JSON.parse(event.data);
  const body = sample.data && sample.cluster_id === undefined ? sample.data : sample;
  if (body.kind === "cluster" || event.type === "cluster_metrics") clusters.set(body.cluster_id, body);
  else streams.set(body.cluster_id + "/" + body.stream, body);
  samples += 1;
  if (!queued) { queued = true; requestAnimationFrame(render); }
}
const url = `${CONFIG.api}/api/v1/stream/metrics?channels=metrics&token=${encodeURIComponent(CONFIG.token)}`;
const source = new EventSource(url);
source.addEventListener("stream_metrics", take);
source.addEventListener("cluster_metrics", take);
source.onopen = () => { document.getElementById("status").textContent = "live: pushed by the server"; };
source.onerror = () => { document.getElementById("status").textContent = "reconnecting…"; };
</script>
"""


browser_api_url = session.browser_api_url


def live_overview(token: str, cluster_names: dict[str, str]) -> None:
    config = json.dumps({"api": browser_api_url(), "token": token, "names": cluster_names})
    st.iframe(_PAGE.replace("__CONFIG__", config.replace("</", "<\\/")), height=HEIGHT)
