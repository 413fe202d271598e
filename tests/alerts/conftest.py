"""Fixtures of the alert tests: an organization of its own with the hub registered, a webhook that
hears alerts pointing at a local receiver, and the harness (``tests.alerts.harness.Alerting``).
``live_nc``, the internal account's connection, is a session fixture of ``tests.fixtures``."""

from __future__ import annotations

import pytest

from tests.alerts.harness import Alerting
from tests.fixtures import register, unique
from tests.webhook_receiver import Receiver


@pytest.fixture
async def alerting(api, stack, make_member, live_nc):
    headers, user_id, org_id = await make_member("admin", org="new")
    cluster = register(api, headers, stack.env["JSC_HUB_URL"], name=unique("hub"), domain="hub")
    with Receiver() as receiver:
        hook = api.post(
            "/api/v1/webhooks",
            headers=headers,
            json={"name": unique("alerts"), "url": receiver.url, "events": ["alert"]},
        )
        assert hook.status_code == 201, hook.text
        yield Alerting(
            api=api,
            stack=stack,
            headers=headers,
            org_id=org_id,
            cluster=cluster,
            receiver=receiver,
            webhook=hook.json(),
            live_nc=live_nc,
        )
