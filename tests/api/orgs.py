"""Helpers for tenancy tests: organizations signed up and members invited through the API itself
(``POST /auth/register`` and ``POST /users/invite``), each test in organizations of its own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from tests.fixtures import unique

PASSWORD = "tenant-Pass-1234"


@dataclass
class Account:
    email: str
    password: str
    user_id: str
    org_id: str
    role: str
    tokens: dict

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signup(api: httpx.Client, *, name: str | None = None, email: str | None = None) -> Account:
    email = email or f"{unique('owner')}@example.com"
    reply = api.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "organization_name": name or unique("Org")},
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    return Account(
        email, PASSWORD, str(body["user_id"]), str(body["organization"]["id"]), body["role"], body
    )


def invite(
    api: httpx.Client,
    admin: Account,
    role: str,
    *,
    team_id: str | None = None,
    email: str | None = None,
) -> Account:
    email = email or f"{unique(role)}@example.com"
    invited = api.post(
        "/api/v1/users/invite",
        headers=admin.headers,
        json={"email": email, "role": role, "team_id": team_id},
    )
    assert invited.status_code == 201, invited.text
    joined = api.post(
        "/api/v1/auth/register", json={"token": invited.json()["token"], "password": PASSWORD}
    )
    assert joined.status_code == 201, joined.text
    body = joined.json()
    return Account(
        email, PASSWORD, str(body["user_id"]), str(body["organization"]["id"]), body["role"], body
    )


def add_cluster(api: httpx.Client, admin: Account, url: str, domain: str = "hub") -> dict:
    reply = api.post(
        "/api/v1/clusters",
        headers=admin.headers,
        json={
            "name": unique("cluster"),
            "environment": "development",
            "server_urls": [url],
            "jetstream_domain": domain,
        },
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def add_team(
    api: httpx.Client,
    admin: Account,
    *namespaces: tuple[str, str],
    members: tuple[Account, ...] = (),
) -> dict:
    reply = api.post(
        "/api/v1/teams",
        headers=admin.headers,
        json={
            "name": unique("team"),
            "namespaces": [{"cluster_id": c, "prefix": p} for c, p in namespaces],
        },
    )
    assert reply.status_code == 201, reply.text
    team = reply.json()
    for account in members:
        added = api.post(
            f"/api/v1/teams/{team['id']}/members",
            headers=admin.headers,
            json={"user_id": account.user_id},
        )
        assert added.status_code == 201, added.text
    return team


def random_id() -> str:
    return str(uuid.uuid4())
