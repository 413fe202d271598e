"""The local NATS servers' accounts: the console's own streams in ``JSC`` (hub only, user ``jsc``),
everything a tenant sees in ``APP``; and a data dir written before the accounts existed (streams
in the global account ``$G``) keeps its streams, messages and durable consumers after an upgrade."""

from __future__ import annotations

import subprocess

import nats
import pytest
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from core.events import STREAM, STREAM_CONFIG
from stack import probes
from stack.launcher import Stack
from stack.ports import free_port
from stack.services import binary
from tests.conftest import make_data_dir, remove_data_dir
from tests.stack.util import wait_for


@pytest.fixture
def data_dir():
    path = make_data_dir()
    yield path
    remove_data_dir(path)


class SingleAccountServer:
    """A nats-server as the launcher ran it before the accounts: one global account, no users."""

    def __init__(self, store: str):
        self.port, monitor = free_port(), free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                binary("nats-server"),
                "-js",
                "-sd",
                store,
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-m",
                str(monitor),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: probes.http_ok(f"http://127.0.0.1:{monitor}/healthz"), what="nats-server")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def _write_legacy_data(nats_dir) -> None:
    hub, dr = SingleAccountServer(str(nats_dir / "hub")), SingleAccountServer(str(nats_dir / "dr"))
    try:
        nc_hub, nc_dr = await nats.connect(hub.url), await nats.connect(dr.url)
        js = nc_hub.jetstream()
        await js.add_stream(STREAM_CONFIG)
        for i in range(3):
            await js.publish(
                "jsc.events.audit", f"event {i}".encode(), headers={"Nats-Msg-Id": f"e{i}"}
            )
        await js.add_consumer(STREAM, ConsumerConfig(durable_name="clickhouse-ingester"))
        await js.add_stream(name="ORDERS", subjects=["orders.>"])
        await js.publish("orders.1", b"an order")
        await nc_dr.jetstream().add_stream(name="LOCAL", subjects=["local.>"])
        await nc_dr.jetstream().publish("local.1", b"a local message")
        await nc_hub.close()
        await nc_dr.close()
    finally:
        hub.stop()
        dr.stop()
    assert (nats_dir / "hub" / "jetstream" / "$G" / "streams" / STREAM).is_dir()


async def test_an_older_data_dir_keeps_its_streams_in_their_accounts(data_dir, capfd):
    await _write_legacy_data(data_dir / "nats")
    upgraded = Stack(data_dir, only=["hub", "dr"], auto_ports=True).start()  # waits for /healthz
    try:
        assert "moved NATS streams" in capfd.readouterr().err
        assert not (data_dir / "nats" / "hub" / "jetstream" / "$G").exists()
        internal = await nats.connect(upgraded.env["JSC_INTERNAL_NATS_URL"])
        hub = await nats.connect(upgraded.env["JSC_HUB_URL"])
        dr = await nats.connect(upgraded.env["JSC_DR_URL"])
        try:
            events = await internal.jetstream().stream_info(STREAM)
            assert events.state.messages == 3
            consumer = await internal.jetstream().consumer_info(STREAM, "clickhouse-ingester")
            assert consumer.num_pending == 3
            assert [s.config.name for s in await hub.jetstream().streams_info()] == ["ORDERS"]
            assert (await hub.jetstream().get_msg("ORDERS", 1)).data == b"an order"
            with pytest.raises(NotFoundError):
                await hub.jetstream().stream_info(STREAM)
            assert (await dr.jetstream().stream_info("LOCAL")).state.messages == 1
            assert [s.config.name for s in await internal.jetstream().streams_info()] == [STREAM]
        finally:
            for nc in (internal, hub, dr):
                await nc.close()
    finally:
        upgraded.stop()


def test_the_internal_user_is_a_secret_of_the_data_dir(data_dir):
    started = Stack(data_dir, only=["hub", "dr"], auto_ports=True).start()
    try:
        url = started.env["JSC_INTERNAL_NATS_URL"]
        secrets = (data_dir / "secrets.json").read_text()
        assert url.startswith("nats://jsc:") and url.split(":")[2].split("@")[0] in secrets
        assert url.split("@")[1] == started.env["JSC_HUB_URL"].split("//")[1]
        assert url not in (data_dir / "stack.json").read_text()
        assert "jsc:" not in (data_dir / "stack.json").read_text()
    finally:
        started.stop()
