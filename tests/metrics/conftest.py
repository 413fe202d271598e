"""Fixtures of the metrics tests: an organization of their own with the hub cluster registered
(``live_nc``, the internal account's connection, is a session fixture of ``tests.fixtures``)."""

from __future__ import annotations

import pytest

from tests.fixtures import register, unique


@pytest.fixture
async def tenant(api, stack, make_member):
    """(admin headers, org id, hub cluster) of a fresh organization."""
    headers, _, org_id = await make_member("admin", org="new")
    cluster = register(api, headers, stack.env["JSC_HUB_URL"], name=unique("hub"), domain="hub")
    return headers, org_id, cluster
