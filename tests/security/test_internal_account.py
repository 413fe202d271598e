"""The console's own streams (``JSC_EVENTS``: audit and other platform events) live in their own
NATS account, ``JSC``, with its own user: a stranger who signs up and registers the very servers
the console uses (the local hub and dr) as clusters of their organization finds nothing of the
console's there, while the console's audit log keeps working."""

from __future__ import annotations

import uuid

import nats
import pytest
from nats.js.errors import NotFoundError, ServiceUnavailableError

from core.events import STREAM
from tests.api.orgs import signup
from tests.fixtures import unique, wait_for_audit

# A sequence the console's stream certainly holds by the time a test of the session runs (the
# admin's login alone is audited), so a 404 is "no such stream", not "no such message".
FIRST = 1


@pytest.fixture(scope="module")
def stranger(api):
    return signup(api, name=unique("Stranger"))


@pytest.fixture(scope="module")
def stranger_clusters(api, stack, stranger) -> list[dict]:
    """Every local server, registered by the stranger, with and without a JetStream domain."""
    clusters = []
    for url, domain in (
        (stack.env["JSC_HUB_URL"], "hub"),
        (stack.env["JSC_HUB_URL"], None),
        (stack.env["JSC_DR_URL"], "dr"),
        (stack.env["JSC_DR_URL"], None),
    ):
        reply = api.post(
            "/api/v1/clusters",
            headers=stranger.headers,
            json={
                "name": unique("mine"),
                "environment": "development",
                "server_urls": [url],
                "jetstream_domain": domain,
            },
        )
        assert reply.status_code == 201, reply.text
        clusters.append(reply.json())
    return clusters


def _problem(reply, status: int) -> dict:
    assert reply.status_code == status, (reply.status_code, reply.text)
    assert reply.headers["content-type"].startswith("application/problem+json"), reply.headers
    return reply.json()


def test_a_stranger_registering_the_consoles_servers_finds_none_of_its_streams(
    api, stranger, stranger_clusters, admin_headers
):
    wait_for_audit(api, admin_headers, action="auth.login")  # JSC_EVENTS exists and holds events
    for cluster in stranger_clusters:
        base = f"/api/v1/clusters/{cluster['id']}/streams"
        listed = api.get(base, headers=stranger.headers)
        assert listed.status_code == 200, listed.text
        names = [s["config"]["name"] for s in listed.json()["items"]]
        assert not [n for n in names if n.startswith("JSC")], (cluster["server_urls"], names)
        _problem(api.get(f"{base}/{STREAM}", headers=stranger.headers), 404)
        _problem(api.get(f"{base}/{STREAM}/messages", headers=stranger.headers), 404)
        _problem(api.get(f"{base}/{STREAM}/messages/{FIRST}", headers=stranger.headers), 404)
        _problem(
            api.post(f"{base}/{STREAM}/purge", headers=stranger.headers, json={"dry_run": True}),
            404,
        )
        _problem(api.post(f"{base}/{STREAM}/purge", headers=stranger.headers, json={}), 404)


def test_the_audit_log_keeps_working_for_the_real_organization(
    api, stranger_clusters, admin_headers
):
    """After the stranger's attempts (the module's first test), the console still audits."""
    name = unique("audited")
    team = api.post("/api/v1/teams", headers=admin_headers, json={"name": name, "namespaces": []})
    assert team.status_code == 201, team.text
    event = wait_for_audit(api, admin_headers, timeout=30, action="team.create", resource_name=name)
    assert event["resource_id"] == str(team.json()["id"])


async def test_anonymous_clients_see_no_internal_stream_and_the_jsc_user_does(stack):
    internal_url = stack.settings.events_nats_url
    assert internal_url and internal_url not in (stack.env["JSC_HUB_URL"], stack.env["JSC_DR_URL"])
    hub = await nats.connect(stack.env["JSC_HUB_URL"], allow_reconnect=False)
    dr = await nats.connect(stack.env["JSC_DR_URL"], allow_reconnect=False)
    internal = await nats.connect(internal_url, allow_reconnect=False)
    try:
        for nc in (hub, dr):
            names = await nc.jetstream().streams_info()
            assert not [s.config.name for s in names if s.config.name.startswith("JSC")]
            with pytest.raises(NotFoundError):
                await nc.jetstream().stream_info(STREAM)
        # dr reaches hub's JetStream API only for mirror plumbing, and never the JSC account.
        with pytest.raises(ServiceUnavailableError):  # no responders
            await dr.jetstream(domain="hub", timeout=2).stream_info(STREAM)
        # A publish on the console's subjects by a tenant is not stored in the console's stream.
        marker = uuid.uuid4().hex
        await hub.publish("jsc.events.audit", marker.encode())
        await hub.flush()
        info = await internal.jetstream().stream_info(STREAM)
        assert info.config.subjects == ["jsc.events.>"]
        assert info.state.messages > 0
        last = await internal.jetstream().get_last_msg(STREAM, "jsc.events.audit")
        assert last.data != marker.encode()
        assert STREAM in [s.config.name for s in await internal.jetstream().streams_info()]
    finally:
        for nc in (hub, dr, internal):
            await nc.close()


def test_the_internal_password_is_never_logged_nor_in_stack_json(stack, api, admin_headers):
    api.get("/readyz")
    password = stack.settings.events_nats_url.split("@")[0].rsplit(":", 1)[1]
    assert len(password) >= 16
    for path in [stack.data_dir / "stack.json", *(stack.data_dir / "logs").glob("*.log")]:
        assert password not in path.read_text(errors="replace"), path
    assert password not in repr(stack.settings)
