"""The quota analyzer as a table: a team's quota report -> usage near a quota."""

from __future__ import annotations

import pytest

from ai.analyzers.quotas import analyze_quotas


def report(*lines):
    return {
        "team_id": "t-1",
        "team_name": "payments",
        "unreachable": [],
        "resources": [],
        "items": [
            {
                "resource": r,
                "label": r,
                "limit": limit,
                "usage": usage,
                "percent": None if not limit or usage is None else usage / limit * 100,
            }
            for r, limit, usage in lines
        ],
    }


# (case, lines (resource, limit, usage), [(code, severity)])
CASES = [
    ("unlimited", [("streams", None, 40)], []),
    ("half", [("streams", 10, 5)], []),
    ("84 %", [("messages", 100, 84)], []),
    ("85 %", [("messages", 100, 85)], [("quota_near_limit", "warning")]),
    ("all used", [("streams", 4, 4)], [("quota_near_limit", "critical")]),
    ("over", [("consumers", 4, 6)], [("quota_near_limit", "critical")]),
    ("storage", [("storage_bytes", 1000, 900)], [("quota_near_limit", "warning")]),
    ("rate not measured yet", [("inbound_rate", 100, None)], []),
    ("a rate near", [("inbound_rate", 100, 95.5)], [("quota_near_limit", "warning")]),
    ("a ceiling is not used up", [("max_msg_size", 1024, 1024), ("max_replicas", 3, 3)], []),
    ("a zero limit", [("streams", 0, 0)], []),
    (
        "two near",
        [("streams", 10, 9), ("consumers", 10, 10), ("messages", 10, 1)],
        [("quota_near_limit", "warning"), ("quota_near_limit", "critical")],
    ),
]


@pytest.mark.parametrize("case, lines, expected", CASES, ids=[c[0] for c in CASES])
def test_quota_findings(case, lines, expected):
    found = analyze_quotas(report(*lines))
    assert sorted((f.code, f.severity) for f in found) == sorted(expected)
    for finding in found:
        assert finding.team_id == "t-1" and finding.cluster_id is None
        assert (
            finding.evidence["team_name"] == "payments" and "quota-requests" in finding.suggestion
        )


def test_quota_evidence():
    (found,) = analyze_quotas(report(("storage_bytes", 1024 * 1024, 900 * 1024)))
    assert found.evidence == {
        "resource": "storage_bytes",
        "limit": 1024 * 1024,
        "usage": 900 * 1024,
        "ratio": 0.879,
        "team_name": "payments",
    }
    assert found.title == "Team payments has used 88% of its storage quota"
    assert "900.0 KiB of 1.0 MiB storage" in found.summary
