"""Fixtures of the metrics tests: an organization of their own with the hub cluster registered,
and a connection to the internal account (where ``JSC_LIVE`` is)."""

from __future__ import annotations

import nats
import pytest

from tests.fixtures import register, unique


@pytest.fixture(scope="module")
async def live_nc(stack):
    nc = await nats.connect(stack.settings.events_nats_url)
    yield nc
    await nc.close()


@pytest.fixture
async def tenant(api, stack, make_member):
    """(admin headers, org id, hub cluster) of a fresh organization."""
    headers, _, org_id = await make_member("admin", org="new")
    cluster = register(api, headers, stack.env["JSC_HUB_URL"], name=unique("hub"), domain="hub")
    return headers, org_id, cluster
