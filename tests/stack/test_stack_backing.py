"""The backing services the launcher starts, on a small stack of their own (NATS hub + dr, Redis):
the hub ↔ dr leafnode link lets mirrors through and nothing else, and the supervisor restarts a
process that dies."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import uuid

import nats
import pytest
from nats.errors import NoRespondersError
from nats.js.api import ExternalStream, StreamConfig, StreamSource
from nats.js.errors import NoStreamResponseError

from stack import probes
from stack.errors import StackError
from stack.launcher import Stack
from stack.services import Service
from stack.supervisor import Supervisor
from tests.conftest import make_data_dir, remove_data_dir
from tests.stack.util import running, wait_for


@pytest.fixture(scope="module")
def backing():
    data_dir = make_data_dir()
    small = Stack(data_dir, only=["hub", "dr", "redis"], auto_ports=True).start()
    yield small
    small.stop()
    remove_data_dir(data_dir)


@pytest.fixture
async def clients(backing):
    hub = await nats.connect(backing.env["JSC_HUB_URL"])
    dr = await nats.connect(backing.env["JSC_DR_URL"])
    yield hub, dr
    await hub.close()
    await dr.close()


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


async def test_a_dr_stream_mirrors_a_hub_stream_through_the_link(clients):
    hub, dr = clients
    name = unique("ORDERS")
    await hub.jetstream().add_stream(name=name, subjects=[f"{name}.>"])
    await dr.jetstream().add_stream(
        StreamConfig(
            name=f"{name}_MIRROR",
            mirror=StreamSource(name=name, external=ExternalStream(api="$JS.hub.API")),
        )
    )
    for i in range(50):
        await hub.jetstream().publish(f"{name}.new", f"order {i}".encode())

    async def mirrored() -> int:
        for _ in range(100):
            info = await dr.jetstream().stream_info(f"{name}_MIRROR")
            if info.state.messages == 50:
                break
            await asyncio.sleep(0.05)
        return info.state.messages

    assert await mirrored() == 50
    last = await dr.jetstream().get_msg(f"{name}_MIRROR", seq=50)
    assert last.data == b"order 49"


@pytest.mark.parametrize("direction", ["hub->dr", "dr->hub"])
async def test_application_subjects_do_not_cross_the_link(clients, direction):
    hub, dr = clients
    source, target = (hub, dr) if direction == "hub->dr" else (dr, hub)
    subject = unique("app")
    seen = []

    async def collect(msg):
        seen.append(msg.subject)

    async def answer(msg):
        await msg.respond(b"pong")

    await target.subscribe(f"{subject}.>", cb=collect)
    await target.subscribe(f"{subject}.rpc", cb=answer)
    stream = unique("ONLY_THERE")
    await target.jetstream().add_stream(name=stream, subjects=[f"{subject}.stored.>"])
    await target.flush()
    await asyncio.sleep(0.3)  # interest would have propagated over the link by now

    await source.publish(f"{subject}.core", b"core publish")  # core publish
    with pytest.raises(NoRespondersError):  # request/reply
        await source.request(f"{subject}.rpc", b"ping", timeout=1)
    with pytest.raises((NoStreamResponseError, NoRespondersError)):  # JetStream publish
        await source.jetstream().publish(f"{subject}.stored.x", b"js publish", timeout=1)
    await source.flush()
    await asyncio.sleep(0.5)

    assert seen == []
    assert (await target.jetstream().stream_info(stream)).state.messages == 0
    # the same publish on the target's own side is seen and stored: the probes were valid
    await target.jetstream().publish(f"{subject}.stored.x", b"local")
    assert (await target.jetstream().stream_info(stream)).state.messages == 1


def test_a_killed_server_is_restarted_and_logged(backing, capfd):
    port = backing.ports["redis"]
    old = backing.kill("redis", signal.SIGKILL)
    wait_for(lambda: backing.restarts.get("redis") == 1, what="the restart of redis")
    new = wait_for(lambda: backing.pid("redis"), what="a new redis pid")
    assert new != old and not running(old)
    wait_for(lambda: probes.redis_ping(port), what="redis to answer again")
    stack_json = backing.data_dir / "stack.json"  # rewritten just after the restart
    wait_for(
        lambda: json.loads(stack_json.read_text())["services"]["redis"]["pid"] == new,
        what="stack.json to record the new pid",
    )
    assert json.loads(stack_json.read_text())["restarts"] == {"redis": 1}
    err = capfd.readouterr().err
    assert f"redis (pid {old}) exited with signal SIGKILL" in err and "restarting in 0.5 s" in err
    assert "redis restarted" in (backing.data_dir / "logs" / "redis.log").read_text()


def test_a_stopped_service_stays_stopped_until_started(backing):
    port = backing.ports["redis"]
    restarts = backing.restarts.get("redis", 0)
    backing.stop_service("redis")
    assert not probes.redis_ping(port)
    time.sleep(1.0)  # longer than the first backoff: the supervisor leaves it alone
    assert not probes.redis_ping(port) and backing.pid("redis") is None
    backing.start_service("redis")
    assert probes.redis_ping(port)
    assert backing.restarts.get("redis", 0) == restarts


def test_restarts_back_off(tmp_path, capfd):
    """A process that keeps dying is restarted after 0.5 s, then 1 s, ... (never in a tight
    loop)."""
    messages = []
    supervisor = Supervisor(tmp_path, say=messages.append)
    flaky = Service(
        "flaky", [sys.executable, "-c", "import time, sys; time.sleep(1.1); sys.exit(3)"]
    )
    try:
        supervisor.start(flaky)
        wait_for(lambda: supervisor.restarts()["flaky"] >= 2, timeout=10, what="two restarts")
    finally:
        supervisor.stop_all()
    exits = [m for m in messages if "exited with code 3" in m]
    assert "restarting in 0.5 s" in exits[0] and "restarting in 1 s" in exits[1]


def test_a_service_that_fails_to_start_is_named_with_its_log(tmp_path):
    supervisor = Supervisor(tmp_path)
    broken = Service(
        "broken",
        [sys.executable, "-c", "print('cannot open the frobnicator'); raise SystemExit(7)"],
        ready=lambda: False,
    )
    slow = Service(
        "slow",
        [sys.executable, "-c", "print('still warming up'); import time; time.sleep(60)"],
        ready=lambda: False,
        timeout=1.5,
    )
    try:
        with pytest.raises(
            StackError, match=r"broken exited with code 7 while starting(.|\n)*frobnicator"
        ):
            supervisor.start(broken)
        with pytest.raises(
            StackError, match=r"slow did not become ready within 1.5 s(.|\n)*still warming up"
        ):
            supervisor.start(slow)
    finally:
        supervisor.stop_all()
    assert not supervisor.pids()
