"""Who may read which channel: two organizations, each built-in role, an API key with narrow
scopes; over SSE and the WebSocket."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures import unique
from tests.realtime.conftest import (
    bearer,
    publish_cluster,
    publish_stream,
    sse,
    until,
    websocket,
    ws_next,
)

ROLES = ("admin", "editor", "viewer", "operator", "member")


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_reads_metrics_alerts_and_operations(
    stack, role, make_member, admin_org_id, hub_cluster, live
):
    headers, _, _ = await make_member(role)
    name = unique("rt-role")
    channels = f"metrics,metrics:stream:{hub_cluster['id']}:{name},alerts,operations"
    async with sse(stack, {"channels": channels}, headers) as client:
        assert client.status == 200, client.body
        await until(lambda: "connected" in client.comments, "the stream to open")
        seq = await publish_stream(live, admin_org_id, hub_cluster["id"], name, 1)
        await until(lambda: seq in [e["id"] for e in client.events], f"the sample as {role}")


async def test_another_organization_is_refused_and_never_delivered(
    stack, make_member, admin_org_id, hub_cluster, live
):
    headers, _, other_org = await make_member("admin", org="new")
    cid = hub_cluster["id"]
    for channel in (
        f"metrics:cluster:{cid}",
        f"metrics:stream:{cid}:x",
        f"operations:{uuid.uuid4()}",
    ):
        async with sse(stack, {"channels": channel}, headers) as client:
            assert client.status == 404, (channel, client.status, client.body)
    async with sse(stack, {"channels": "metrics,alerts,operations"}, headers) as client:
        assert client.status == 200
        await until(lambda: "connected" in client.comments, "the stream to open")
        foreign = await publish_stream(live, admin_org_id, cid, unique("rt-foreign"), 1)
        own = await publish_stream(live, other_org, cid, unique("rt-own"), 1)
        await until(lambda: client.last_id == own, "the organization's own sample")
        assert foreign not in [e["id"] for e in client.events]


async def test_an_api_key_reads_only_what_its_scopes_allow(
    stack, api, make_member, admin_org_id, hub_cluster, live
):
    headers, _, _ = await make_member("member")
    created = api.post(
        "/api/v1/api-keys",
        headers=headers,
        json={"name": unique("rt-key"), "scopes": ["clusters:read:*"]},
    )
    assert created.status_code == 201, created.text
    key = {"X-API-Key": created.json()["key"]}
    for channel, status in (
        ("alerts", 403),
        ("operations", 403),
        (f"metrics:stream:{hub_cluster['id']}:x", 403),
        (f"metrics:cluster:{hub_cluster['id']}", 200),
    ):
        async with sse(stack, {"channels": channel}, key) as client:
            assert client.status == status, (channel, client.status, client.body)
    # the organization's metrics: cluster samples, never the streams' it may not read
    async with sse(stack, {"channels": "metrics"}, key) as client:
        await until(lambda: "connected" in client.comments, "the stream to open")
        hidden = await publish_stream(live, admin_org_id, hub_cluster["id"], unique("rt-k"), 1)
        shown = await publish_cluster(live, admin_org_id, hub_cluster["id"], 1)
        await until(lambda: client.last_id == shown, "the cluster sample")
        assert hidden not in [e["id"] for e in client.events]


async def test_websocket_auth_subscribe_receive_unsubscribe(
    stack, admin_headers, admin_org_id, hub_cluster, live
):
    cid, name = hub_cluster["id"], unique("rt-ws")
    async with websocket(stack, bearer(admin_headers)) as ws:
        assert (await ws_next(ws))["type"] == "auth_ok"
        await ws.send('{"type": "subscribe", "channels": ["metrics:bogus"]}')
        error = await ws_next(ws)
        assert (
            error["type"] == "error"
            and error["status"] == 422
            and "metrics:bogus" in error["message"]
        )
        await ws.send(
            f'{{"type": "subscribe", "channels": ["metrics:stream:{cid}:{name}", '
            f'"metrics:consumer:{cid}:{name}:c1"]}}'
        )
        assert (await ws_next(ws))["type"] == "subscribed"
        seq = await publish_stream(live, admin_org_id, cid, name, 4)
        got = {(await ws_next(ws))["type"] for _ in range(2)}
        assert got == {"stream_metrics", "consumer_metrics"}
        await ws.send(f'{{"type": "unsubscribe", "channels": ["metrics:stream:{cid}:{name}"]}}')
        assert (await ws_next(ws))["type"] == "unsubscribed"
        later = await publish_stream(live, admin_org_id, cid, name, 5)
        message = await ws_next(ws)
        assert message["type"] == "consumer_metrics" and message["id"] == later > seq
        assert message["channel"] == f"metrics:consumer:{cid}:{name}:c1"
        assert message["cluster_id"] == cid and message["stream_name"] == name
        assert message["data"]["consumer"]["name"] == "c1"


async def test_websocket_resumes_with_last_event_id_and_refuses_bad_tokens(
    stack, admin_headers, admin_org_id, hub_cluster, make_member, live
):
    cid, name = hub_cluster["id"], unique("rt-wsr")
    first = await publish_stream(live, admin_org_id, cid, name, 1)
    missed = [await publish_stream(live, admin_org_id, cid, name, n) for n in (2, 3)]
    async with websocket(stack, bearer(admin_headers)) as ws:
        assert (await ws_next(ws))["type"] == "auth_ok"
        await ws.send(
            f'{{"type": "subscribe", "channels": ["metrics:stream:{cid}:{name}"], '
            f'"last_event_id": {first}}}'
        )
        assert (await ws_next(ws))["type"] == "subscribed"
        assert [(await ws_next(ws))["id"] for _ in missed] == missed
    async with websocket(stack, "not-a-token") as ws:
        refused = await ws_next(ws)
        assert refused["type"] == "error" and refused["status"] == 401
    other, _, _ = await make_member("viewer", org="new")
    async with websocket(stack, bearer(other)) as ws:
        assert (await ws_next(ws))["type"] == "auth_ok"
        await ws.send(f'{{"type": "subscribe", "channels": ["metrics:cluster:{cid}"]}}')
        error = await ws_next(ws)
        assert error["type"] == "error" and error["status"] == 404


async def test_websocket_heartbeats_keep_an_idle_connection(stack, admin_headers):
    async with websocket(stack, bearer(admin_headers)) as ws:
        assert (await ws_next(ws))["type"] == "auth_ok"
        beat = await ws_next(ws, "heartbeat", timeout=stack.settings.realtime_heartbeat_s * 3 + 30)
        assert beat == {"type": "heartbeat"}
        await ws.send('{"type": "ping"}')
        assert (await ws_next(ws))["type"] == "pong"
