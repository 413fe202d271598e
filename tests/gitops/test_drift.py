"""Drift computed from git and live state, what a repository manages, and who changed a drifted
resource (the pure parts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from gitops.attribution import Change, pick, since_per_row
from gitops.drift import find_drift
from gitops.manifests import Resource
from gitops.ownership import applied_of, managed_by
from gitops.planner import Live


def res(kind, name, stream=None, **config):
    return Resource(kind, name, stream, config, "environments/dev/a.yaml", 3)


def test_changed_missing_and_unmanaged():
    desired = [
        res("stream", "APP_A", subjects=["a.>"], max_age=3600 * 10**9),
        res("consumer", "w", "APP_A", durable_name="w", ack_policy="explicit"),
        res("stream", "APP_GONE", subjects=["g.>"]),
    ]
    live = [
        Live(
            "stream",
            "APP_A",
            None,
            {"name": "APP_A", "subjects": ["a.>"], "max_age": 7200 * 10**9, "max_bytes": 5},
        ),
        Live("stream", "APP_EXTRA", None, {"name": "APP_EXTRA", "subjects": ["x.>"]}),
        Live("stream", "OTHER", None, {"name": "OTHER"}),
    ]
    items = {
        i.resource: i
        for i in find_drift(desired, live, lambda k, n, s: (s or n).startswith("APP_"))
    }
    assert set(items) == {"stream APP_A", "consumer APP_A/w", "stream APP_GONE", "stream APP_EXTRA"}
    assert items["stream APP_A"].drift_type == "changed"
    assert items["stream APP_A"].fields == [
        {"field": "max_age", "git": 3600 * 10**9, "live": 7200 * 10**9}
    ]
    assert items["stream APP_A"].source == "environments/dev/a.yaml:3"
    assert items["consumer APP_A/w"].drift_type == "missing"
    assert items["stream APP_GONE"].drift_type == "missing"
    assert (
        items["stream APP_EXTRA"].drift_type == "unmanaged"
        and items["stream APP_EXTRA"].source == ""
    )


def test_nothing_drifts_when_live_matches_and_unset_fields_are_not_drift():
    desired = [res("stream", "S", subjects=["s.>"])]
    live = [Live("stream", "S", None, {"name": "S", "subjects": ["s.>"], "max_bytes": 99})]
    assert find_drift(desired, live, lambda k, n, s: True) == []


def test_what_a_repository_applied_stays_managed_until_it_deletes_it():
    results = [
        [
            {"environment": "dev", "resource": "stream A", "action": "create", "status": "applied"},
            {"environment": "dev", "resource": "stream B", "action": "create", "status": "failed"},
            {
                "environment": "prod",
                "resource": "stream A",
                "action": "create",
                "status": "applied",
            },
        ],
        [
            {
                "environment": "dev",
                "resource": "consumer A/w",
                "action": "update",
                "status": "applied",
            }
        ],
        [{"environment": "prod", "resource": "stream A", "action": "delete", "status": "applied"}],
    ]
    applied = applied_of(results)
    assert applied == {"dev": {"stream A", "consumer A/w"}, "prod": set()}
    managed = managed_by(["APP_"], applied["dev"])
    assert managed("stream", "A", None) and managed("consumer", "w", "A")
    assert managed("stream", "APP_X", None) and managed("consumer", "c", "APP_X")
    assert not managed("stream", "B", None) and not managed("consumer", "other", "A")


def test_a_resource_removed_from_git_after_a_sync_applied_it_is_unmanaged():
    live = [
        Live("stream", "KEPT", None, {"name": "KEPT", "subjects": ["k.>"]}),
        Live("stream", "OLD", None, {"name": "OLD", "subjects": ["o.>"]}),
        Live("stream", "THEIRS", None, {"name": "THEIRS"}),
    ]
    items = find_drift(
        [res("stream", "KEPT", subjects=["k.>"])],
        live,
        managed_by([], {"stream KEPT", "stream OLD"}),
    )
    assert [(i.resource, i.drift_type) for i in items] == [("stream OLD", "unmanaged")]


def _row(drift_type="changed", env="dev", resource="stream A", changed_by=None):
    return SimpleNamespace(
        id=uuid.uuid4(),
        environment=env,
        resource=resource,
        drift_type=drift_type,
        changed_by=changed_by or {"source": "outside"},
    )


def test_the_last_sync_covering_a_resource_is_a_full_sync_or_a_revert_that_applied_it():
    t = [datetime(2026, 1, d, tzinfo=UTC) for d in range(1, 5)]
    a, b, c = _row(resource="stream A"), _row(resource="stream B"), _row(env="prod")
    syncs = [
        ("push", t[0], []),
        ("webhook", t[1], []),
        (
            "drift_revert",
            t[2],
            [
                {"environment": "dev", "resource": "stream A", "status": "applied"},
                {"environment": "dev", "resource": "stream B", "status": "failed"},
            ],
        ),
    ]
    since = since_per_row([a, b, c], syncs)
    assert since == {a.id: t[2], b.id: t[1], c.id: t[1]}
    assert since_per_row([a], []) == {a.id: None}


def test_console_changes_after_the_sync_name_their_author_else_outside():
    since = datetime(2026, 1, 2, tzinfo=UTC)
    row = _row()
    old = Change(datetime(2026, 1, 1, tzinfo=UTC), "old@example.com", "stream.update", "1")
    new = Change(datetime(2026, 1, 3, tzinfo=UTC), "ann@example.com", "stream.update", "2")
    approved = Change(
        datetime(2026, 1, 4, tzinfo=UTC),
        "bob@example.com",
        "stream.update",
        "3",
        request_id="r1",
        approved_by=("cy@example.com",),
    )
    assert pick(row, since, [old, new]) == {
        "source": "console",
        "actor": "ann@example.com",
        "at": new.at.isoformat(),
        "audit_id": "2",
        "action": "stream.update",
    }
    assert pick(row, since, [new, approved])["approved_by"] == ["cy@example.com"]
    assert pick(row, since, [old])["source"] == "outside"
    assert "at" not in pick(row, since, [old])


def test_an_outside_change_is_dated_when_the_cluster_created_the_resource_since():
    since = datetime(2026, 1, 2, tzinfo=UTC)
    recreated = _row(changed_by={"source": "outside", "created": "2026-01-03T10:00:00.123456789Z"})
    assert pick(recreated, since, [])["at"] == "2026-01-03T10:00:00.123456+00:00"
    older = _row(changed_by={"source": "outside", "created": "2025-12-01T00:00:00Z"})
    assert "at" not in pick(older, since, [])
    extra = _row("unmanaged", changed_by={"source": "outside", "created": "2025-12-01T00:00:00Z"})
    who = pick(extra, since, [])
    assert who["at"].startswith("2025-12-01") and "created" in who["note"]
    assert (
        pick(_row(changed_by={"source": "outside", "created": "not a time"}), None, [])["source"]
        == "outside"
    )
