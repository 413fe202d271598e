"""The rule model and events, pure: durations, what each kind needs, the event's id, links and
the Slack-compatible body."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from core.alerts.events import event_id, links, make_event, webhook_body
from core.alerts.rules import (
    KINDS,
    Rule,
    check_targets,
    check_threshold,
    format_duration,
    parse_duration,
)
from core.alerts.state import Transition


@pytest.mark.parametrize(
    "text, seconds", [("0s", 0), ("30s", 30), ("5m", 300), ("1h30m", 5400), ("1d", 86400), (45, 45)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "5", "5x", "m5", "-5m", "1h 30m", True])
def test_not_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    "kind, stream, consumer, team, fields",
    [
        ("consumer_lag", "s", "c", None, []),
        ("consumer_lag", "s", None, None, ["consumer"]),
        ("consumer_lag", None, None, None, ["stream", "consumer"]),
        ("storage_pct", "s", "c", None, ["consumer"]),
        ("server_health", "s", None, None, ["stream"]),
        ("quota_pct", None, None, uuid.uuid4(), []),
        ("mirror_lag", "s", None, uuid.uuid4(), ["team_id"]),
    ],
)
def test_targets_of_each_kind(kind, stream, consumer, team, fields):
    assert [f for f, _ in check_targets(kind, stream, consumer, team)] == fields


@pytest.mark.parametrize(
    "kind, threshold, ok",
    [
        ("storage_pct", 80, True),
        ("storage_pct", 120, False),
        ("consumer_lag", -1, False),
        ("server_health", 0, True),
        ("server_health", 1, False),
        ("rate_anomaly", 0.5, True),
    ],
)
def test_thresholds(kind, threshold, ok):
    assert (check_threshold(kind, threshold) is None) is ok


def rule(**kw) -> Rule:
    base = dict(
        id=uuid.uuid4(),
        org_id=uuid.uuid4(),
        name="orders lag",
        kind="consumer_lag",
        cluster_id=uuid.uuid4(),
        stream="ORDERS",
        consumer="billing",
        team_id=None,
        threshold=100,
        for_s=300,
        cooldown_s=900,
        severity="critical",
        channels=(),
    )
    return Rule(**{**base, **kw})


def test_an_event_id_is_the_rule_and_transition():
    r = rule()
    assert event_id(r.id, 3) == event_id(r.id, 3) != event_id(r.id, 4)


def test_an_event_names_where_to_look_next():
    r = rule()
    got = links(r)
    assert got["consumer"] == f"/api/v1/clusters/{r.cluster_id}/streams/ORDERS/consumers/billing"
    assert got["chart"] == (
        f"/api/v1/analytics/consumers/billing/lag?cluster_id={r.cluster_id}&stream=ORDERS"
    )
    stream_rule = rule(kind="storage_pct", consumer=None)
    assert links(stream_rule)["chart"] == (
        f"/api/v1/analytics/streams/ORDERS/throughput?cluster_id={stream_rule.cluster_id}"
    )
    assert "consumer" not in links(stream_rule)


def test_the_webhook_body_is_slack_compatible():
    r = rule(name="a <b> & c")
    e = make_event(r, Transition(1, "firing", True, 150.0, datetime.now(UTC)))
    body = json.loads(webhook_body(e, "https://console.example.com"))
    assert body["text"].startswith(":rotating_light: [critical] a &lt;b&gt; &amp; c")
    assert "150" in body["text"] and "over 100 for 5m" in body["text"]
    assert body["blocks"][0]["text"]["type"] == "mrkdwn"
    assert (
        "https://console.example.com/api/v1/analytics/consumers/billing/lag"
        in body["blocks"][0]["text"]["text"]
    )
    assert body["event"] == "alert" and body["alert"]["id"] == str(e.id)


def test_every_kind_has_a_message():
    for kind in KINDS:
        e = make_event(rule(kind=kind), Transition(1, "firing", True, 1.0, datetime.now(UTC)))
        assert e.message.startswith("orders lag: ")
