"""Reading a range of a stream exactly: the consumer reader (limits streams) and the MSG.GET reader
(work-queue and interest streams) give the same messages, with raw headers (repeated names kept)
and timestamps in nanoseconds, gaps skipped and the bounds kept; the checksum of a range is the
same whichever reads it, and the connection's other subscriptions are untouched by the tap."""

from __future__ import annotations

import asyncio

from core.backups.checksum import MessageChecksum, stream_checksum
from core.backups.reader import ConsumerRangeReader, msg_get_range, read_range, time_ns
from tests.backups.conftest import delete_quietly, exact, fill, make_stream, stream_name


async def _collect(batches) -> list:
    return [m async for batch in batches for m in batch]


async def test_both_readers_read_the_range_exactly(hub_nc, hub_js):
    name = stream_name()
    await make_stream(hub_js, name)
    try:
        await fill(hub_nc, name.lower(), 3000)
        for seq in (1, 100, 101, 2000, 2999):
            await hub_js.request(f"STREAM.MSG.DELETE.{name}", {"seq": seq})
        stored = await exact(hub_js, name, 3000)
        want = [(s, *stored[s]) for s in sorted(stored) if 50 <= s <= 2999]

        for read in (
            ConsumerRangeReader(hub_js, name, 50, 2999, avg_size=300).batches(),
            msg_get_range(hub_js, name, 50, 2999),
        ):
            got = await _collect(read)
            assert [(m.seq, m.subject.decode(), m.header, m.payload) for m in got] == [
                w[:4] for w in want
            ]
            assert [m.timestamp for m in got] == [time_ns(w[4]) for w in want]
        assert any(b"X-N: again" in m.header for m in got)

        # a range with nothing in it, and one past the end, end at once
        assert await _collect(read_range(hub_js, name, 100, 101)) == []
        assert await _collect(read_range(hub_js, name, 3001, 4000)) == []
        assert not [c for c in await hub_js.consumer_list(name)]  # the reader's consumer is gone

        one, other = MessageChecksum(), await stream_checksum(hub_js, name, 50, 2999)
        for w in want:
            one.update(w[0], w[1].encode(), w[3])
        assert one.result() == other
    finally:
        await delete_quietly(hub_js, name)


async def test_the_tap_leaves_other_subscriptions_alone(hub_nc, hub_js):
    name = stream_name()
    await make_stream(hub_js, name)
    try:
        await fill(hub_nc, name.lower(), 500)
        sub = await hub_nc.subscribe("jsc.test.tap")
        reading = asyncio.create_task(_collect(read_range(hub_js, name, 1, 500)))
        await hub_nc.publish("jsc.test.tap", b"plain", headers={"A": "1"})
        msg = await sub.next_msg(timeout=10)
        assert (msg.data, msg.headers) == (b"plain", {"A": "1"})
        assert len(await reading) == 500
        await sub.unsubscribe()
    finally:
        await delete_quietly(hub_js, name)
