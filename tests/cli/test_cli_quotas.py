"""jsc quota against a team of an organization of its own, whose namespace is on a development
cluster (the stack's hub server): limits set and shown with live usage, a request auto-approved
and applied, a larger one sent for approval, and the history of every change."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.approvals.setup import production_org
from tests.cli.conftest import fails, signed_in, unique

MB, GB = 1024**2, 1024**3


@pytest.fixture
def team_org(api, stack, tmp_path):
    org = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    org.prefix = unique("clipay").lower() + "-"
    org.payments = org.team(unique("payments"), [], prefix=org.prefix)
    org.cli = signed_in(
        stack.api_url, tmp_path / "credentials.json", org.admin.email, org.admin.password
    )
    return org


def limits(org) -> dict:
    report = json.loads(org.cli.ok("quota", "show", org.payments["id"], "--json").stdout)
    assert report["team_name"] == org.payments["name"]
    return {line["resource"]: line["limit"] for line in report["items"]}


def wait_limit(org, resource: str, expected: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (current := limits(org)[resource]) != expected:
        assert time.monotonic() < deadline, f"{resource} is still {current}, not {expected}"
        time.sleep(0.3)


async def test_quota_set_show_request_history(team_org, hub_nc):
    org, team = team_org, team_org.payments["name"]
    out = org.cli.ok("quota", "set", team, "streams=5", "storage_bytes=100GB").stdout
    assert f"Quotas of team '{team}' set: streams = 5, storage_bytes = 100.0 GiB." in out
    assert limits(org) == {
        "streams": 5,
        "storage_bytes": 100 * GB,
        "consumers": None,
        "messages": None,
        "max_msg_size": None,
        "max_replicas": None,
        "inbound_rate": None,
        "outbound_rate": None,
    }

    js = hub_nc.jetstream()
    stream = f"{org.prefix}orders"
    await js.add_stream(name=stream, subjects=[f"{stream}.>"], max_bytes=10 * MB)
    try:
        shown = org.cli.ok("quota", "show", team).stdout
        assert re.search(r"streams\s+Streams\s+1\s+5\s+20%", shown), shown
        assert re.search(r"storage_bytes\s+Total storage\s+10\.0 MiB\s+100\.0 GiB", shown), shown
        assert re.search(r"consumers\s+Consumers\s+0\s+unlimited", shown), shown
        assert re.search(
            r"inbound_rate\s+Inbound rate \(msg/s\)\s+not measured\s+unlimited", shown
        ), shown
        assert f"Measured over 1 stream(s): {stream}." in shown

        fails(org.cli("quota", "request", team, "streams", "3", "-j", "fewer"), "already 5")
        fails(
            org.cli("quota", "request", team, "consumers", "20", "-j", "more"), "already unlimited"
        )
        auto = org.cli.ok(
            "quota",
            "request",
            team.upper(),
            "storage_bytes",
            "400GB",
            "--justification",
            "onboarding three processors",
        ).stdout
        assert "Auto-approved: Raise quota storage_bytes to 400 GB" in auto, auto
        assert "under 500 GB" in auto
        wait_limit(org, "storage_bytes", 400 * GB)

        big = org.cli.ok(
            "quota", "request", team, "storage_bytes", "1000GB", "-j", "a year of orders"
        ).stdout
        assert "Sent for approval: Raise quota storage_bytes" in big, big
        assert "Large Quota Requests" in big
        rid = re.search(r"jsc approval get ([0-9a-f-]{36})", big).group(1)
        asked = org.cli.ok("approval", "get", rid).stdout
        assert "storage_bytes: 400.0 GiB -> 1000.0 GiB" in asked, asked
        assert "a year of orders" in asked and team in asked  # the team by its name
        assert limits(org)["storage_bytes"] == 400 * GB  # unchanged until approved
    finally:
        await js.delete_stream(stream)

    org.cli.ok("quota", "set", org.payments["id"], "streams=unlimited")
    assert limits(org)["streams"] is None
    history = json.loads(org.cli.ok("quota", "history", team, "--json").stdout)["items"]
    entries = [(h["resource"], h["before"], h["after"], h["reason"]) for h in history]
    assert entries[:2] == [
        ("streams", 5, None, "set_by_admin"),
        ("storage_bytes", 100 * GB, 400 * GB, "requested"),
    ]
    assert sorted(entries[2:], key=str) == [
        ("storage_bytes", None, 100 * GB, "set_by_admin"),
        ("streams", None, 5, "set_by_admin"),
    ]
    table = org.cli.ok("quota", "history", team).stdout
    assert re.search(
        r"storage_bytes\s+100\.0 GiB\s+400\.0 GiB\s+requested\s+" + re.escape(org.admin.email),
        table,
    ), table
    assert re.search(r"streams\s+5\s+unlimited\s+set by admin", table), table

    fails(org.cli("quota", "set", team, "bananas=3"), "'bananas' is not a quota")
    fails(org.cli("quota", "set", team, "streams"), "is not RESOURCE=LIMIT")
    fails(org.cli("quota", "show", unique("no-such-team")), "No team named", team)
