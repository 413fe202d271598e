"""Starting, stopping and starting again on the same data dir; refusing clearly, leaving nothing."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import asyncpg
import nats
import pytest
import redis.asyncio as aioredis

from stack import state
from stack.errors import StackError
from stack.launcher import Stack
from tests.conftest import make_data_dir, remove_data_dir
from tests.stack.util import children, exists

BACKING = ["hub", "dr", "postgres", "redis"]


def pg_dsn(stack: Stack) -> str:
    return stack.env["JSC_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def data_dir():
    path = make_data_dir()
    yield path
    remove_data_dir(path)


async def test_a_restart_keeps_the_data_and_the_secrets(data_dir, capfd):
    first = Stack(data_dir, only=BACKING, auto_ports=True).start()
    try:
        with pytest.raises(StackError, match=f"already running on {data_dir}"):
            Stack(data_dir, only=["redis"], auto_ports=True).start()
        conn = await asyncpg.connect(pg_dsn(first))
        await conn.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('a row')")
        await conn.close()
        r = aioredis.from_url(first.env["JSC_REDIS_URL"])
        await r.set("kept", "a key")
        await r.aclose()
        nc = await nats.connect(first.env["JSC_HUB_URL"])
        await nc.jetstream().add_stream(name="KEPT", subjects=["kept.>"])
        await nc.jetstream().publish("kept.x", b"a message")
        await nc.close()
        pids = list(first.info["services"][n]["pid"] for n in BACKING)
        secrets_before = json.loads((data_dir / "secrets.json").read_text())
        env_before = dict(first.env)
    finally:
        first.stop()
    assert not (data_dir / "stack.json").exists()
    assert not any(exists(pid) for pid in pids), "every process was stopped and reaped"

    # a launcher killed without cleaning up leaves a stack.json behind: noted, not fatal
    state.write(data_dir, {"launcher": {"pid": dead_pid()}, "services": {}})
    capfd.readouterr()
    second = Stack(data_dir, only=BACKING, auto_ports=True).start()
    try:
        assert "is stale" in capfd.readouterr().err
        conn = await asyncpg.connect(pg_dsn(second))
        assert await conn.fetchval("SELECT v FROM kept") == "a row"
        await conn.close()
        r = aioredis.from_url(second.env["JSC_REDIS_URL"])
        assert await r.get("kept") == b"a key"
        await r.aclose()
        nc = await nats.connect(second.env["JSC_HUB_URL"])
        assert (await nc.jetstream().stream_info("KEPT")).state.messages == 1
        await nc.close()
        assert json.loads((data_dir / "secrets.json").read_text()) == secrets_before
        for name in ("JSC_SECRET_KEY", "JSC_ENCRYPTION_KEY"):
            assert second.env[name] == env_before[name]
    finally:
        second.stop()
    assert (data_dir / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_a_taken_port_is_named_before_anything_starts(data_dir):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        before = children()
        stack = Stack(
            data_dir, only=BACKING, auto_ports=True, env_overrides={"JSC_REDIS_PORT": str(port)}
        )
        with pytest.raises(StackError) as failure:
            stack.start()
    message = str(failure.value)
    assert f"port {port} (Redis): already in use" in message and "JSC_REDIS_PORT" in message
    assert children() == before, "nothing was started"
    assert not (data_dir / "stack.json").exists()
    assert not (data_dir / "postgres").exists(), "not even initdb ran"


def test_a_service_failing_mid_start_is_named_and_the_others_are_stopped(data_dir):
    pgdata = data_dir / "postgres"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("9\n")  # a data dir this PostgreSQL cannot use
    before = children()
    with pytest.raises(StackError) as failure:
        Stack(data_dir, only=BACKING, auto_ports=True).start()
    message = str(failure.value)
    assert "postgres exited with code 2 while starting" in message
    assert str(data_dir / "logs" / "postgres.log") in message  # and the log's tail:
    assert "could not access the server configuration file" in message
    assert children() == before, "hub, dr and redis, started first, were stopped and reaped"
    assert not (data_dir / "stack.json").exists()
    Stack(
        data_dir, only=["redis"], auto_ports=True
    ).start().stop()  # and the data dir is free again
