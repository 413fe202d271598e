"""The stream analyzers as tables: a stream's info -> storage near a limit, idle."""

from __future__ import annotations

import pytest

from ai.analyzers.streams import analyze_stream
from tests.ai.analyzer_data import NOW, ago, stream

MB = 1024 * 1024
# (case, stream, [(code, severity)])
CASES = [
    ("no limits", stream(messages=10**6, bytes_=10**9), []),
    ("half full", stream(messages=50, max_msgs=100), []),
    ("84 % of max_msgs", stream(messages=84, max_msgs=100), []),
    ("85 % of max_msgs", stream(messages=85, max_msgs=100), [("storage_near_limit", "warning")]),
    ("full, discard old", stream(messages=10, max_msgs=10), [("storage_near_limit", "warning")]),
    (
        "full, discard new",
        stream(messages=10, max_msgs=10, discard="new"),
        [("storage_near_limit", "critical")],
    ),
    (
        "90 % bytes, discard new",
        stream(messages=5, bytes_=9 * MB, max_bytes=10 * MB, discard="new"),
        [("storage_near_limit", "warning")],
    ),
    (
        "96 % bytes, discard new",
        stream(messages=5, bytes_=int(9.6 * MB), max_bytes=10 * MB, discard="new"),
        [("storage_near_limit", "critical")],
    ),
    (
        "bytes fine, messages near",
        stream(messages=95, max_msgs=100, bytes_=1, max_bytes=10 * MB),
        [("storage_near_limit", "warning")],
    ),
    ("idle for two days", stream(messages=3, last_ts=ago(2 * 86400)), [("stream_idle", "info")]),
    ("last message an hour ago", stream(messages=3, last_ts=ago(3600)), []),
    ("never a message, created a week ago", stream(), [("stream_idle", "info")]),
    ("never a message, created an hour ago", stream(created=ago(3600)), []),
    (
        "a mirror is not idle here",
        stream(subjects=[], mirror={"name": "SRC"}, last_ts=ago(5 * 86400), messages=1),
        [],
    ),
    ("no subjects of its own", stream(subjects=[], messages=1, last_ts=ago(5 * 86400)), []),
    (
        "full and idle",
        stream(messages=10, max_msgs=10, last_ts=ago(3 * 86400)),
        [("storage_near_limit", "warning"), ("stream_idle", "info")],
    ),
]


@pytest.mark.parametrize("case, info, expected", CASES, ids=[c[0] for c in CASES])
def test_stream_findings(case, info, expected):
    found = analyze_stream(info, now=NOW, cluster_id="c-1")
    assert sorted((f.code, f.severity) for f in found) == sorted(expected)
    for finding in found:
        assert finding.stream == "ORDERS" and finding.cluster_id == "c-1"
        assert finding.consumer is None and finding.evidence and finding.suggestion


def test_storage_gives_both_dimensions_and_the_fuller_one():
    (found,) = analyze_stream(
        stream(messages=95, max_msgs=100, bytes_=MB, max_bytes=10 * MB, discard="new"), now=NOW
    )
    assert found.evidence == {
        "bytes": MB,
        "max_bytes": 10 * MB,
        "messages": 95,
        "max_msgs": 100,
        "ratio": 0.95,
        "limit": "max_msgs",
        "discard": "new",
    }
    assert found.title == "Stream ORDERS is 95% full"
    assert "95 messages of max_msgs 100" in found.summary and "refuses" in found.summary
    (old,) = analyze_stream(stream(messages=1, bytes_=9 * MB, max_bytes=10 * MB), now=NOW)
    assert "9.0 MiB of max_bytes 10.0 MiB" in old.summary and "oldest" in old.summary


def test_idle_says_since_when():
    (found,) = analyze_stream(stream(messages=3, last_ts=ago(2 * 86400)), now=NOW)
    assert found.evidence["idle_for_s"] == 2 * 86400 and found.evidence["messages"] == 3
    assert "2 days ago" in found.summary and "orders.>" in found.summary
    (never,) = analyze_stream(stream(), now=NOW)
    assert never.evidence["last_message_at"] is None
    assert "no message since it was created 7 days ago" in never.summary
