"""Drift computed from git and live state (pure)."""

from __future__ import annotations

from gitops.drift import find_drift
from gitops.manifests import Resource
from gitops.planner import Live


def res(kind, name, stream=None, **config):
    return Resource(kind, name, stream, config, "environments/dev/a.yaml", 3)


def test_changed_missing_and_unmanaged():
    desired = [res("stream", "APP_A", subjects=["a.>"], max_age=3600 * 10**9),
               res("consumer", "w", "APP_A", durable_name="w", ack_policy="explicit"),
               res("stream", "APP_GONE", subjects=["g.>"])]
    live = [Live("stream", "APP_A", None, {"name": "APP_A", "subjects": ["a.>"],
                                             "max_age": 7200 * 10**9, "max_bytes": 5}),
            Live("stream", "APP_EXTRA", None, {"name": "APP_EXTRA", "subjects": ["x.>"]}),
            Live("stream", "OTHER", None, {"name": "OTHER"})]
    items = {i.resource: i for i in find_drift(desired, live,
                                               lambda k, n, s: (s or n).startswith("APP_"))}
    assert set(items) == {"stream APP_A", "consumer APP_A/w", "stream APP_GONE", "stream APP_EXTRA"}
    assert items["stream APP_A"].drift_type == "changed"
    assert items["stream APP_A"].fields == [{"field": "max_age", "git": 3600 * 10**9,
                                              "live": 7200 * 10**9}]
    assert items["stream APP_A"].source == "environments/dev/a.yaml:3"
    assert items["consumer APP_A/w"].drift_type == "missing"
    assert items["stream APP_GONE"].drift_type == "missing"
    assert items["stream APP_EXTRA"].drift_type == "unmanaged" and items["stream APP_EXTRA"].source == ""


def test_nothing_drifts_when_live_matches_and_unset_fields_are_not_drift():
    desired = [res("stream", "S", subjects=["s.>"])]
    live = [Live("stream", "S", None, {"name": "S", "subjects": ["s.>"], "max_bytes": 99})]
    assert find_drift(desired, live, lambda k, n, s: True) == []
