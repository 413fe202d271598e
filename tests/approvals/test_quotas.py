"""Team quotas against the real stack: limits with live usage, 409 on a create or update that
would exceed one, and quota requests, auto-approved under the policy threshold or approved by an
admin, applied by the workflow and kept in the team's history."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.policy import GB
from tests.approvals.setup import production_org
from tests.fixtures import unique

MB = 1024**2


@pytest.fixture
def team_org(api, stack):
    org = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    org.prefix = unique("pay").lower() + "-"
    org.dev = org.member("member", "dev")
    org.payments = org.team(unique("payments"), [org.dev], prefix=org.prefix)
    yield org
    for stream in api.get(
        f"/api/v1/clusters/{org.cluster_id}/streams", headers=org.admin.headers
    ).json()["items"]:
        if stream["config"]["name"].startswith(org.prefix):
            api.delete(
                f"/api/v1/clusters/{org.cluster_id}/streams/{stream['config']['name']}",
                headers=org.admin.headers,
            )


def set_limits(org, **limits) -> dict:
    reply = org.api.put(
        f"/api/v1/teams/{org.payments['id']}/quotas",
        headers=org.admin.headers,
        json={"limits": limits},
    )
    assert reply.status_code == 200, reply.text
    return {line["resource"]: line for line in reply.json()["items"]}


def create_stream(org, name: str, max_bytes: int):
    return org.api.post(
        f"/api/v1/clusters/{org.cluster_id}/streams",
        headers=org.dev.headers,
        json={"name": name, "subjects": [f"{name}.>"], "max_bytes": max_bytes},
    )


def test_quota_usage_and_refusals_on_create_and_update(team_org):
    org = team_org
    lines = set_limits(org, streams=2, storage_bytes=30 * MB)
    assert lines["streams"]["usage"] == 0 and lines["streams"]["limit"] == 2
    assert lines["consumers"]["limit"] is None  # unlimited until set
    assert create_stream(org, f"{org.prefix}a", 10 * MB).status_code == 201
    quotas = org.api.get(
        f"/api/v1/teams/{org.payments['id']}/quotas", headers=org.dev.headers
    ).json()
    by_name = {line["resource"]: line for line in quotas["items"]}
    assert by_name["streams"]["usage"] == 1 and by_name["streams"]["percent"] == 50.0
    assert by_name["storage_bytes"]["usage"] == 10 * MB
    assert [r["name"] for r in quotas["resources"]] == [f"{org.prefix}a"]

    too_big = create_stream(org, f"{org.prefix}b", 25 * MB)
    assert too_big.status_code == 409, too_big.text
    problem = too_big.json()
    assert problem["quota"] == "storage_bytes" and problem["usage"] == 10 * MB
    assert problem["limit"] == 30 * MB and "/api/v1/quota-requests" in problem["detail"]
    unbounded = create_stream(org, f"{org.prefix}c", -1)
    assert unbounded.status_code == 409 and "unbounded" in unbounded.json()["detail"]

    assert create_stream(org, f"{org.prefix}d", 10 * MB).status_code == 201
    third = create_stream(org, f"{org.prefix}e", 1 * MB)
    assert third.status_code == 409 and third.json()["quota"] == "streams"
    grow = org.api.patch(
        f"/api/v1/clusters/{org.cluster_id}/streams/{org.prefix}a",
        headers=org.dev.headers,
        json={"max_bytes": 25 * MB},
    )
    assert grow.status_code == 409 and grow.json()["quota"] == "storage_bytes"
    shrink = org.api.patch(
        f"/api/v1/clusters/{org.cluster_id}/streams/{org.prefix}a",
        headers=org.dev.headers,
        json={"max_bytes": 5 * MB},
    )
    assert shrink.status_code == 200, shrink.text


def wait_limit(org, resource: str, expected: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        lines = org.api.get(
            f"/api/v1/teams/{org.payments['id']}/quotas", headers=org.dev.headers
        ).json()["items"]
        if {q["resource"]: q["limit"] for q in lines}[resource] == expected:
            return
        assert time.monotonic() < deadline, f"{resource} never became {expected}: {lines}"
        time.sleep(0.2)


def ask(org, resource: str, limit: int, who=None):
    reply = org.api.post(
        "/api/v1/quota-requests",
        headers=(who or org.dev).headers,
        json={
            "team_id": org.payments["id"],
            "resource": resource,
            "requested_limit": limit,
            "justification": "onboarding three payment processors",
        },
    )
    return reply


def test_quota_requests_auto_approved_and_approved(team_org):
    org = team_org
    set_limits(org, storage_bytes=100 * GB, streams=10)
    auto = ask(org, "storage_bytes", 400 * GB)  # 4x, but under the 500 GB auto-approve line
    assert auto.status_code == 202, auto.text
    assert auto.json()["status"] == "auto_approved"
    assert any("under 500 GB" in r for r in auto.json()["reasons"])
    wait_limit(org, "storage_bytes", 400 * GB)

    big = ask(org, "storage_bytes", 1000 * GB)
    assert big.status_code == 202 and big.json()["status"] == "waiting_approval"
    request = org.request(big.json()["request_id"])
    assert request["decision"]["policy"]["name"] == "Large Quota Requests"
    assert request["justification"] == "onboarding three payment processors"
    notes = " ".join(request["risk_notes"])
    assert "from 400 GB to 1000 GB" in notes and "Cost impact: +$150.00/month" in notes
    assert "largest earlier storage_bytes change (300 GB)" in notes
    refused = org.act(org.dev, big.json()["request_id"], "approve")
    assert refused.status_code == 403
    assert org.act(org.admin, big.json()["request_id"], "approve").status_code == 200
    wait_limit(org, "storage_bytes", 1000 * GB)

    history = org.api.get(
        f"/api/v1/teams/{org.payments['id']}/quota-history", headers=org.dev.headers
    ).json()["items"]
    storage = [
        (h["before"], h["after"], h["reason"]) for h in history if h["resource"] == "storage_bytes"
    ]
    assert storage == [
        (400 * GB, 1000 * GB, "requested"),
        (100 * GB, 400 * GB, "requested"),
        (None, 100 * GB, "set_by_admin"),
    ]
    for sent in (auto, big):  # the limit applies a moment before the request reads executed
        org.wait_status(sent.json()["request_id"], "executed")
    listed = org.api.get(
        "/api/v1/quota-requests", headers=org.dev.headers, params={"team_id": org.payments["id"]}
    ).json()["items"]
    assert [r["status"] for r in listed] == ["executed", "executed"]


def test_quota_request_validation_and_membership(team_org):
    org = team_org
    set_limits(org, streams=10)
    lower = ask(org, "streams", 5)
    assert lower.status_code == 422 and "already 10" in lower.json()["detail"]
    outsider = org.member("member", "outsider")
    assert ask(org, "streams", 20, who=outsider).status_code == 403
    bad = org.api.post(
        "/api/v1/quota-requests",
        headers=org.dev.headers,
        json={
            "team_id": org.payments["id"],
            "resource": "bananas",
            "requested_limit": 3,
            "justification": "x",
        },
    )
    assert bad.status_code == 422


async def test_rates_are_measured_between_two_reads(team_org, hub_nc):
    org = team_org
    name = f"{org.prefix}rates"
    assert create_stream(org, name, 10 * MB).status_code == 201
    js = hub_nc.jetstream()
    reader = await js.pull_subscribe(f"{name}.>", durable="reader", stream=name)

    def read() -> dict:
        lines = org.api.get(
            f"/api/v1/teams/{org.payments['id']}/quotas", headers=org.dev.headers
        ).json()["items"]
        return {line["resource"]: line["usage"] for line in lines}

    first = read()
    assert first["inbound_rate"] is None and first["outbound_rate"] is None  # nothing to compare
    started = time.monotonic()
    for i in range(40):
        await js.publish(f"{name}.orders", f"{i}".encode())
    delivered = await reader.fetch(30, timeout=5)
    assert len(delivered) == 30
    await asyncio.sleep(2.2)
    second = read()
    elapsed = time.monotonic() - started
    assert 40 / (elapsed + 1) < second["inbound_rate"] <= 40 / 2
    assert 30 / (elapsed + 1) < second["outbound_rate"] <= 30 / 2


def test_a_request_must_raise_a_limit_and_no_text_says_inf(team_org):
    org = team_org
    unlimited = ask(org, "streams", 20)  # no streams limit set: unlimited
    assert unlimited.status_code == 422, unlimited.text
    assert "unlimited" in unlimited.json()["detail"]
    assert unlimited.json()["errors"][0]["field"] == "requested_limit"
    set_limits(org, consumers=0)  # a zero limit: any request multiplies it without bound
    from_zero = ask(org, "consumers", 20)
    assert from_zero.status_code == 202, from_zero.text
    request = org.request(from_zero.json()["request_id"])
    texts = " ".join(
        [
            *request["decision"]["reasons"],
            *request["risk_notes"],
            request["title"],
            *from_zero.json()["reasons"],
        ]
    )
    assert "inf" not in texts.replace("info", "") and "nan" not in texts, texts
