"""An organization of its own per test, signed up through the API (so the design's three policies
are seeded), with a production cluster on the local hub server, and helpers to act on requests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx
from nats.js.errors import NotFoundError

from tests.api.orgs import Account, invite, signup
from tests.fixtures import unique


@dataclass
class Org:
    api: httpx.Client
    admin: Account
    cluster_id: str
    people: dict[str, Account] = field(default_factory=dict)

    def member(self, role: str, name: str | None = None) -> Account:
        account = invite(self.api, self.admin, role)
        self.people[name or role] = account
        return account

    def team(self, name: str, members: list[Account], prefix: str | None = None) -> dict:
        namespaces = [{"cluster_id": self.cluster_id, "prefix": prefix}] if prefix else []
        reply = self.api.post(
            "/api/v1/teams",
            headers=self.admin.headers,
            json={"name": name, "namespaces": namespaces},
        )
        assert reply.status_code == 201, reply.text
        team = reply.json()
        for person in members:
            added = self.api.post(
                f"/api/v1/teams/{team['id']}/members",
                headers=self.admin.headers,
                json={"user_id": person.user_id},
            )
            assert added.status_code == 201, added.text
        return team

    def policy(self, body: dict) -> dict:
        reply = self.api.post("/api/v1/approval-policies", headers=self.admin.headers, json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()

    def act(self, who: Account, request_id: str, action: str, comment: str = "") -> httpx.Response:
        return self.api.post(
            f"/api/v1/approvals/{request_id}/{action}",
            headers=who.headers,
            json={"comment": comment},
        )

    def request(self, request_id: str, who: Account | None = None) -> dict:
        reply = self.api.get(f"/api/v1/approvals/{request_id}", headers=(who or self.admin).headers)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def wait_status(self, request_id: str, *statuses: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            current = self.request(request_id)
            if current["status"] in statuses:
                return current
            assert time.monotonic() < deadline, f"request still {current['status']}: {current}"
            time.sleep(0.2)


def production_org(api: httpx.Client, hub_url: str, environment: str = "production") -> Org:
    admin = signup(api)
    reply = api.post(
        "/api/v1/clusters",
        headers=admin.headers,
        json={
            "name": unique("prod"),
            "environment": environment,
            "server_urls": [hub_url],
            "jetstream_domain": "hub",
        },
    )
    assert reply.status_code == 201, reply.text
    return Org(api, admin, reply.json()["id"])


def consumer_path(org: Org, stream: str) -> str:
    return f"/api/v1/clusters/{org.cluster_id}/streams/{stream}/consumers"


async def consumer_exists(nc, stream: str, name: str) -> bool:
    """Whether the NATS server itself has the consumer."""
    try:
        await nc.jetstream().consumer_info(stream, name)
        return True
    except NotFoundError:
        return False
