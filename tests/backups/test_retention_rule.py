"""The retention rule of a schedule, as a table: a backup expires when older than its cadence's
retention, unless an unexpired backup's chain needs it or it is the newest completed full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.backups.retention import Kept, expired

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def full(id: str, age: float, status: str = "completed") -> Kept:
    return Kept(id=id, kind="full", status=status, at=days_ago(age), chain=(id,))


def inc(id: str, age: float, chain: tuple[str, ...], status: str = "completed") -> Kept:
    return Kept(id=id, kind="incremental", status=status, at=days_ago(age), chain=chain + (id,))


@pytest.mark.parametrize(
    "backups, full_days, inc_days, gone",
    [
        # old fulls go, the newest full stays even when old itself
        ([full("f1", 40), full("f2", 35), full("f3", 31)], 30, None, ["f1", "f2"]),
        ([full("f1", 40), full("f2", 5)], 30, None, ["f1"]),
        # an old full that a young incremental needs stays, with the chain between
        # (f2, the newest full, stays however old)
        (
            [full("f1", 40), inc("i1", 39, ("f1",)), inc("i2", 1, ("f1", "i1")), full("f2", 35)],
            30,
            7,
            [],
        ),
        # incrementals keep their own, shorter retention
        ([full("f1", 10), inc("i1", 9, ("f1",)), inc("i2", 2, ("f1", "i1"))], 30, 7, []),
        (
            [full("f1", 10), inc("i1", 9, ("f1",)), full("f2", 3), inc("i3", 2, ("f2",))],
            30,
            7,
            ["i1"],
        ),
        # without an incremental cadence, incrementals keep the full one's retention
        ([full("f1", 50), inc("i1", 45, ("f1",)), full("f2", 1)], 30, None, ["f1", "i1"]),
        # failed backups go once old and keep nothing alive; running ones never go
        ([full("f1", 40), inc("x", 1, ("f1",), status="failed"), full("f2", 2)], 30, 7, ["f1"]),
        ([full("f1", 40), full("r", 40, status="running"), full("f2", 2)], 30, 7, ["f1"]),
        ([full("bad", 40, status="failed"), full("f2", 39)], 30, 7, ["bad"]),
        # nothing old: nothing goes
        ([full("f1", 1), inc("i1", 0.5, ("f1",))], 30, 7, []),
    ],
)
def test_which_backups_expire(backups, full_days, inc_days, gone):
    assert expired(backups, full_days=full_days, incremental_days=inc_days, now=NOW) == gone


def test_the_newest_completed_full_is_kept_however_old():
    backups = [full("f1", 400), full("f2", 300), inc("i1", 299, ("f2",))]
    assert expired(backups, full_days=1, incremental_days=1, now=NOW) == ["f1", "i1"]
