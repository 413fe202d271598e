"""Operations' progress pushed live: a replay watched over SSE (``operations:{id}``) from start to
completion, its events in order, the last one the operation's final record."""

from __future__ import annotations

import uuid

import pytest

from tests.operations.conftest import fill, make_stream, start_replay, wait_operation
from tests.realtime.conftest import sse, until


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:8]
    return {"src": f"rt-src-{tag}", "dst": f"rt-dst-{tag}"}


async def test_a_replay_is_watched_to_completion_over_sse(
    stack, api, admin_headers, hub_cluster, hub_nc, names
):
    src, dst = names["src"], names["dst"]
    js = await make_stream(hub_nc, src, [f"{src}.>"])
    await make_stream(hub_nc, dst, [f"copy-{src}.>"])
    await fill(js, [f"{src}.a"], 200)
    started = start_replay(
        api,
        admin_headers,
        {
            "cluster_id": hub_cluster["id"],
            "stream": src,
            "destination": {"stream": dst, "subject_prefix": f"copy-{src}"},
        },
    )
    channel = {"channels": f"operations:{started['id']}", "last_event_id": 0}
    async with sse(stack, channel, admin_headers) as client:
        assert client.status == 200, client.body
        final = await until(
            lambda: [e for e in client.of("operation") if e["data"]["status"] == "completed"],
            "the operation's completion over SSE",
            timeout=180,
        )
        events = client.of("operation")
        assert all(e["data"]["operation_id"] == started["id"] for e in events)
        assert [e["id"] for e in events] == sorted(e["id"] for e in events)
        assert final[-1]["data"]["progress"]["done"] == 200
        assert final[-1]["data"]["result"]["replayed"] == 200
    op = wait_operation(api, admin_headers, started["id"])
    assert op["status"] == "completed"
