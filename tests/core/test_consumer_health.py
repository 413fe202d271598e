"""Consumer health scores, as a table over CONSUMER.INFO shapes."""

from __future__ import annotations

import pytest

from core.jetstream.health import consumer_health


def info(pending=0, ack_pending=0, max_ack=1000, delivered=100, redelivered=0, waiting=1):
    return {
        "config": {"max_ack_pending": max_ack},
        "num_pending": pending,
        "num_ack_pending": ack_pending,
        "delivered": {"consumer_seq": delivered},
        "num_redelivered": redelivered,
        "num_waiting": waiting,
    }


@pytest.mark.parametrize(
    "kwargs, status, score, component, component_status",
    [
        ({}, "healthy", 100, "lag", "healthy"),
        ({"pending": 5_000}, "healthy", 84, "lag", "warning"),
        ({"pending": 50_000}, "warning", 68, "lag", "critical"),
        ({"ack_pending": 600}, "healthy", 89, "ack_pending", "warning"),
        ({"ack_pending": 900}, "warning", 79, "ack_pending", "critical"),
        ({"redelivered": 3}, "healthy", 92, "redelivery", "warning"),
        ({"redelivered": 10}, "healthy", 84, "redelivery", "critical"),
        ({"pending": 10, "waiting": 0}, "healthy", 89, "connection", "critical"),
        ({"pending": 0, "waiting": 0}, "healthy", 100, "connection", "healthy"),
        (
            {"pending": 50_000, "ack_pending": 900, "redelivered": 50, "waiting": 0},
            "critical",
            20,
            "lag",
            "critical",
        ),
    ],
)
def test_health_table(kwargs, status, score, component, component_status):
    health = consumer_health(info(**kwargs))
    parts = {p["name"]: p for p in health["components"]}
    assert (health["status"], health["score"]) == (status, score)
    assert parts[component]["status"] == component_status
    assert parts["processing_rate"]["status"] is None  # not measured without a time series


def test_processing_rate_counts_when_measured():
    slow = consumer_health(info(), rate_ratio=0.3)
    assert {p["name"]: p["status"] for p in slow["components"]}["processing_rate"] == "critical"
    assert slow["score"] == 80
