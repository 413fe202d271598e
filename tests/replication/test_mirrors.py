"""Mirrors made through the API on the real hub -> dr stack (and inside hub): the operation waits
until each has caught up and reports it; every mirrored message is compared with its source,
subject, payload and sequence (a mirror keeps its source's sequence numbers)."""

from __future__ import annotations

from datetime import datetime

from core.jetstream.api import JetStreamApi
from tests.replication.conftest import (
    fill,
    message_count,
    mirror_body,
    mirror_row,
    read_stream,
    start_mirror,
    target_name,
    wait_operation,
    wait_until_async,
)


def caught_up(op: dict, copied: int) -> dict:
    """The one mirror of a completed operation, checked against the contract."""
    assert op["status"] == "completed", op
    assert op["type"] == "mirror"
    result = op["result"]
    [mirror] = result["mirrors"]
    assert mirror["caught_up"] is True and mirror["messages_copied"] == copied, result
    assert mirror["caught_up_in_s"] is not None and mirror["caught_up_in_s"] >= 0
    assert result["caught_up_in_s"] == mirror["caught_up_in_s"]
    assert mirror["bytes_copied"] > 0 or copied == 0
    assert op["progress"]["unit"] == "messages"
    assert op["progress"]["done"] == copied and op["progress"]["total"] == copied, op["progress"]
    return mirror


async def test_a_full_mirror_on_another_domain_copies_every_message(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.orders", f"{stream}.refunds.eu"], 120)
    target = target_name(cleanup, dr_nc)
    started = start_mirror(
        api,
        admin_headers,
        mirror_body(hub_cluster, dr_cluster, stream, target, description="orders, on dr"),
    )
    assert started["status"] == "pending" and started["mirror_id"]
    op = wait_operation(api, admin_headers, started["id"])
    mirror = caught_up(op, 120)
    assert mirror["mirror_id"] == started["mirror_id"] and mirror["target_stream"] == target
    assert await read_stream(dr_nc, target) == await read_stream(hub_nc, stream)

    row = mirror_row(api, admin_headers, started["mirror_id"])
    assert row["state"] == "active" and row["operation_id"] == started["id"]
    assert (row["source_stream"], row["target_cluster_id"]) == (stream, dr_cluster["id"])
    config = (await JetStreamApi(dr_nc).stream_info(target))["config"]
    assert config["mirror"]["external"]["api"] == "$JS.hub.API"
    assert config["mirror"]["consumer"]["name"] == row["consumer_name"]
    assert config["description"] == "orders, on dr"

    # it keeps replicating after the operation ended
    await fill(hub_nc.jetstream(), [f"{stream}.orders"], 5, start=120)
    await wait_until_async(lambda: _count_is(dr_nc, target, 125), "the mirror to follow")
    assert await read_stream(dr_nc, target) == await read_stream(hub_nc, stream)


async def _count_is(nc, stream: str, count: int) -> bool:
    return await message_count(nc, stream) == count


async def test_a_mirror_inside_one_cluster_needs_no_external_api(
    api, admin_headers, hub_cluster, hub_nc, source, cleanup
):
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.a"], 30)
    target = target_name(cleanup, hub_nc)
    started = start_mirror(
        api, admin_headers, mirror_body(hub_cluster, hub_cluster, stream, target)
    )
    caught_up(wait_operation(api, admin_headers, started["id"]), 30)
    assert "external" not in (await JetStreamApi(hub_nc).stream_info(target))["config"]["mirror"]
    assert await read_stream(hub_nc, target) == await read_stream(hub_nc, stream)


async def test_a_filtered_mirror_takes_only_its_subjects(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    await fill(
        hub_nc.jetstream(),
        [f"{stream}.eu.orders", f"{stream}.us.orders", f"{stream}.eu.refunds"],
        90,
    )
    target = target_name(cleanup, dr_nc)
    started = start_mirror(
        api,
        admin_headers,
        mirror_body(hub_cluster, dr_cluster, stream, target, filter_subjects=[f"{stream}.eu.>"]),
    )
    caught_up(wait_operation(api, admin_headers, started["id"]), 60)
    expected = [m for m in await read_stream(hub_nc, stream) if m[1].startswith(f"{stream}.eu.")]
    assert len(expected) == 60
    assert await read_stream(dr_nc, target) == expected
    assert mirror_row(api, admin_headers, started["mirror_id"])["filter_subjects"] == [
        f"{stream}.eu.>"
    ]


async def test_subject_transforms_rename_what_the_mirror_stores(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.eu.orders", f"{stream}.us.orders"], 40)
    target = target_name(cleanup, dr_nc)
    started = start_mirror(
        api,
        admin_headers,
        mirror_body(
            hub_cluster,
            dr_cluster,
            stream,
            target,
            subject_transforms=[
                {"src": f"{stream}.eu.*", "dest": f"dr.{stream}.eu.{{{{wildcard(1)}}}}"}
            ],
        ),
    )
    caught_up(wait_operation(api, admin_headers, started["id"]), 20)
    expected = [
        (seq, subject.replace(f"{stream}.eu.", f"dr.{stream}.eu."), data)
        for seq, subject, data in await read_stream(hub_nc, stream)
        if subject.startswith(f"{stream}.eu.")
    ]
    assert len(expected) == 20
    assert await read_stream(dr_nc, target) == expected


async def test_a_mirror_from_a_sequence(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.a", f"{stream}.b"], 50)
    target = target_name(cleanup, dr_nc)
    started = start_mirror(
        api, admin_headers, mirror_body(hub_cluster, dr_cluster, stream, target, start={"seq": 31})
    )
    caught_up(wait_operation(api, admin_headers, started["id"]), 20)
    expected = [m for m in await read_stream(hub_nc, stream) if m[0] >= 31]
    assert [m[0] for m in expected] == list(range(31, 51))
    assert await read_stream(dr_nc, target) == expected


async def test_a_mirror_from_a_time(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    js = hub_nc.jetstream()
    await fill(js, [f"{stream}.a"], 25)
    await fill(js, [f"{stream}.b"], 15, start=25)
    first_b = await JetStreamApi(hub_nc).request(f"STREAM.MSG.GET.{stream}", {"seq": 26})
    stored = first_b["message"]["time"]  # RFC 3339 with nanoseconds: keep microseconds
    head, _, fraction = stored.rstrip("Z").partition(".")
    since = datetime.fromisoformat(f"{head}.{fraction[:6].ljust(6, '0')}+00:00")
    target = target_name(cleanup, dr_nc)
    started = start_mirror(
        api,
        admin_headers,
        mirror_body(hub_cluster, dr_cluster, stream, target, start={"time": since.isoformat()}),
    )
    caught_up(wait_operation(api, admin_headers, started["id"]), 15)
    expected = [m for m in await read_stream(hub_nc, stream) if m[0] >= 26]
    assert {m[1] for m in expected} == {f"{stream}.b"}
    assert await read_stream(dr_nc, target) == expected


async def test_a_mirror_of_new_messages_copies_nothing_old(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    js = hub_nc.jetstream()
    await fill(js, [f"{stream}.a"], 20)
    target = target_name(cleanup, dr_nc)
    started = start_mirror(
        api, admin_headers, mirror_body(hub_cluster, dr_cluster, stream, target, start="new")
    )
    caught_up(wait_operation(api, admin_headers, started["id"]), 0)
    assert await message_count(dr_nc, target) == 0
    await fill(js, [f"{stream}.b"], 7, start=20)
    await wait_until_async(lambda: _count_is(dr_nc, target, 7), "the new messages on dr")
    expected = [m for m in await read_stream(hub_nc, stream) if m[0] > 20]
    assert [m[0] for m in expected] == list(range(21, 28))
    assert await read_stream(dr_nc, target) == expected


async def test_an_idempotency_key_starts_one_mirror(
    api, admin_headers, hub_cluster, dr_cluster, hub_nc, dr_nc, source, cleanup
):
    stream = await source()
    await fill(hub_nc.jetstream(), [f"{stream}.a"], 3)
    target = target_name(cleanup, dr_nc)
    body = mirror_body(hub_cluster, dr_cluster, stream, target)
    first = start_mirror(api, admin_headers, body, key=f"k-{target}")
    again = start_mirror(api, admin_headers, body, key=f"k-{target}")
    assert (again["id"], again["mirror_id"]) == (first["id"], first["mirror_id"])
    caught_up(wait_operation(api, admin_headers, first["id"]), 3)
    listed = api.get(
        "/api/v1/mirrors", params={"cluster_id": dr_cluster["id"]}, headers=admin_headers
    ).json()["items"]
    assert [m["id"] for m in listed if m["target_stream"] == target] == [first["mirror_id"]]
