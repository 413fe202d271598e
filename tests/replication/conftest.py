"""Replication tests: source streams with known contents on hub, mirrors made through the API on
dr (or hub), read back message by message from the NATS servers; an extra standalone JetStream
server (domain ``edge``) that no link reaches; and cleanup of every stream a test makes."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from functools import partial
from pathlib import Path

import pytest
from nats.js.errors import NotFoundError

from core.jetstream.api import JetStreamApi
from stack.ports import HOST, free_port
from stack.services import binary
from tests import waiting
from tests.conftest import make_data_dir, remove_data_dir
from tests.fixtures import register, unique
from tests.operations.conftest import read_all

FINISHED = ("completed", "failed", "cancelled")


# Mirrors catch up within seconds here: 90 s is generous on any machine.
wait_until = partial(waiting.wait_until, timeout=90.0)
wait_until_async = partial(waiting.wait_until_async, timeout=90.0)


def mirror_body(source: dict, target: dict, stream: str, target_stream: str, **extra) -> dict:
    return {
        "source_cluster_id": source["id"],
        "source_stream": stream,
        "target_cluster_id": target["id"],
        "target_stream": target_stream,
        **extra,
    }


def start_mirror(api, headers, body: dict, key: str | None = None) -> dict:
    extra = {"Idempotency-Key": key} if key else {}
    reply = api.post("/api/v1/operations/mirror", json=body, headers={**headers, **extra})
    assert reply.status_code == 202, reply.text
    return reply.json()


def operation(api, headers, op_id: str) -> dict:
    reply = api.get(f"/api/v1/operations/{op_id}", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def wait_operation(api, headers, op_id: str, until=FINISHED, timeout: float = 120.0) -> dict:
    return wait_until(
        lambda: (op := operation(api, headers, op_id))["status"] in until and op,
        f"operation {op_id} to reach {until}",
        timeout=timeout,
    )


def mirror_row(api, headers, mirror_id: str) -> dict:
    reply = api.get(f"/api/v1/mirrors/{mirror_id}", headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


async def fill(js, subjects: list[str], count: int, start: int = 0) -> None:
    """``count`` messages round-robin over ``subjects``, payload ``m<i>``."""
    for i in range(start, start + count):
        await js.publish(subjects[i % len(subjects)], f"m{i}".encode())


async def read_stream(nc, stream: str) -> list[tuple[int, str, bytes]]:
    """(sequence, subject, payload) of every message of ``stream``, in order."""
    return [(m.metadata.sequence.stream, m.subject, m.data) for m in await read_all(nc, stream)]


async def message_count(nc, stream: str) -> int:
    return (await nc.jetstream().stream_info(stream)).state.messages


async def consumer_info(nc, stream: str, name: str) -> dict:
    return await JetStreamApi(nc).consumer_info(stream, name)


async def exists(nc, stream: str) -> bool:
    try:
        await nc.jetstream().stream_info(stream)
        return True
    except NotFoundError:
        return False


async def history_of(stack, workflow_id: str):
    """The Temporal history of a workflow run, as the replayer takes it."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    client = await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    return await client.get_workflow_handle(workflow_id).fetch_history()


@pytest.fixture
async def cleanup():
    """``cleanup(nc, stream)``: delete the stream (with its consumers) after the test."""
    made: list[tuple] = []
    yield lambda nc, stream: made.append((nc, stream))
    for nc, stream in reversed(made):
        try:
            await nc.jetstream().delete_stream(stream)
        except NotFoundError:
            pass


@pytest.fixture
async def source(hub_nc, cleanup):
    """``await source(subjects=None)``: a new stream on hub capturing ``<name>.>``; its name."""

    async def make(subjects: list[str] | None = None) -> str:
        name = unique("SRC").replace("-", "_")
        await hub_nc.jetstream().add_stream(name=name, subjects=subjects or [f"{name}.>"])
        cleanup(hub_nc, name)
        return name

    return make


def target_name(cleanup, nc) -> str:
    name = unique("MIR").replace("-", "_")
    cleanup(nc, name)
    return name


def _healthy(monitor: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{monitor}/healthz", timeout=1) as reply:
            return reply.status == 200 and json.load(reply).get("status") == "ok"
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="module")
def edge_server():
    """A standalone nats-server with JetStream (domain ``edge``) on a free port, linked to
    nothing; terminated after the module. Its client URL."""
    folder = make_data_dir("jsc-edge-")
    port, monitor = free_port(), free_port()
    conf = Path(folder) / "edge.conf"
    conf.write_text(
        f"server_name: edge\nlisten: {HOST}:{port}\nhttp: {HOST}:{monitor}\n"
        f'jetstream {{ store_dir: "{folder}/js", domain: edge }}\n'
    )
    process = subprocess.Popen(
        [binary("nats-server"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: _healthy(monitor) or process.poll() is not None,
            "the edge nats-server to be ready",
            timeout=30,
        )
        assert process.poll() is None, "the edge nats-server exited"
        yield f"nats://{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        remove_data_dir(Path(folder))


@pytest.fixture(scope="module")
def edge_cluster(api, admin_headers, edge_server):
    cluster = register(api, admin_headers, edge_server, name=unique("edge"), domain="edge")
    yield cluster
    api.delete(f"/api/v1/clusters/{cluster['id']}", headers=admin_headers)
