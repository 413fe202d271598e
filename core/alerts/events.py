"""An alert event: a rule's transition (firing or resolved), what it says, where to look next,
and how it is delivered (the Slack-compatible webhook body, the in-app notification). Pure.

An event's id is ``uuid5(rule id, transition number)``: recording, publishing and delivering it
again (an activity retried) is recognised everywhere as the same event."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel

from core.alerts.rules import Rule, format_duration
from core.alerts.state import Transition
from core.notify.webhooks import ALERT_EVENT

NAMESPACE = uuid.UUID("5d7e3a52-9c1b-4f0e-a0a4-6b2f8e1c9d33")
WEBHOOK_EVENT = ALERT_EVENT  # X-JSC-Event of every alert delivery; webhooks subscribe to it
_EMOJI = {"firing": ":rotating_light:", "resolved": ":white_check_mark:"}
_WHAT = {
    "consumer_lag": "lag of consumer {consumer} on {stream}",
    "lag_growth": "lag growth of consumer {consumer} on {stream}",
    "stream_idle": "new messages in stream {stream}",
    "rate_anomaly": "in-rate deviation of stream {stream}",
    "storage_pct": "storage of stream {stream} (% of max_bytes)",
    "mirror_lag": "lag of mirror {stream}",
    "server_health": "cluster unreachable",
    "quota_pct": "quota usage (%)",
}


def event_id(rule_id: uuid.UUID | str, transition: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{rule_id}:{transition}")


class AlertEvent(BaseModel):
    id: uuid.UUID
    org_id: uuid.UUID
    rule_id: uuid.UUID
    rule_name: str
    kind: str
    cluster_id: uuid.UUID | None = None
    stream: str | None = None
    consumer: str | None = None
    team_id: uuid.UUID | None = None
    severity: str
    status: str  # firing | resolved
    transition: int
    value: float | None = None
    threshold: float
    message: str
    timestamp: datetime
    notify: bool = True  # False: recorded, not delivered (snoozed, cooldown)
    channels: list[str] = []
    links: dict[str, str] = {}
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def links(rule: Rule) -> dict[str, str]:
    """Where to look next: the stream, the consumer, and the metric's chart in the API."""
    if rule.cluster_id is None:
        return {"team": f"/api/v1/teams/{rule.team_id}/quotas"} if rule.team_id else {}
    cid = str(rule.cluster_id)
    out = {"cluster": f"/api/v1/clusters/{cid}"}
    if rule.stream:
        stream = quote(rule.stream, safe="")
        out["stream"] = f"/api/v1/clusters/{cid}/streams/{stream}"
        out["chart"] = f"/api/v1/analytics/streams/{stream}/throughput?" + urlencode(
            {"cluster_id": cid}
        )
    if rule.consumer:
        consumer = quote(rule.consumer, safe="")
        out["consumer"] = f"{out['stream']}/consumers/{consumer}"
        out["chart"] = f"/api/v1/analytics/consumers/{consumer}/lag?" + urlencode(
            {"cluster_id": cid, "stream": rule.stream}
        )
    if rule.team_id:
        out["team"] = f"/api/v1/teams/{rule.team_id}/quotas"
    return out


def message(rule: Rule, status: str, value: float | None) -> str:
    what = _WHAT[rule.kind].format(stream=rule.stream, consumer=rule.consumer)
    shown = "unknown" if value is None else f"{value:g}"
    if status == "resolved":
        return f"{rule.name}: resolved, {what} is {shown}"
    window = f" for {format_duration(rule.for_s)}" if rule.for_s else ""
    if rule.kind == "server_health":
        return f"{rule.name}: the cluster has been unreachable{window}"
    if rule.kind == "stream_idle":
        return f"{rule.name}: stream {rule.stream} received {shown} new message(s){window}"
    if rule.kind == "lag_growth":
        return f"{rule.name}: {what} grew by {shown}{window} (at least {rule.threshold:g})"
    return f"{rule.name}: {what} is {shown}, over {rule.threshold:g}{window}"


def make_event(rule: Rule, t: Transition) -> AlertEvent:
    return AlertEvent(
        id=event_id(rule.id, t.number),
        org_id=rule.org_id,
        rule_id=rule.id,
        rule_name=rule.name,
        kind=rule.kind,
        cluster_id=rule.cluster_id,
        stream=rule.stream,
        consumer=rule.consumer,
        team_id=rule.team_id,
        severity=rule.severity,
        status=t.status,
        transition=t.number,
        value=t.value,
        threshold=rule.threshold,
        message=message(rule, t.status, t.value),
        timestamp=t.at,
        notify=t.notify,
        channels=list(rule.channels),
        links=links(rule),
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(event: AlertEvent, public_url: str | None = None) -> bytes:
    """Slack-compatible (``text`` and a mrkdwn section) plus the event's fields."""
    line = f"{_EMOJI[event.status]} [{event.severity}] {_escape(event.message)}"
    base = (public_url or "").rstrip("/")
    chart = event.links.get("chart")
    mrkdwn = line + (f"\n<{base}{chart}|Chart>" if chart and base else "")
    body = {
        "text": line,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}],
        "event": WEBHOOK_EVENT,
        "alert": event.body(),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def delivery_id(webhook_id: uuid.UUID | str, event: AlertEvent) -> str:
    """Stable for (webhook, event): every attempt of one delivery carries it."""
    return str(uuid.uuid5(NAMESPACE, f"{webhook_id}:{event.id}"))


def notification(event: AlertEvent) -> dict[str, Any]:
    """The in-app notification (``core.notify.inbox``); its id is the event's."""
    return {
        "id": str(event.id),
        "type": "alert",
        "org_id": str(event.org_id),
        "event": f"alert.{event.status}",
        "request_id": "",
        "title": event.message,
        "actor_email": "",
        "comment": "",
        "target": None,
        "rule_id": str(event.rule_id),
        "severity": event.severity,
        "links": event.links,
        "created_at": event.timestamp.isoformat(timespec="milliseconds"),
    }


class EvaluationInput(BaseModel):
    """What an evaluation pass looks at: every enabled rule, or only these (tests, a rule's
    "evaluate now")."""

    rule_ids: list[str] | None = None


class EvaluationResult(BaseModel):
    events: list[str] = []  # ids of the events delivered by this pass
    failed_deliveries: list[str] = []  # "<event id> -> <webhook id>: why"


class WebhookDelivery(BaseModel):
    webhook_id: str
    event: AlertEvent
    chosen: bool = False  # named by the rule's channels (else: it subscribes to alert events)
