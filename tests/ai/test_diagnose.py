"""``GET /api/v1/ai/diagnose`` on the real stack, outside in: each situation is built on the real
hub (and dr) with nats-py or the API, and the diagnosis finds it with its evidence.

The findings that need time to pass (a consumer stalled for 5 minutes, a stream idle for a day)
run ``ai.diagnose.diagnose`` in this process against the same real API, with ``now`` later than
the clock: the same reads as the route, without waiting minutes. Lag growing reads the history
the stack's own collector samples every 2 s from the admin organization's clusters.

RBAC and tenancy: a viewer gets the findings of what they read; another organization gets 404 for
our cluster; a role limited to its team's namespace gets nothing from outside it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DiscardPolicy, StreamConfig, StreamSource

from ai.diagnose import diagnose
from core.jetstream.api import JetStreamApi
from core.replication.mirrors import pause_consumer
from tests.api.orgs import add_cluster, add_team, invite, signup
from tests.fixtures import unique
from tests.replication.map_setup import console_mirror, forget_rows
from tests.waiting import wait_until, wait_until_async

pytestmark = pytest.mark.timeout(600)
DIAGNOSE = "/api/v1/ai/diagnose"


def _name(prefix: str = "DG") -> str:
    return unique(prefix).upper().replace("-", "_")


def ask(api, headers, **params) -> dict:
    reply = api.get(DIAGNOSE, headers=headers, params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


def found(diagnosis: dict, code: str, stream: str, consumer: str | None = None) -> dict | None:
    return next(
        (
            f
            for f in diagnosis["findings"]
            if f["code"] == code
            and f["stream"] == stream
            and (consumer is None or f["consumer"] == consumer)
        ),
        None,
    )


async def later(stack, headers, seconds: float, **scope):
    """The diagnosis as it will be in ``seconds``: the real API read now, judged later."""
    async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=60) as client:
        return await diagnose(client, now=datetime.now(UTC) + timedelta(seconds=seconds), **scope)


@pytest.fixture
async def streams(hub_nc):
    """Make streams on hub with nats-py; removed after the test."""
    js, made = hub_nc.jetstream(), []

    async def make(name: str | None = None, **config) -> str:
        name = name or _name()
        if "mirror" not in config:
            config.setdefault("subjects", [f"{name.lower()}.>"])
        await js.add_stream(StreamConfig(name=name, **config))
        made.append(name)
        return name

    yield make
    for name in reversed(made):
        try:
            await js.delete_stream(name)
        except Exception:  # removed by the test itself
            pass


async def _publish(hub_nc, subject: str, count: int, payload: bytes = b"x") -> None:
    js = hub_nc.jetstream()
    for _i in range(count):
        await js.publish(subject, payload)


# -- consumers --------------------------------------------------------------------------------


async def test_a_consumer_with_pending_messages_and_no_acks_is_stalled(
    api, admin_headers, hub_cluster, hub_nc, streams, stack
):
    cid = hub_cluster["id"]
    name = await streams()
    await hub_nc.jetstream().add_consumer(
        name, ConsumerConfig(durable_name="worker", ack_policy=AckPolicy.EXPLICIT)
    )
    await _publish(hub_nc, f"{name.lower()}.x", 10)
    # just created: not stalled yet by the default limit (5 minutes without an ack; the test
    # stack's API says 20 s, JSC_AI_STALLED_AFTER_S, so it is judged here with the default)
    now = (
        await later(stack, admin_headers, 0, cluster_id=cid, stream=name, consumer="worker")
    ).model_dump(mode="json")
    assert found(now, "consumer_stalled", name, "worker") is None
    assert now["checked"] == [{"cluster_id": cid, "stream": name, "consumer": "worker"}]
    diagnosis = await later(
        stack, admin_headers, 600, cluster_id=cid, stream=name, consumer="worker"
    )
    (stalled,) = [f for f in diagnosis.findings if f.code == "consumer_stalled"]
    assert stalled.severity == "warning" and stalled.consumer == "worker"
    assert stalled.cluster_id == cid and stalled.stream == name
    assert stalled.evidence["num_pending"] == 10 and stalled.evidence["last_ack"] is None
    assert stalled.evidence["stalled_for_s"] >= 600
    assert "nothing is being delivered" in stalled.summary and not diagnosis.errors


async def test_ack_pending_at_max_ack_pending(api, admin_headers, hub_cluster, hub_nc, streams):
    cid = hub_cluster["id"]
    name = await streams()
    js = hub_nc.jetstream()
    await js.add_consumer(
        name,
        ConsumerConfig(
            durable_name="slow", ack_policy=AckPolicy.EXPLICIT, max_ack_pending=5, ack_wait=300
        ),
    )
    await _publish(hub_nc, f"{name.lower()}.x", 12)
    sub = await js.pull_subscribe_bind("slow", stream=name)
    fetched = await sub.fetch(12, timeout=5)
    assert len(fetched) == 5  # the server stops at max_ack_pending
    diagnosis = ask(api, admin_headers, cluster_id=cid, stream=name)
    near = found(diagnosis, "ack_pending_near_max", name, "slow")
    assert near["severity"] == "critical"
    assert near["evidence"]["num_ack_pending"] == 5 and near["evidence"]["max_ack_pending"] == 5
    assert near["evidence"]["num_pending"] == 7
    assert {"cluster_id": cid, "stream": name, "consumer": None} in diagnosis["checked"]
    assert {"cluster_id": cid, "stream": name, "consumer": "slow"} in diagnosis["checked"]


async def test_naks_make_a_redelivery_storm(api, admin_headers, hub_cluster, hub_nc, streams):
    cid = hub_cluster["id"]
    name = await streams()
    js = hub_nc.jetstream()
    await js.add_consumer(
        name, ConsumerConfig(durable_name="flaky", ack_policy=AckPolicy.EXPLICIT, ack_wait=300)
    )
    await _publish(hub_nc, f"{name.lower()}.x", 20)
    sub = await js.pull_subscribe_bind("flaky", stream=name)
    for msg in await sub.fetch(20, timeout=5):
        await msg.nak()
    redelivered: set[int] = set()

    async def all_redelivered():
        try:
            for msg in await sub.fetch(20, timeout=1):
                if msg.metadata.num_delivered >= 2:
                    redelivered.add(msg.metadata.sequence.stream)
        except TimeoutError:
            pass
        return len(redelivered) == 20

    await wait_until_async(all_redelivered, "the 20 nak'ed messages redelivered", 60)
    storm = found(
        ask(api, admin_headers, cluster_id=cid, stream=name, consumer="flaky"),
        "redelivery_storm",
        name,
        "flaky",
    )
    assert storm["severity"] == "critical"  # half of its 40 deliveries
    assert storm["evidence"]["num_redelivered"] == 20 and storm["evidence"]["delivered"] == 40
    assert storm["evidence"]["ratio"] == 0.5 and "50%" in storm["summary"]


async def test_a_filter_outside_the_stream_or_on_no_message(
    api, admin_headers, hub_cluster, hub_nc, streams
):
    cid = hub_cluster["id"]
    name = await streams()
    subject = name.lower()
    js = hub_nc.jetstream()
    await js.add_consumer(
        name,
        ConsumerConfig(
            durable_name="elsewhere", filter_subject="other.x", ack_policy=AckPolicy.EXPLICIT
        ),
    )
    await js.add_consumer(
        name,
        ConsumerConfig(
            durable_name="refunds",
            filter_subject=f"{subject}.refund",
            ack_policy=AckPolicy.EXPLICIT,
        ),
    )
    await js.add_consumer(
        name,
        ConsumerConfig(
            durable_name="orders", filter_subject=f"{subject}.order", ack_policy=AckPolicy.EXPLICIT
        ),
    )
    await _publish(hub_nc, f"{subject}.order", 3)
    diagnosis = ask(api, admin_headers, cluster_id=cid, stream=name)
    outside = found(diagnosis, "filter_matches_nothing", name, "elsewhere")
    assert outside["severity"] == "critical"
    assert outside["evidence"]["outside"] == ["other.x"]
    assert outside["evidence"]["stream_subjects"] == [f"{subject}.>"]
    none_on_it = found(diagnosis, "filter_matches_nothing", name, "refunds")
    assert none_on_it["severity"] == "warning" and none_on_it["evidence"]["messages"] == 3
    assert none_on_it["evidence"]["counts"] == {f"{subject}.refund": 0}
    assert found(diagnosis, "filter_matches_nothing", name, "orders") is None


async def test_lag_growing_from_the_collected_history(
    api, admin_headers, hub_cluster, hub_nc, streams
):
    cid = hub_cluster["id"]
    name = await streams()
    await hub_nc.jetstream().add_consumer(
        name, ConsumerConfig(durable_name="behind", ack_policy=AckPolicy.EXPLICIT)
    )

    def last_lag():
        reply = api.get(
            "/api/v1/analytics/consumers/behind/lag",
            headers=admin_headers,
            params={"cluster_id": cid, "stream": name, "range": "30m"},
        )
        assert reply.status_code == 200, reply.text
        points = reply.json()["lag"]
        return points[-1]["value"] if points else None

    total = 0
    for _ in range(4):  # each step seen in a later 5 s bucket of the history
        total += 150
        await _publish(hub_nc, f"{name.lower()}.x", 150)
        wait_until(
            lambda total=total: last_lag() == total,
            f"the collector's samples with lag {total}",
            180,
        )
    diagnosis = ask(api, admin_headers, cluster_id=cid, stream=name, consumer="behind")
    growing = found(diagnosis, "consumer_lag_growing", name, "behind")
    assert growing is not None, diagnosis
    assert growing["severity"] == "warning"
    # buckets average the samples in them (one taken while publishing is in between)
    assert growing["evidence"]["lag_last"] == 600 and growing["evidence"]["rise"] >= 100
    assert growing["evidence"]["lag_first"] < 600
    assert growing["evidence"]["points"] >= 4 and growing["evidence"]["ack_rate"] == 0


# -- streams ---------------------------------------------------------------------------------


async def test_a_stream_nearly_full(api, admin_headers, hub_cluster, hub_nc, streams):
    cid = hub_cluster["id"]
    name = await streams(max_bytes=20_000, discard=DiscardPolicy.NEW)
    js = hub_nc.jetstream()
    while (await js.stream_info(name)).state.bytes < 19_200:  # 96 %
        await js.publish(f"{name.lower()}.x", b"y" * 150)
    full = found(ask(api, admin_headers, cluster_id=cid, stream=name), "storage_near_limit", name)
    assert full["severity"] == "critical" and full["evidence"]["limit"] == "max_bytes"
    assert full["evidence"]["max_bytes"] == 20_000 and full["evidence"]["bytes"] >= 19_200
    assert full["evidence"]["discard"] == "new" and "refuses" in full["summary"]
    # the cluster's diagnosis has it too
    assert found(ask(api, admin_headers, cluster_id=cid), "storage_near_limit", name)


async def test_an_idle_stream(admin_headers, hub_cluster, hub_nc, streams, stack):
    cid = hub_cluster["id"]
    name = await streams()
    await _publish(hub_nc, f"{name.lower()}.x", 1)
    soon = await later(stack, admin_headers, 60, cluster_id=cid, stream=name)
    assert not [f for f in soon.findings if f.code == "stream_idle"]
    diagnosis = await later(stack, admin_headers, 2 * 86400, cluster_id=cid, stream=name)
    (idle,) = [f for f in diagnosis.findings if f.code == "stream_idle"]
    assert idle.severity == "info" and idle.stream == name
    assert idle.evidence["messages"] == 1 and idle.evidence["idle_for_s"] >= 2 * 86400


# -- mirrors ---------------------------------------------------------------------------------


async def test_a_mirror_whose_source_is_gone_is_broken(
    api, admin_headers, hub_cluster, hub_nc, streams
):
    cid = hub_cluster["id"]
    source = await streams()
    mirror = await streams(mirror=StreamSource(name=source))
    await _publish(hub_nc, f"{source.lower()}.x", 3)
    await hub_nc.jetstream().delete_stream(source)

    def broken():
        return found(
            ask(api, admin_headers, cluster_id=cid, stream=mirror), "mirror_broken", mirror
        )

    finding = wait_until(broken, "the mirror found broken", 120, every=1)
    # the server's own error, or the replication map's word for it, whichever came first
    assert finding["severity"] == "critical"
    assert "stream not found" in finding["summary"] or "does not exist" in finding["summary"]
    assert "on cluster test-hub" in finding["summary"] or "stream not found" in finding["summary"]
    assert finding["evidence"]["source_stream"] == source
    assert finding["evidence"]["kind"] == "mirror"


async def test_a_paused_mirror_falls_behind(
    api, admin_headers, admin_org_id, hub_cluster, dr_cluster, hub_nc, dr_nc, db_sessions, streams
):
    source, target = await streams(), _name("DGMIR")
    hub, dr = JetStreamApi(hub_nc, "hub"), JetStreamApi(dr_nc, "dr")
    row = await console_mirror(
        db_sessions, admin_org_id, hub, dr, hub_cluster, dr_cluster, source, target
    )
    try:
        await pause_consumer(hub, source, row.consumer_name)
        await _publish(hub_nc, f"{source.lower()}.x", 1200)

        def behind():
            diagnosis = ask(api, admin_headers, cluster_id=dr_cluster["id"], stream=target)
            return found(diagnosis, "mirror_behind", target)

        finding = wait_until(behind, "the paused mirror found behind", 120, every=1)
        assert finding["severity"] == "warning" and finding["cluster_id"] == dr_cluster["id"]
        assert finding["evidence"]["lag_messages"] == 1200
        assert finding["evidence"]["status"] == "paused" and "paused" in finding["summary"]
        assert finding["suggestion"].startswith("Resume")
    finally:
        try:
            await dr.stream_delete(target)
        finally:
            await forget_rows(db_sessions, row)


# -- quotas ----------------------------------------------------------------------------------


async def test_a_team_quota_nearly_used(api, admin_headers, hub_cluster):
    cid = hub_cluster["id"]
    prefix = _name("QT") + "_"
    team = api.post(
        "/api/v1/teams",
        headers=admin_headers,
        json={"name": unique("quota-team"), "namespaces": [{"cluster_id": cid, "prefix": prefix}]},
    )
    assert team.status_code == 201, team.text
    tid = team.json()["id"]
    made = []
    try:
        for suffix in ("A", "B"):
            reply = api.post(
                f"/api/v1/clusters/{cid}/streams",
                headers=admin_headers,
                json={
                    "name": prefix + suffix,
                    "subjects": [f"{prefix.lower()}{suffix.lower()}.>"],
                    "storage": "memory",
                },
            )
            assert reply.status_code == 201, reply.text
            made.append(prefix + suffix)
        assert (
            api.put(
                f"/api/v1/teams/{tid}/quotas",
                headers=admin_headers,
                json={"limits": {"streams": 2, "messages": 1000}},
            ).status_code
            == 200
        )
        diagnosis = ask(api, admin_headers, cluster_id=cid, stream=made[0])
        (quota,) = [f for f in diagnosis["findings"] if f["code"] == "quota_near_limit"]
        assert quota["team_id"] == tid and quota["severity"] == "critical"
        assert quota["evidence"]["resource"] == "streams"
        assert (quota["evidence"]["usage"], quota["evidence"]["limit"]) == (2, 2)
        # the cluster's diagnosis has it; a stream outside the team's namespace does not
        assert any(f["team_id"] == tid for f in ask(api, admin_headers, cluster_id=cid)["findings"])
    finally:
        for name in made:
            api.delete(f"/api/v1/clusters/{cid}/streams/{name}", headers=admin_headers)
        api.delete(f"/api/v1/teams/{tid}", headers=admin_headers)


# -- who sees what ---------------------------------------------------------------------------


async def test_a_viewer_gets_the_findings_of_what_they_read_and_another_org_nothing(
    api, admin_headers, hub_cluster, hub_nc, streams, make_member
):
    cid = hub_cluster["id"]
    name = await streams(max_msgs=5)
    await _publish(hub_nc, f"{name.lower()}.x", 5)
    viewer, _, _ = await make_member("viewer")
    diagnosis = ask(api, viewer, cluster_id=cid)
    assert found(diagnosis, "storage_near_limit", name)["evidence"]["messages"] == 5
    assert {"cluster_id": cid, "stream": name, "consumer": None} in diagnosis["checked"]
    # a viewer may not read teams: their quotas are a line of what could not be read
    assert any(e.startswith("team quotas:") and e.endswith("(403)") for e in diagnosis["errors"])
    stranger, _, _ = await make_member("admin", org="new")
    for params in (
        {"cluster_id": cid},
        {"cluster_id": cid, "stream": name},
        {"cluster_id": cid, "stream": name, "consumer": "x"},
    ):
        reply = api.get(DIAGNOSE, headers=stranger, params=params)
        assert reply.status_code == 404, reply.text
        assert reply.headers["content-type"].startswith("application/problem+json")
    assert api.get(DIAGNOSE, headers=stranger, params={"stream": name}).status_code == 404
    everything = ask(api, stranger)
    assert all(f["stream"] != name for f in everything["findings"])


async def test_a_role_limited_to_its_namespace_gets_nothing_from_outside(api, stack, hub_nc):
    owner = signup(api)
    cid = add_cluster(api, owner, stack.env["JSC_HUB_URL"])["id"]
    prefix = _name("NS") + "_"
    inside, outside = prefix + "IN", _name("OUT")
    js = hub_nc.jetstream()
    try:
        for name in (inside, outside):
            await js.add_stream(StreamConfig(name=name, subjects=[f"{name.lower()}.>"], max_msgs=1))
            await js.publish(f"{name.lower()}.x", b"x")
        assert (
            api.post(
                "/api/v1/roles",
                headers=owner.headers,
                json={
                    "name": "team-reader",
                    "permissions": ["clusters:read:*", "streams:read:team", "consumers:read:team"],
                },
            ).status_code
            == 201
        )
        reader = invite(api, owner, "viewer")
        assert (
            api.patch(
                f"/api/v1/users/{reader.user_id}",
                headers=owner.headers,
                json={"role": "team-reader"},
            ).status_code
            == 200
        )
        add_team(api, owner, (cid, prefix), members=(reader,))
        mine = ask(api, reader.headers, cluster_id=cid)
        assert found(mine, "storage_near_limit", inside)
        assert all(f["stream"] != outside for f in mine["findings"])
        assert all(c["stream"] != outside for c in mine["checked"])
        assert (
            api.get(
                DIAGNOSE, headers=reader.headers, params={"cluster_id": cid, "stream": outside}
            ).status_code
            == 403
        )
        assert found(
            ask(api, reader.headers, cluster_id=cid, stream=inside), "storage_near_limit", inside
        )
        everything = ask(api, reader.headers)
        assert all(f["stream"] != outside for f in everything["findings"])
        # the owner sees both
        both = ask(api, owner.headers, cluster_id=cid)
        assert found(both, "storage_near_limit", inside) and found(
            both, "storage_near_limit", outside
        )
    finally:
        for name in (inside, outside):
            try:
                await js.delete_stream(name)
            except Exception:
                pass


# -- input -----------------------------------------------------------------------------------


def test_bad_input_names_the_field_and_unknown_things_are_404(api, admin_headers, hub_cluster):
    cid = hub_cluster["id"]
    for params, field in (
        ({"consumer": "x"}, "stream"),
        ({"cluster_id": "nope"}, "cluster_id"),
        ({"stream": "a.b"}, "stream"),
        ({"stream": "a\x01b"}, "stream"),
        ({"stream": "S", "consumer": "a>b"}, "consumer"),
        ({"stream": "x" * 256}, "stream"),
    ):
        reply = api.get(DIAGNOSE, headers=admin_headers, params=params)
        assert reply.status_code == 422, (params, reply.text)
        assert field in reply.text
    assert (
        api.get(
            DIAGNOSE, headers=admin_headers, params={"cluster_id": str(uuid.uuid4())}
        ).status_code
        == 404
    )
    missing = _name("MISSING")
    assert (
        api.get(
            DIAGNOSE, headers=admin_headers, params={"cluster_id": cid, "stream": missing}
        ).status_code
        == 404
    )
    assert api.get(DIAGNOSE, headers=admin_headers, params={"stream": missing}).status_code == 404
    assert api.get(DIAGNOSE, params={"cluster_id": cid}).status_code == 401


async def test_an_unknown_consumer_is_404_and_everything_covers_every_cluster(api, stack, streams):
    owner = signup(api)  # an organization of its own: its clusters are these two
    hub = add_cluster(api, owner, stack.env["JSC_HUB_URL"])["id"]
    dr = add_cluster(api, owner, stack.env["JSC_DR_URL"], domain="dr")["id"]
    name = await streams(max_msgs=1)
    reply = api.get(
        DIAGNOSE,
        headers=owner.headers,
        params={"cluster_id": hub, "stream": name, "consumer": "ghost"},
    )
    assert reply.status_code == 404, reply.text
    everything = ask(api, owner.headers)
    assert {"cluster_id": hub, "stream": None, "consumer": None} in everything["checked"]
    assert {"cluster_id": dr, "stream": None, "consumer": None} in everything["checked"]
    assert {"cluster_id": hub, "stream": name, "consumer": None} in everything["checked"]
    # a stream without its cluster is looked for in every cluster: found on hub, not on dr
    alone = ask(api, owner.headers, stream=name)
    assert alone["checked"] == [{"cluster_id": hub, "stream": name, "consumer": None}]
    assert not [e for e in everything["errors"] if "quotas" in e]  # an owner reads teams
    # a diagnosis stops at its limit of reads and says so, once
    async with httpx.AsyncClient(
        base_url=stack.api_url, headers=owner.headers, timeout=60
    ) as client:
        cut = await diagnose(client, budget=3)
    assert cut.errors == [
        "the diagnosis stopped after 3 reads of the API: narrow it to a "
        "cluster, a stream or a consumer to check the rest"
    ]
