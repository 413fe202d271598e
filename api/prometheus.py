"""``/metrics`` for Prometheus: the API process's own metrics for anyone (as before), and the
collected per-stream and per-consumer gauges for a scraper that proves who it is:

- ``Authorization: Bearer <JSC_METRICS_TOKEN>``: every organization's (a platform's Prometheus);
- an API key (``X-API-Key`` or ``Bearer``) or an access token with ``clusters:read``: its own
  organization's only.

The gauges come from the latest sample of each stream, read off ``JSC_LIVE`` as the collectors
publish them (a core subscription of every API process: no coordination, nothing stored);
a stream not sampled for five minutes is dropped."""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from core.live.subjects import PREFIX

log = logging.getLogger(__name__)
STALE_S = 300
STREAM_GAUGES = {  # sample field -> (metric name, help)
    "messages": ("jsc_stream_messages", "Messages stored in the stream"),
    "bytes": ("jsc_stream_bytes", "Bytes stored in the stream"),
    "messages_rate": ("jsc_stream_messages_in_per_second", "Messages stored per second"),
    "bytes_rate": ("jsc_stream_bytes_in_per_second", "Bytes stored per second"),
    "consumer_count": ("jsc_stream_consumers", "Consumers of the stream"),
}
CONSUMER_GAUGES = {
    "lag": ("jsc_consumer_lag", "Messages not yet processed (pending + ack pending)"),
    "pending": ("jsc_consumer_pending", "Messages not yet delivered"),
    "ack_pending": ("jsc_consumer_ack_pending", "Messages delivered, not acknowledged"),
    "redelivered": ("jsc_consumer_redelivered", "Messages redelivered"),
    "ack_rate": ("jsc_consumer_acks_per_second", "Acknowledgements per second"),
    "delivered_rate": ("jsc_consumer_deliveries_per_second", "Deliveries per second"),
}


class LatestSamples:
    """The newest stream sample per (organization, cluster, stream)."""

    def __init__(self):
        self.samples: dict[tuple[str, str, str], tuple[float, dict]] = {}
        self._sub = None

    async def start(self, nc) -> None:
        self._sub = await nc.subscribe(f"{PREFIX}.*.metrics.stream.>", cb=self._on_sample)

    async def _on_sample(self, msg) -> None:
        try:
            body = json.loads(msg.data)
            key = (str(body["org_id"]), str(body["cluster_id"]), body["stream"])
        except (ValueError, KeyError):
            return
        self.samples[key] = (time.monotonic(), body)

    def of(self, org: str | None) -> list[dict]:
        now = time.monotonic()
        for key in [k for k, (at, _) in self.samples.items() if now - at > STALE_S]:
            del self.samples[key]
        return [body for (o, _, _), (_, body) in self.samples.items() if org is None or o == org]

    async def stop(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # noqa: BLE001 - gone with the connection
                pass


class _Gauges:
    def __init__(self, samples: list[dict], with_org: bool):
        self.samples, self.with_org = samples, with_org

    def collect(self) -> Iterable[GaugeMetricFamily]:
        base = ["org", "cluster", "stream"] if self.with_org else ["cluster", "stream"]
        for field, (name, text) in STREAM_GAUGES.items():
            family = GaugeMetricFamily(name, text, labels=base)
            for s in self.samples:
                if s.get(field) is not None:
                    family.add_metric(self._labels(s), float(s[field]))
            yield family
        for field, (name, text) in CONSUMER_GAUGES.items():
            family = GaugeMetricFamily(name, text, labels=[*base, "consumer"])
            for s in self.samples:
                for c in s.get("consumers") or []:
                    if c.get(field) is not None:
                        family.add_metric([*self._labels(s), c["name"]], float(c[field]))
            yield family

    def _labels(self, s: dict) -> list[str]:
        labels = [str(s["cluster_id"]), s["stream"]]
        return [str(s["org_id"]), *labels] if self.with_org else labels


async def metrics_response(request: Request) -> Response:
    from api.deps import _from_key, _from_token  # the API's own credential checks

    services = request.app.state.services
    text = generate_latest(REGISTRY)
    auth = request.headers.get("authorization", "")
    token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
    key = request.headers.get("x-api-key")
    platform = services.settings.metrics_token
    org: str | None = ""
    if platform and token and hmac.compare_digest(token, platform.get_secret_value()):
        org = None  # every organization
    elif key or token:
        from core import api_keys

        if key or api_keys.looks_like_key(token):
            principal, _, _ = await _from_key(request, services, key or token)
        else:
            principal, _, _ = await _from_token(
                services, token, request.client.host if request.client else ""
            )
        if principal.scopes("clusters:read"):
            org = str(principal.org_id)
    if org != "" and services.latest is not None:
        registry = CollectorRegistry()
        registry.register(_Gauges(services.latest.of(org), with_org=org is None))
        text += generate_latest(registry)
    return Response(text, media_type=CONTENT_TYPE_LATEST)
