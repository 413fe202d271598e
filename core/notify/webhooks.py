"""Outgoing webhooks, the pure parts: what is sent, how it is signed, how a receiver checks it.

The body is JSON that a Slack incoming webhook accepts as is (``text`` and a ``blocks`` section,
mrkdwn-escaped) plus the event's own fields for programs. Each POST carries:

- ``X-JSC-Event``: the event (``created``, ``approved``, ... or ``test``; ``dr.failover`` when a
  disaster-recovery pair's active side changed, see :func:`dr_body`);
- ``X-JSC-Delivery``: an id stable for (webhook, request, event, target): a retry is recognisable;
- ``X-JSC-Timestamp``: unix seconds at sending;
- ``X-JSC-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``f"{timestamp}.".encode() + body`` with
  the webhook's secret, over the exact bytes of the body. During the grace period after a secret
  rotation it carries two such values separated by a comma, the new secret's first:
  ``sha256=<new>,sha256=<previous>`` (as Stripe's ``Stripe-Signature`` carries several ``v1=``
  values while a secret rolls): a receiver accepts the delivery when any of them matches the
  secret it knows, so it can switch to the new secret at any time during the grace.

A receiver checks it with ``verify(secret, timestamp, body, signature)`` (optionally refusing old
timestamps with ``max_age_s``), comparing in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any, get_args

from core.changes.models import EventName, RequestEvent

DR_EVENT = "dr.failover"  # a DR pair's active side changed (a failover, not a drill)
ALERT_EVENT = "alert"  # an alert rule fired or resolved (core.alerts.events.webhook_body)
EVENTS: tuple[str, ...] = (*get_args(EventName), DR_EVENT, ALERT_EVENT)
TEST_EVENT = "test"
DELIVERY_NAMESPACE = uuid.UUID("6f0c1c52-86a4-4d4c-9a35-2f3b8f0d7e61")
SIGNATURE_PREFIX = "sha256="
COMMENT_CHARS = 300

_EMOJI = {
    "created": ":inbox_tray:",
    "approved": ":white_check_mark:",
    "rejected": ":x:",
    "withdrawn": ":leftwards_arrow_with_hook:",
    "changes_requested": ":memo:",
    "escalated": ":rotating_light:",
    "executed": ":rocket:",
    "failed": ":warning:",
    TEST_EVENT: ":wave:",
}
# What happened, with and without a person who did it.
_BY = {
    "approved": "{actor} approved request {title}",
    "rejected": "{actor} rejected request {title}",
    "withdrawn": "{actor} withdrew request {title}",
    "changes_requested": "{actor} asked for changes to request {title}",
}
_PLAIN = {
    "created": "New request {title} is waiting for approval",
    "approved": "Request {title} was approved",
    "rejected": "Request {title} was rejected",
    "withdrawn": "Request {title} was withdrawn",
    "changes_requested": "Changes were asked for on request {title}",
    "escalated": "Request {title} is still waiting for approval",
    "executed": "Request {title} was executed",
    "failed": "Request {title} failed",
}


def delivery_id(webhook_id: str | uuid.UUID, event: RequestEvent) -> str:
    """The same id for every attempt at one delivery, a different one for any other."""
    key = f"{webhook_id}:{event.request_id}:{event.event}:{event.target or ''}"
    return str(uuid.uuid5(DELIVERY_NAMESPACE, key))


def request_link(public_url: str | None, request_id: str) -> str | None:
    if not public_url or not request_id:
        return None
    return f"{public_url.rstrip('/')}/?request={request_id}"


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_line(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def headline(
    event: str, title: str, *, actor: str = "", comment: str = "", target: str | None = None
) -> str:
    """One line a person reads, without the link: e.g. ``:white_check_mark: jane@x approved
    request “Create stream orders” — “looks good”``."""
    quoted = f"“{_one_line(title, 200)}”"
    if event == TEST_EVENT:
        what = f"Test delivery for {quoted}" + (f" sent by {actor}" if actor else "")
    elif actor and event in _BY:
        what = _BY[event].format(actor=actor, title=quoted)
    else:
        what = _PLAIN[event].format(title=quoted)
    if event == "escalated":
        what += f"; escalated to {target}" if target else "; reminding its approvers"
    if comment:
        what += f" — “{_one_line(comment, COMMENT_CHARS)}”"
    return f"{_EMOJI[event]} {escape(what)}"


def _encode(fields: dict[str, Any], line: str, link: str | None) -> bytes:
    text = f"{line} ({link})" if link else line
    mrkdwn = f"{line}\n<{link}|Open the request>" if link else line
    body = {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}],
        **fields,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def event_body(event: RequestEvent, public_url: str | None = None) -> bytes:
    """The exact bytes POSTed for a request event."""
    line = headline(
        event.event,
        event.title,
        actor=event.actor_email,
        comment=event.comment,
        target=event.target,
    )
    return _encode(
        {
            "event": event.event,
            "request_id": event.request_id,
            "title": event.title,
            "actor": event.actor_email,
            "comment": event.comment,
            "target": event.target,
        },
        line,
        request_link(public_url, event.request_id),
    )


def dr_delivery_id(webhook_id: str | uuid.UUID, operation_id: str) -> str:
    """One delivery per (webhook, failover operation): its attempts share the id."""
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{webhook_id}:{operation_id}:{DR_EVENT}"))


def dr_body(announcement: dict[str, Any]) -> bytes:
    """The body of a ``dr.failover`` event: the active side as clients read it from the
    ``jsc_dr_active`` bucket (``pair_id``, ``pair_name``, ``active_cluster_id``,
    ``active_domain``, ``streams``, ``epoch``, ``changed_at``) plus the operation's
    ``operation_id``, ``mode``, ``previous_cluster_id``, ``active_cluster_name`` and
    ``data_loss_messages`` (null: not known)."""
    a = announcement
    where = a.get("active_cluster_name") or a.get("active_cluster_id")
    loss = a.get("data_loss_messages")
    line = (
        f":rotating_light: {escape(_one_line(str(a.get('pair_name') or a.get('pair_id')), 200))}"
        f" failed over to {escape(str(where))} ({a.get('mode', 'planned')}); clients write "
        f"there now"
        + ("" if loss == 0 else f"; data at risk: {'unknown' if loss is None else loss} message(s)")
    )
    return _encode({"event": DR_EVENT, **a}, line, None)


def ping_body(webhook_name: str, actor: str = "") -> bytes:
    """The body of ``POST /webhooks/{id}/test``: same shape, event ``test``, no request."""
    title = f"webhook {webhook_name}"
    return _encode(
        {
            "event": TEST_EVENT,
            "request_id": "",
            "title": title,
            "actor": actor,
            "comment": "",
            "target": None,
        },
        headline(TEST_EVENT, title, actor=actor),
        None,
    )


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def signature_header(secrets: str | Sequence[str], timestamp: int | str, body: bytes) -> str:
    """The ``X-JSC-Signature`` value: one signature per secret (the current one first), joined
    by commas."""
    secrets = [secrets] if isinstance(secrets, str) else list(secrets)
    if not secrets:
        raise ValueError("a delivery is signed with at least one secret")
    return ",".join(sign(secret, timestamp, body) for secret in secrets)


def verify(
    secret: str,
    timestamp: int | str,
    body: bytes,
    signature: str,
    *,
    max_age_s: float | None = None,
    now: float | None = None,
) -> bool:
    """Whether ``signature`` (the ``X-JSC-Signature`` header: one or more comma-separated
    ``sha256=`` values) holds one made with ``secret`` over this timestamp and body; with
    ``max_age_s``, also that the timestamp is that recent (replays)."""
    if max_age_s is not None:
        try:
            age = (time.time() if now is None else now) - int(timestamp)
        except (TypeError, ValueError):
            return False
        if abs(age) > max_age_s:
            return False
    expected = sign(secret, timestamp, body)
    matches = [
        hmac.compare_digest(expected, value.strip()) for value in (signature or "").split(",")
    ]  # each compared: constant time
    return any(matches)


def signed_headers(
    secrets: str | Sequence[str],
    event: str,
    delivery: str,
    body: bytes,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The headers of one delivery, signed with each of ``secrets`` (the current one first)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": "JetStream-Console-Webhooks/1",
        "X-JSC-Event": event,
        "X-JSC-Delivery": delivery,
        "X-JSC-Timestamp": str(timestamp),
        "X-JSC-Signature": signature_header(secrets, timestamp, body),
    }
