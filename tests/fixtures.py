"""Shared test fixtures and helpers beyond the stack itself: extra users and organizations (written
straight to the stack's PostgreSQL, as an admin would have set them up), the two local clusters
registered through the API, nats-py connections to check results against the NATS servers, and
the audit-log poller. The fixtures are registered once, by the root conftest."""

from __future__ import annotations

import time
import uuid

import httpx
import nats
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from core.bootstrap import slugify
from core.db.base import make_sessionmaker
from core.db.models import Organization, OrganizationMember, User
from core.security import hash_password

PASSWORD = "member-Pass-1234"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def login(api: httpx.Client, email: str, password: str) -> dict[str, str]:
    reply = api.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def wait_for_audit(
    api: httpx.Client, headers: dict, timeout: float = 60.0, where=None, **match
) -> dict:
    """The newest audit event whose fields equal ``match`` (and, given ``where``, for which
    ``where(event)`` holds). Events reach ClickHouse through the internal event stream and its
    ingester, so this polls: generously, as a busy machine delays them."""
    deadline = time.monotonic() + timeout
    while True:
        reply = api.get("/api/v1/audit/logs", params={"limit": 1000}, headers=headers)
        assert reply.status_code == 200, reply.text
        for event in reply.json()["items"]:
            if all(event.get(k) == v for k, v in match.items()) and (where is None or where(event)):
                return event
        assert time.monotonic() < deadline, f"no audit event with {match}"
        time.sleep(0.2)


@pytest.fixture(scope="session")
async def db_sessions(stack):
    engine = create_async_engine(stack.env["JSC_DATABASE_URL"], pool_pre_ping=True)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def admin_org_id(api, admin_headers) -> uuid.UUID:
    return uuid.UUID(api.get("/api/v1/auth/me", headers=admin_headers).json()["organization"]["id"])


@pytest.fixture(scope="session")
def make_member(api, db_sessions, admin_org_id):
    """``await make_member(role, org=None)`` -> (auth headers, user id, org id). ``org="new"``
    puts the user in an organization of its own."""

    async def _make(role: str, org: str | uuid.UUID | None = None):
        async with db_sessions() as db, db.begin():
            if org == "new":
                name = unique("org")
                organization = Organization(name=name, slug=slugify(name), plan="free", settings={})
                db.add(organization)
                await db.flush()
                org_id = organization.id
            else:
                org_id = org or admin_org_id
            user = User(
                email=f"{unique(role)}@example.com",
                password_hash=hash_password(PASSWORD),
                status="active",
            )
            db.add(user)
            await db.flush()
            db.add(OrganizationMember(org_id=org_id, user_id=user.id, role=role))
        return login(api, user.email, PASSWORD), user.id, org_id

    return _make


def register(
    api: httpx.Client,
    headers: dict,
    url: str,
    *,
    name: str | None = None,
    domain: str | None = None,
    environment: str = "development",
    **extra,
) -> dict:
    body = {
        "name": name or unique("cluster"),
        "environment": environment,
        "server_urls": [url],
        "jetstream_domain": domain,
        **extra,
    }
    reply = api.post("/api/v1/clusters", json=body, headers=headers)
    assert reply.status_code == 201, reply.text
    return reply.json()


@pytest.fixture(scope="session")
def hub_cluster(api, admin_headers, stack) -> dict:
    return register(api, admin_headers, stack.env["JSC_HUB_URL"], name="test-hub", domain="hub")


@pytest.fixture(scope="session")
def dr_cluster(api, admin_headers, stack) -> dict:
    return register(
        api,
        admin_headers,
        stack.env["JSC_DR_URL"],
        name="test-dr",
        domain="dr",
        environment="staging",
    )


@pytest.fixture(scope="session")
async def live_nc(stack):
    """A connection to the console's internal account (``JSC_LIVE``, ``JSC_EVENTS``)."""
    nc = await nats.connect(stack.settings.events_nats_url)
    yield nc
    await nc.close()


@pytest.fixture(scope="session")
async def hub_nc(stack):
    nc = await nats.connect(stack.env["JSC_HUB_URL"])
    yield nc
    await nc.close()


@pytest.fixture(scope="session")
async def dr_nc(stack):
    nc = await nats.connect(stack.env["JSC_DR_URL"])
    yield nc
    await nc.close()
