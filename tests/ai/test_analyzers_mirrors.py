"""The mirror analyzer as a table: a stream's mirror / sources info as the server reports it,
with or without the replication map's edge -> behind or broken."""

from __future__ import annotations

import pytest

from ai.analyzers.mirrors import analyze_links
from tests.ai.analyzer_data import NOW, ago, stream

S = 1_000_000_000  # ns
EXTERNAL = {"api": "$JS.hub.API"}


def mirror(lag=0, active=S // 2, error=None, created=None, external=None):
    info = {"name": "SRC", "lag": lag, "active": active}
    if error:
        info["error"] = {"code": 404, "err_code": 10059, "description": error}
    config = {"name": "SRC", **({"external": external} if external else {})}
    return {**stream("MIR", subjects=[], mirror=config, created=created), "mirror": info}


def sourced(*infos):
    return {**stream("AGG", sources=[{"name": i["name"]} for i in infos]), "sources": list(infos)}


def edge(status="in_sync", lag=0, lag_s=0.0, kind="mirror", source="SRC", error=None):
    return {
        "kind": kind,
        "source_stream": source,
        "status": status,
        "lag_messages": lag,
        "lag_seconds": lag_s,
        "source_cluster_id": "hub-id",
        "source_cluster_name": "hub",
        "source_domain": "hub",
        "error": error,
        "measured_at": NOW.isoformat(),
    }


# (case, stream, edges, [(code, severity)])
CASES = [
    ("in sync", mirror(), None, []),
    ("not a mirror", stream(), None, []),
    ("a little behind", mirror(lag=10), None, []),
    ("1000 behind", mirror(lag=1000), None, [("mirror_behind", "warning")]),
    ("far behind", mirror(lag=250_000), None, [("mirror_behind", "critical")]),
    (
        "server error",
        mirror(error="stream not found", active=18 * S),
        None,
        [("mirror_broken", "critical")],
    ),
    (
        "never connected, error",
        mirror(error="stream not found", active=-1),
        None,
        [("mirror_broken", "critical")],
    ),
    ("silent for two minutes", mirror(active=120 * S), None, [("mirror_broken", "critical")]),
    ("silent for 5 s", mirror(active=5 * S), None, []),
    (
        "never heard, created an hour ago",
        mirror(active=-1, created=ago(3600)),
        None,
        [("mirror_broken", "critical")],
    ),
    ("never heard, just created", mirror(active=-1, created=ago(5)), None, []),
    (
        "paused: the map counts the lag",
        mirror(),
        [edge("paused", lag=1500, lag_s=20)],
        [("mirror_behind", "warning")],
    ),
    (
        "paused and silent is not broken",
        mirror(active=600 * S),
        [edge("paused", lag=3, lag_s=9)],
        [],
    ),
    (
        "behind by time only",
        mirror(),
        [edge("behind", lag=40, lag_s=600)],
        [("mirror_behind", "warning")],
    ),
    (
        "behind by an hour",
        mirror(),
        [edge("behind", lag=40, lag_s=4000)],
        [("mirror_behind", "critical")],
    ),
    (
        "the map says the link is broken",
        mirror(),
        [edge("broken_link", lag=3, error="the target cluster cannot be reached")],
        [("mirror_broken", "critical")],
    ),
    (
        "an edge of another link is ignored",
        mirror(),
        [edge("broken_link", source="OTHER", error="x")],
        [],
    ),
    (
        "a source behind",
        sourced({"name": "A", "lag": 0, "active": S}, {"name": "B", "lag": 5000, "active": S}),
        None,
        [("mirror_behind", "warning")],
    ),
    (
        "a source broken",
        sourced({"name": "A", "lag": 0, "active": S, "error": {"description": "stream not found"}}),
        None,
        [("mirror_broken", "critical")],
    ),
]


@pytest.mark.parametrize("case, info, edges, expected", CASES, ids=[c[0] for c in CASES])
def test_link_findings(case, info, edges, expected):
    found = analyze_links(info, edges, now=NOW, cluster_id="dr-1")
    assert sorted((f.code, f.severity) for f in found) == sorted(expected)
    for finding in found:
        assert finding.cluster_id == "dr-1" and finding.stream == info["config"]["name"]
        assert finding.evidence and finding.suggestion


def test_broken_gives_the_server_error_and_where_the_source_is():
    (found,) = analyze_links(
        mirror(error="stream not found", active=18 * S, external=EXTERNAL), now=NOW
    )
    assert found.title == "Mirror MIR is broken"
    assert "stream not found" in found.summary and "$JS.hub.API" in found.summary
    assert found.evidence["source_stream"] == "SRC" and found.evidence["active_s"] == 18.0
    assert found.evidence["error"]["description"] == "stream not found"


def test_paused_says_so_and_the_map_figures_are_evidence():
    (found,) = analyze_links(mirror(), [edge("paused", lag=1500, lag_s=20)], now=NOW)
    assert found.evidence["lag_messages"] == 1500 and found.evidence["status"] == "paused"
    assert found.evidence["lag"] == 0  # the server's own figure does not move while paused
    assert "1,500 messages of SRC on cluster hub" in found.summary and "paused" in found.summary
    assert found.suggestion.startswith("Resume")


def test_a_source_is_named_as_such():
    (found,) = analyze_links(sourced({"name": "B", "lag": 5000, "active": S}), now=NOW)
    assert found.title == "Stream AGG's source B is behind" and found.evidence["kind"] == "source"
