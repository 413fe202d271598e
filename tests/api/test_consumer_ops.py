"""Consumer pause/resume and health, through the API, checked against the NATS server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fixtures import unique, wait_for_audit


async def test_pause_until_a_time_and_resume(api, admin_headers, hub_cluster, hub_nc, make_member):
    js = hub_nc.jetstream()
    stream = unique("pause")
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    base = f"/api/v1/clusters/{hub_cluster['id']}/streams/{stream}/consumers"
    api.post(base, headers=admin_headers, json={"durable_name": "worker", "ack_policy": "explicit"})

    until = datetime.now(UTC) + timedelta(hours=1)
    paused = api.post(
        f"{base}/worker/pause", headers=admin_headers, json={"until": until.isoformat()}
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True
    info = await js.consumer_info(stream, "worker")
    assert info.paused is True
    assert api.get(f"{base}/worker", headers=admin_headers).json()["health"]["paused"] is True
    wait_for_audit(api, admin_headers, action="consumer.pause", resource_name="worker")

    operator, _, _ = await make_member("operator")
    resumed = api.post(f"{base}/worker/resume", headers=operator)  # operators may pause/resume
    assert resumed.status_code == 200 and resumed.json()["paused"] is False
    assert not (await js.consumer_info(stream, "worker")).paused
    past = api.post(
        f"{base}/worker/pause", headers=admin_headers, json={"until": "2001-01-01T00:00:00Z"}
    )
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "until"
    viewer, _, _ = await make_member("viewer")
    assert api.post(f"{base}/worker/resume", headers=viewer).status_code == 403
    await js.delete_stream(stream)


async def test_health_shows_its_parts(api, admin_headers, hub_cluster, hub_nc):
    js = hub_nc.jetstream()
    stream = unique("health")
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    base = f"/api/v1/clusters/{hub_cluster['id']}/streams/{stream}/consumers"
    api.post(base, headers=admin_headers, json={"durable_name": "slow", "ack_policy": "explicit"})
    for _i in range(1500):
        await js.publish(f"{stream}.x", b"m")
    health = api.get(f"{base}/slow", headers=admin_headers).json()["health"]
    parts = {p["name"]: p for p in health["components"]}
    assert parts["lag"] == {
        "name": "lag",
        "value": 1500,
        "status": "warning",
        "weight": 30,
        "score": 60,
    }
    assert parts["connection"]["status"] == "critical"  # messages wait and no client pulls
    assert health["status"] in ("healthy", "warning") and 0 < health["score"] < 100
    listed = api.get(base, headers=admin_headers).json()["items"]
    assert listed[0]["health"]["score"] == health["score"]
    await js.delete_stream(stream)
