"""Backups and restores end to end through the HTTP API on the real stack: a full backup to the
``dr`` object store, incremental backups chained on it, and a restore of the chain to its newest
point into a new stream, compared message by message (sequence, subject, payload) with the
source; the stream's consumers come back with their configuration and ack floors."""

from __future__ import annotations

import pytest
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from core.jetstream.api import JetStreamApi
from tests.backups.api_helpers import Streams, backup_org
from tests.operations.conftest import read_all


@pytest.fixture
async def streams(hub_nc):
    made = Streams(hub_nc)
    yield made
    await made.remove()


async def contents(nc, stream: str) -> list[tuple[int, str, bytes]]:
    return [(m.metadata.sequence.stream, m.subject, m.data) for m in await read_all(nc, stream)]


async def ack_some(nc, stream: str, durable: str, count: int) -> None:
    sub = await nc.jetstream().pull_subscribe(f"{stream}.>", durable=durable, stream=stream)
    for message in await sub.fetch(count, timeout=5):
        await message.ack_sync()


async def test_full_then_incremental_chain_restores_to_the_newest_point(
    api, stack, hub_nc, streams
):
    org = backup_org(api, stack)
    stream = await streams.make(count=30)
    await hub_nc.jetstream().add_consumer(
        stream,
        ConsumerConfig(
            durable_name="worker",
            ack_policy=AckPolicy.EXPLICIT,
            description="keeps its config",
            max_ack_pending=77,
            filter_subject=f"{stream}.>",
        ),
    )
    await ack_some(hub_nc, stream, "worker", 12)

    op, full = org.backup_done([stream])
    assert full["target"] == {
        "type": "object_store",
        "cluster_id": org.dr["id"],
        "bucket": "jsc-backups",
    }  # the org's dr cluster by default
    assert (full["kind"], full["reason"], full["status"]) == ("full", "manual", "completed")
    assert full["chain"] == [full["id"]] and full["operation_id"] == op["id"]
    [item] = full["streams"]
    assert (item["stream"], item["kind"], item["messages"]) == (stream, "full", 30)
    assert (item["first_seq"], item["last_seq"]) == (1, 30) and item["base_backup_id"] is None
    assert "worker" in item["consumers"]
    assert full["size_bytes"] > 0 and full["source_bytes"] > 0 and full["message_count"] == 30
    assert full["duration_s"] is not None and full["stream_count"] == 1
    assert full["verification"]["status"] == "verified", full["verification"]
    assert op["result"]["backup_id"] == full["id"] and op["progress"]["unit"] == "bytes"
    assert op["result"]["verification"]["status"] == "verified"

    await streams.fill(stream, 20, start=30)
    _, first = org.backup_done([stream], kind="incremental")
    [inc] = first["streams"]
    assert (inc["kind"], inc["first_seq"], inc["last_seq"], inc["messages"]) == (
        "incremental",
        31,
        50,
        20,
    )
    assert inc["base_backup_id"] == full["id"] and first["chain"] == [full["id"], first["id"]]
    await streams.fill(stream, 7, start=50)
    _, second = org.backup_done([stream], kind="incremental")
    assert second["chain"] == [full["id"], first["id"], second["id"]]
    assert second["verification"]["status"] == "verified", second["verification"]

    listed = api.get("/api/v1/backups", headers=org.headers, params={"stream": stream}).json()
    assert [b["id"] for b in listed["items"]] == [second["id"], first["id"], full["id"]]

    expected = await contents(hub_nc, stream)
    restored = streams.track(f"{stream}_back")
    started = org.restore(full["id"], restored, point="latest", to={"subjects": []})
    assert started.status_code == 202, started.text
    done = org.wait_operation(started.json()["id"])
    assert done["status"] == "completed", done
    result = done["result"]
    assert result["chain"] == [full["id"], first["id"], second["id"]]
    assert (result["stream_name"], result["last_seq"]) == (restored, 57)
    assert await contents(hub_nc, restored) == expected

    js = JetStreamApi(hub_nc)
    consumer = await js.consumer_info(restored, "worker")
    assert consumer["config"]["description"] == "keeps its config"
    assert consumer["config"]["max_ack_pending"] == 77
    assert consumer["ack_floor"]["stream_seq"] == 12

    again = org.restore(full["id"], restored)
    assert again.status_code == 409 and "to.replace" in again.json()["detail"]
    clash = org.restore(full["id"], f"{stream}_clash")  # the source's subjects are taken
    assert clash.status_code == 409 and "to.subjects" in clash.json()["detail"], clash.text


async def test_an_incremental_without_an_earlier_backup_is_full_and_says_so(
    api, stack, streams, hub_nc
):
    org = backup_org(api, stack)
    stream = await streams.make(count=4)
    op, backup = org.backup_done([stream], kind="incremental")
    assert backup["kind"] == "incremental"
    [item] = backup["streams"]
    assert item["kind"] == "full" and item["base_backup_id"] is None
    assert [s["kind"] for s in op["result"]["streams"]] == ["full"]
    restored = streams.track(f"{stream}_back")
    started = org.restore(backup["id"], restored, to={"subjects": []})
    assert started.status_code == 202, started.text
    assert org.wait_operation(started.json()["id"])["status"] == "completed"
    assert await contents(hub_nc, restored) == await contents(hub_nc, stream)

    deleted = api.delete(f"/api/v1/backups/{backup['id']}", headers=org.headers)
    assert deleted.status_code == 204, deleted.text
    assert api.get(f"/api/v1/backups/{backup['id']}", headers=org.headers).status_code == 404


async def test_a_backup_a_chain_needs_is_deleted_only_with_its_dependents(
    api, stack, streams, dr_nc
):
    org = backup_org(api, stack)
    stream = await streams.make(count=5)
    _, full = org.backup_done([stream])
    await streams.fill(stream, 2, start=5)
    _, inc = org.backup_done([stream], kind="incremental")
    store = await dr_nc.jetstream().object_store("jsc-backups")

    async def stored(backup_id: str) -> bool:
        try:
            names = [o.name for o in await store.list()]
        except NotFoundError:  # the bucket holds nothing
            return False
        return any(n.startswith(f"{org.admin.org_id}/{backup_id}/") for n in names)

    assert await stored(full["id"]) and await stored(inc["id"])
    refused = api.delete(f"/api/v1/backups/{full['id']}", headers=org.headers)
    assert refused.status_code == 409 and inc["id"] in refused.json()["detail"], refused.text
    deleted = api.delete(
        f"/api/v1/backups/{full['id']}", headers=org.headers, params={"cascade": "true"}
    )
    assert deleted.status_code == 204, deleted.text
    for gone in (full, inc):
        assert api.get(f"/api/v1/backups/{gone['id']}", headers=org.headers).status_code == 404
        assert not await stored(gone["id"])
