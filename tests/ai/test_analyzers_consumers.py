"""The consumer analyzers as tables: a consumer's info (and its stream's, its lag history, its
filter's message counts) -> the findings, by code and severity, with their evidence."""

from __future__ import annotations

import pytest

from ai.analyzers.consumers import analyze_consumer, filters_to_count
from ai.analyzers.thresholds import Thresholds
from tests.ai.analyzer_data import NOW, ago, consumer, history, stream

HEALTHY = consumer(delivered_seq=100, last_ack=ago(1), last_delivery=ago(1))
FULL_STREAM = stream(messages=100, bytes_=4000, num_subjects=3)

# (case, stream, consumer, lag history, filter counts, [(code, severity)])
CASES = [
    ("healthy", stream(), HEALTHY, None, None, []),
    # lag growing
    (
        "lag rising steadily",
        stream(),
        consumer(pending=240, last_ack=ago(1)),
        history(0, 60, 120, 180, 240),
        None,
        [("consumer_lag_growing", "warning")],
    ),
    (
        "lag rising by more than the critical rise",
        stream(),
        consumer(pending=20_000, last_ack=ago(1)),
        history(0, 5000, 12_000, 20_000),
        None,
        [("consumer_lag_growing", "critical")],
    ),
    (
        "lag rising, noisy but a trend",
        stream(),
        consumer(pending=500, last_ack=ago(1)),
        history(0, 100, 200, 180, 300, 400, 500),
        None,
        [("consumer_lag_growing", "warning")],
    ),
    (
        "lag going up and down",
        stream(),
        consumer(pending=400, last_ack=ago(1)),
        history(0, 300, 100, 400, 200, 400, 150, 400),
        None,
        [],
    ),
    (
        "lag that came back down",
        stream(),
        consumer(pending=100, last_ack=ago(1)),
        history(0, 500, 1000, 100),
        None,
        [],
    ),
    (
        "a small rise is noise",
        stream(),
        consumer(pending=50, last_ack=ago(1)),
        history(0, 10, 30, 50),
        None,
        [],
    ),
    (
        "two points are not a trend",
        stream(),
        consumer(pending=900, last_ack=ago(1)),
        history(0, 900),
        None,
        [],
    ),
    ("no history", stream(), consumer(pending=900, last_ack=ago(1)), {}, None, []),
    # stalled
    (
        "pending, never delivered, created 10 min ago",
        stream(),
        consumer(pending=10, created=ago(600)),
        None,
        None,
        [("consumer_stalled", "warning")],
    ),
    (
        "pending, created a minute ago",
        stream(),
        consumer(pending=10, created=ago(60)),
        None,
        None,
        [],
    ),
    (
        "delivered, not acked for 40 min",
        stream(),
        consumer(ack_pending=5, delivered_seq=5, last_delivery=ago(2400), last_ack=ago(2400)),
        None,
        None,
        [("consumer_stalled", "critical")],
    ),
    (
        "pending, last ack a minute ago",
        stream(),
        consumer(pending=10, last_ack=ago(60)),
        None,
        None,
        [],
    ),
    ("nothing outstanding for a day", stream(), consumer(last_ack=ago(86400)), None, None, []),
    (
        "a pull request is waiting",
        stream(),
        consumer(pending=10, waiting=1, last_ack=ago(3600)),
        None,
        None,
        [],
    ),
    (
        "paused on purpose",
        stream(),
        {**consumer(pending=10, created=ago(3600)), "paused": True},
        None,
        None,
        [],
    ),
    (
        "ack policy none: nothing delivered for 10 min",
        stream(),
        consumer(pending=10, last_delivery=ago(600), ack_policy="none"),
        None,
        None,
        [("consumer_stalled", "warning")],
    ),
    (
        "ack policy none: delivering",
        stream(),
        consumer(pending=10, last_delivery=ago(2), ack_policy="none"),
        None,
        None,
        [],
    ),
    # redelivery storm
    (
        "15 of 35 deliveries redelivered",
        stream(),
        consumer(ack_pending=15, redelivered=15, delivered_seq=35, last_ack=ago(1)),
        None,
        None,
        [("redelivery_storm", "warning")],
    ),
    (
        "half the deliveries redelivered",
        stream(),
        consumer(ack_pending=20, redelivered=20, delivered_seq=40, last_ack=ago(1)),
        None,
        None,
        [("redelivery_storm", "critical")],
    ),
    (
        "a few redeliveries",
        stream(),
        consumer(ack_pending=5, redelivered=5, delivered_seq=6, last_ack=ago(1)),
        None,
        None,
        [],
    ),
    (
        "redeliveries among many deliveries",
        stream(),
        consumer(ack_pending=15, redelivered=15, delivered_seq=1000, last_ack=ago(1)),
        None,
        None,
        [],
    ),
    # ack pending near max_ack_pending
    (
        "at max_ack_pending",
        stream(),
        consumer(ack_pending=10, delivered_seq=10, last_ack=ago(1), max_ack_pending=10),
        None,
        None,
        [("ack_pending_near_max", "critical")],
    ),
    (
        "at 90 % of max_ack_pending",
        stream(),
        consumer(ack_pending=9, delivered_seq=9, last_ack=ago(1), max_ack_pending=10),
        None,
        None,
        [("ack_pending_near_max", "warning")],
    ),
    (
        "at 80 % of max_ack_pending",
        stream(),
        consumer(ack_pending=8, delivered_seq=8, last_ack=ago(1), max_ack_pending=10),
        None,
        None,
        [],
    ),
    (
        "unlimited ack pending",
        stream(),
        consumer(ack_pending=8000, delivered_seq=8000, last_ack=ago(1), max_ack_pending=-1),
        None,
        None,
        [],
    ),
    # filter matches nothing
    (
        "filter outside the stream",
        stream(),
        consumer(filter_subject="other.x", last_ack=ago(1)),
        None,
        None,
        [("filter_matches_nothing", "critical")],
    ),
    (
        "filters all outside the stream",
        stream(),
        consumer(filter_subjects=["other.x", "billing.>"], last_ack=ago(1)),
        None,
        None,
        [("filter_matches_nothing", "critical")],
    ),
    (
        "part of the filter outside",
        stream(),
        consumer(filter_subjects=["orders.new", "other.x"], last_ack=ago(1)),
        None,
        None,
        [("filter_matches_nothing", "info")],
    ),
    (
        "filter inside, no message on it",
        FULL_STREAM,
        consumer(filter_subject="orders.refund", last_ack=ago(1)),
        None,
        {"orders.refund": 0},
        [("filter_matches_nothing", "warning")],
    ),
    (
        "filter inside, messages on it",
        FULL_STREAM,
        consumer(filter_subject="orders.refund", last_ack=ago(1)),
        None,
        {"orders.refund": 3},
        [],
    ),
    (
        "filter inside, counts not asked",
        FULL_STREAM,
        consumer(filter_subject="orders.refund", last_ack=ago(1)),
        None,
        None,
        [],
    ),
    (
        "filter on a wildcard inside",
        stream(),
        consumer(filter_subject="orders.*.eu", last_ack=ago(1)),
        None,
        None,
        [],
    ),
    (
        "a mirror's subjects cannot be told",
        stream(subjects=[], mirror={"name": "SRC"}),
        consumer(filter_subject="other.x", last_ack=ago(1)),
        None,
        None,
        [],
    ),
    (
        "sources bring any subject",
        stream(sources=[{"name": "SRC"}]),
        consumer(filter_subject="other.x", last_ack=ago(1)),
        None,
        None,
        [],
    ),
    # several at once
    (
        "stalled at max_ack_pending",
        stream(),
        consumer(
            pending=50,
            ack_pending=10,
            delivered_seq=10,
            last_ack=ago(900),
            max_ack_pending=10,
            last_delivery=ago(900),
        ),
        None,
        None,
        [("ack_pending_near_max", "critical"), ("consumer_stalled", "warning")],
    ),
]


@pytest.mark.parametrize(
    "case, stream_info, info, lag, counts, expected", CASES, ids=[c[0] for c in CASES]
)
def test_consumer_findings(case, stream_info, info, lag, counts, expected):
    found = analyze_consumer(
        stream_info, info, now=NOW, history=lag, subject_counts=counts, cluster_id="c-1"
    )
    assert sorted((f.code, f.severity) for f in found) == sorted(expected)
    for finding in found:
        assert finding.cluster_id == "c-1" and finding.stream == "ORDERS"
        assert finding.consumer == info["name"]
        assert finding.evidence and finding.suggestion and finding.summary


def _one(stream_info, info, **kw):
    (found,) = analyze_consumer(stream_info, info, now=NOW, **kw)
    return found


def test_lag_growing_gives_the_figures():
    found = _one(
        stream(),
        consumer(pending=240, last_ack=ago(1)),
        history=history(0, 60, 120, 180, 240, ack_rate=2.5),
    )
    assert found.evidence["lag_first"] == 0 and found.evidence["lag_last"] == 240
    assert found.evidence["rise"] == 240 and found.evidence["window_s"] == 20
    assert found.evidence["rise_per_s"] == 12 and found.evidence["ack_rate"] == 2.5
    assert "from 0 to 240 messages over 20 s" in found.summary and "2.5" in found.summary


def test_stalled_says_since_when_and_why():
    never = _one(stream(), consumer(pending=10, created=ago(600)))
    assert never.evidence["stalled_for_s"] == 600 and never.evidence["last_ack"] is None
    assert "since it was created 10 min ago" in never.summary
    assert "nothing is being delivered" in never.summary and "fetching" in never.suggestion
    unacked = _one(
        stream(),
        consumer(ack_pending=5, delivered_seq=5, last_ack=ago(2400), last_delivery=ago(2400)),
    )
    assert "for 40 min" in unacked.summary and "wait for an acknowledgement" in unacked.summary
    assert unacked.evidence["num_ack_pending"] == 5 and "acknowledge" in unacked.suggestion


def test_redelivery_storm_gives_the_ratio():
    found = _one(
        stream(), consumer(ack_pending=15, redelivered=15, delivered_seq=35, last_ack=ago(1))
    )
    assert found.evidence == {
        "num_redelivered": 15,
        "delivered": 35,
        "ratio": 0.429,
        "ack_wait_s": 30.0,
        "max_deliver": -1,
        "num_ack_pending": 15,
    }
    assert "43%" in found.summary and "max_deliver (now unlimited)" in found.suggestion


def test_filter_outside_names_both_sides():
    found = _one(stream(), consumer(filter_subject="other.x", last_ack=ago(1)))
    assert found.evidence["outside"] == ["other.x"]
    assert found.evidence["stream_subjects"] == ["orders.>"]
    assert "other.x" in found.summary and "orders.>" in found.summary


def test_thresholds_can_be_other_limits():
    strict = Thresholds(stalled_after_s=30)
    found = analyze_consumer(stream(), consumer(pending=10, created=ago(60)), now=NOW, t=strict)
    assert [f.code for f in found] == ["consumer_stalled"]


# (case, stream, consumer, the filters whose counts are worth a request)
TO_COUNT = [
    ("a narrower filter", FULL_STREAM, consumer(filter_subject="orders.refund"), ["orders.refund"]),
    ("the stream's own subject", FULL_STREAM, consumer(filter_subject="orders.>"), []),
    ("a wider filter", FULL_STREAM, consumer(filter_subject=">"), []),
    ("no filter", FULL_STREAM, consumer(), []),
    ("an empty stream", stream(), consumer(filter_subject="orders.refund"), []),
    ("a filter outside", FULL_STREAM, consumer(filter_subject="other.x"), []),
    (
        "too many subjects to list",
        stream(messages=100, num_subjects=50_000),
        consumer(filter_subject="orders.refund"),
        [],
    ),
    (
        "a mirror",
        stream(subjects=[], mirror={"name": "SRC"}, messages=10),
        consumer(filter_subject="orders.refund"),
        ["orders.refund"],
    ),
    ("two filters", FULL_STREAM, consumer(filter_subjects=["orders.a", "other.b"]), ["orders.a"]),
]


@pytest.mark.parametrize(
    "case, stream_info, info, expected", TO_COUNT, ids=[c[0] for c in TO_COUNT]
)
def test_which_filters_are_counted(case, stream_info, info, expected):
    assert filters_to_count(stream_info, info) == expected
