"""Server-sent events of ``/api/v1/stream/metrics`` on the real stack: a published sample arrives,
channels filter, the latest sample of each subject comes first, ``Last-Event-ID`` resumes with
exactly what was missed, heartbeats, and the realtime token."""

from __future__ import annotations

import time

import jwt

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


def token_of(api, headers) -> str:
    reply = api.post("/api/v1/stream/token", headers=headers)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert 0 < body["expires_in"] <= 300 and body["expires_at"] > time.time()
    return body["token"]


async def test_a_published_sample_arrives_on_its_channel_only(
    stack, api, admin_headers, admin_org_id, hub_cluster, live
):
    org, cid = admin_org_id, hub_cluster["id"]
    wanted, other = unique("rt-a"), unique("rt-b")
    channels = f"metrics:stream:{cid}:{wanted},metrics:consumer:{cid}:{wanted}:c2"
    async with sse(stack, {"channels": channels}, admin_headers) as client:
        assert client.status == 200
        await until(lambda: "connected" in client.comments, "the stream to open")
        other_seq = await publish_stream(live, org, cid, other, 1)
        seq = await publish_stream(live, org, cid, wanted, 7)
        await publish_cluster(live, org, cid, 3)
        await until(lambda: client.of("consumer_metrics"), "the consumer event")
        stream_events = client.of("stream_metrics")
        assert [e["id"] for e in stream_events] == [seq]
        assert stream_events[0]["data"]["stream"] == wanted
        assert stream_events[0]["data"]["messages"] == 7
        consumer = client.of("consumer_metrics")[0]
        assert consumer["id"] == seq and consumer["data"]["consumer"]["name"] == "c2"
        assert "consumers" not in consumer["data"]
        assert not client.of("cluster_metrics") and other_seq not in [
            e["id"] for e in client.events
        ]


async def test_latest_per_subject_first_then_resume_gets_exactly_what_was_missed(
    stack, api, admin_headers, admin_org_id, hub_cluster, live
):
    org, cid = admin_org_id, hub_cluster["id"]
    name = unique("rt-resume")
    channel = {"channels": f"metrics:stream:{cid}:{name}"}
    seqs = [await publish_stream(live, org, cid, name, n) for n in range(3)]
    async with sse(stack, channel, admin_headers) as client:
        await until(lambda: client.events, "the latest sample")
        assert [e["id"] for e in client.events] == [seqs[-1]]  # the latest only, then live
        seqs.append(await publish_stream(live, org, cid, name, 3))
        await until(lambda: len(client.events) == 2, "the live sample")
        last_seen = client.last_id
    missed = [await publish_stream(live, org, cid, name, n) for n in range(4, 9)]
    # The header, as EventSource sends it on a reconnection.
    async with sse(stack, channel, {**admin_headers, "Last-Event-ID": str(last_seen)}) as again:
        await until(lambda: len(again.events) >= len(missed), "the missed samples")
        later = await publish_stream(live, org, cid, name, 9)
        await until(lambda: again.last_id == later, "the next live sample")
        assert [e["id"] for e in again.events] == missed + [later]
        assert [e["data"]["messages"] for e in again.events] == [4, 5, 6, 7, 8, 9]
    async with sse(stack, {**channel, "last_event_id": missed[2]}, admin_headers) as query:
        await until(lambda: query.last_id == later, "the samples after a query id")
        assert [e["id"] for e in query.events] == missed[3:] + [later]


async def test_the_organization_metrics_channel_gets_every_sample_kind(
    stack, api, admin_headers, admin_org_id, hub_cluster, live
):
    org, cid = admin_org_id, hub_cluster["id"]
    async with sse(stack, {}, admin_headers) as client:  # default: metrics
        await until(lambda: "connected" in client.comments, "the stream to open")
        cluster_seq = await publish_cluster(live, org, cid, 5)
        stream_seq = await publish_stream(live, org, cid, unique("rt-org"), 2)
        await until(
            lambda: {cluster_seq, stream_seq} <= {e["id"] for e in client.events}, "both samples"
        )
        kinds = {e["id"]: e["event"] for e in client.events}
        assert kinds[cluster_seq] == "cluster_metrics" and kinds[stream_seq] == "stream_metrics"


async def test_bad_channels_and_event_ids_are_422_naming_them(stack, api, admin_headers):
    for params, headers, named in (
        ({"channels": "metrics:bogus"}, {}, "metrics:bogus"),
        ({"channels": "metrics:cluster:not-a-uuid"}, {}, "not-a-uuid"),
        ({"channels": ""}, {}, "channels"),
        ({}, {"Last-Event-ID": "yesterday"}, "Last-Event-ID"),
    ):
        async with sse(stack, params, {**admin_headers, **headers}) as client:
            assert client.status == 422, client.body
            assert named in client.body.decode()


async def test_heartbeat_comments_keep_an_idle_connection(stack, api, admin_headers, hub_cluster):
    channel = {"channels": f"metrics:stream:{hub_cluster['id']}:{unique('rt-idle')}"}
    async with sse(stack, channel, admin_headers) as client:
        await until(
            lambda: "heartbeat" in client.comments,
            "a heartbeat",
            timeout=stack.settings.realtime_heartbeat_s * 3 + 30,
        )
        assert not client.events


async def test_realtime_token_in_the_query_and_refused_elsewhere(
    stack, api, make_member, admin_org_id, hub_cluster, live, admin_headers
):
    headers, _, _ = await make_member("viewer")
    token = token_of(api, headers)
    name = unique("rt-token")
    async with sse(
        stack, {"channels": f"metrics:stream:{hub_cluster['id']}:{name}", "token": token}
    ) as client:
        assert client.status == 200
        await until(lambda: "connected" in client.comments, "the stream to open")
        seq = await publish_stream(live, admin_org_id, hub_cluster["id"], name, 1)
        await until(lambda: client.last_id == seq, "the sample through the token")
    as_bearer = {"Authorization": f"Bearer {token}"}
    for method, path in (
        ("GET", "/api/v1/auth/me"),
        ("GET", "/api/v1/clusters"),
        ("POST", "/api/v1/stream/token"),
        ("GET", "/api/v1/operations"),
    ):
        reply = api.request(method, path, headers=as_bearer)
        assert reply.status_code == 401, (path, reply.status_code, reply.text)
    # an access token or an API key never goes in a URL (logs, histories): only in a header
    async with sse(stack, {"token": bearer(headers)}) as plain:
        assert plain.status == 401 and "realtime token" in plain.body.decode()
    key = api.post("/api/v1/api-keys", headers=admin_headers, json={"name": unique("rt-key")})
    assert key.status_code == 201, key.text
    async with sse(stack, {"token": key.json()["key"]}) as keyed:
        assert keyed.status == 401
    async with sse(stack, {"channels": "alerts"}, {"X-API-Key": key.json()["key"]}) as header:
        assert header.status == 200


async def test_expired_and_signed_out_realtime_tokens_are_refused(stack, api, make_member):
    headers, user_id, org_id = await make_member("viewer")
    token = token_of(api, headers)
    claims = jwt.decode(token, options={"verify_signature": False})
    expired = jwt.encode(
        {**claims, "exp": int(time.time()) - 5},
        stack.settings.secret_key.get_secret_value(),
        algorithm="HS256",
    )
    async with sse(stack, {"token": expired}) as client:
        assert client.status == 401 and "expired" in client.body.decode()
    forged = jwt.encode(claims, "not-the-console-key-" + "x" * 32, algorithm="HS256")
    async with sse(stack, {"token": forged}) as client:
        assert client.status == 401
    assert api.post("/api/v1/auth/logout", headers=headers).status_code == 204
    async with sse(stack, {"token": token}) as client:
        assert client.status == 401 and "session" in client.body.decode()


async def test_cors_lets_another_origin_read_it(stack, api, admin_headers):
    token = token_of(api, admin_headers)
    async with sse(stack, {"token": token}, {"Origin": "http://ui.example"}) as client:
        assert client.status == 200
    with api.stream(
        "GET",
        "/api/v1/stream/metrics",
        params={"token": token},
        headers={"Origin": "http://ui.example"},
    ) as reply:
        assert reply.headers["access-control-allow-origin"] == "*"
        assert reply.headers["content-type"].startswith("text/event-stream")
    preflight = api.options(
        "/api/v1/stream/metrics",
        headers={
            "Origin": "http://ui.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "last-event-id",
        },
    )
    assert preflight.status_code == 204
    assert "Last-Event-ID" in preflight.headers["access-control-allow-headers"]


async def test_open_streams_end_when_their_session_is_signed_out(stack, api, make_member):
    """A stream (SSE or WebSocket) checks at each heartbeat that its session still holds: signed
    out, it ends, and its client's reconnection is refused."""
    headers, _, _ = await make_member("viewer")
    token = token_of(api, headers)
    beat = stack.settings.realtime_heartbeat_s
    async with (
        sse(stack, {"channels": "alerts", "token": token}) as client,
        websocket(stack, bearer(headers)) as ws,
    ):
        await until(lambda: "connected" in client.comments, "the stream to open")
        assert (await ws_next(ws, "auth_ok"))["type"] == "auth_ok"
        assert api.post("/api/v1/auth/logout", headers=headers).status_code == 204
        await until(lambda: client.ended.is_set(), "the stream to end", timeout=beat * 3 + 30)
        closed = await ws_next(ws, "error", timeout=beat * 3 + 30)
        assert closed["status"] == 401 and "sign in again" in closed["message"]
    async with sse(stack, {"channels": "alerts", "token": token}) as again:
        assert again.status == 401
