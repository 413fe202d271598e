"""The CLI's input parsing, without the stack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cli.client import CliError
from cli.commands.quotas import fmt_amount, parse_limit
from cli.common import go_duration, parse_size, parse_when, split_values
from cli.config import normalize_url
from cli.output import announce_pending, fmt_age, fmt_ns


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1048576", 1048576),
        ("512MB", 512 * 1024**2),
        ("1.5GiB", int(1.5 * 1024**3)),
        ("10k", 10240),
        ("-1", -1),
        ("unlimited", -1),
    ],
)
def test_sizes(text, expected):
    assert parse_size(text, "--max-bytes") == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("72h", "72h"),
        ("1h30m", "1h30m"),
        ("7d", "168h"),
        ("1w", "168h"),
        ("30s", "30s"),
        ("0", "0s"),
    ],
)
def test_durations(text, expected):
    assert go_duration(text, "--max-age") == expected


@pytest.mark.parametrize("bad", ["3 days", "72x", "h"])
def test_bad_inputs_are_sentences(bad):
    with pytest.raises(CliError, match="is not a duration"):
        go_duration(bad, "--max-age")
    with pytest.raises(CliError, match="is not a size"):
        parse_size(bad, "--max-bytes")


def test_times_and_the_rest():
    assert parse_when("2025-06-01T12:00:00", "--since") == "2025-06-01T12:00:00+00:00"
    ago = datetime.fromisoformat(parse_when("2h", "--since"))
    assert abs(datetime.now(UTC) - timedelta(hours=2) - ago) < timedelta(seconds=5)
    assert split_values(["a,b", " c "]) == ["a", "b", "c"]
    assert normalize_url("localhost:8000/api/v1/") == "http://localhost:8000"
    assert fmt_ns(72 * 3600 * 10**9) == "3d" and fmt_ns(90 * 10**9) == "1m30s"
    assert fmt_ns(0) == "unlimited" and fmt_ns(int(1.5e9)) == "1.5s"


def test_quota_limits_and_amounts():
    assert parse_limit("storage_bytes", "500GB", "LIMIT") == 500 * 1024**3
    assert parse_limit("streams", "1_000", "LIMIT") == 1000
    assert parse_limit("consumers", "unlimited", "LIMIT") is None
    with pytest.raises(CliError, match="not a whole number"):
        parse_limit("streams", "5GB", "LIMIT")
    with pytest.raises(CliError, match="cannot be negative"):
        parse_limit("streams", "-3", "LIMIT")
    assert fmt_amount("storage_bytes", 1000 * 1024**3) == "1000.0 GiB"
    assert fmt_amount("inbound_rate", 1500) == "1,500 msg/s"
    assert fmt_amount("streams", None) == "unlimited"
    assert fmt_amount("messages", None, none="not measured") == "not measured"


def test_pending_answers_and_ages(capsys):
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert fmt_age("2025-06-01T11:59:15Z", now) == "45s"
    assert fmt_age("2025-06-01T09:00:00+00:00", now) == "3h"
    assert fmt_age("2025-05-29T12:00:00Z", now) == "3d"
    assert not announce_pending(None) and not announce_pending({"id": "op", "status": "pending"})
    assert announce_pending(
        {
            "request_id": "0123456789ab",
            "operation_id": "x",
            "status": "waiting_approval",
            "title": "Delete stream S",
            "reasons": ["Needs 1 approval(s) from role admin (Admins)."],
        }
    )
    out = capsys.readouterr().out
    assert "Sent for approval: Delete stream S (request 01234567…)" in out
    assert "Needs 1 approval(s) from role admin" in out
    assert "Follow it with: jsc approval get 0123456789ab" in out
