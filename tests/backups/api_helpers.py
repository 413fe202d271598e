"""Helpers of the backup service's tests (the engine's tests have ``conftest.py``): an
organization of its own per test, signed up through the API, with the local hub registered as
``hub`` and the dr server as ``dr`` (the default target), members of several roles, streams
filled and removed, backups and operations awaited through the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import httpx
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests import waiting
from tests.api.orgs import Account, invite, signup
from tests.fixtures import unique

FINISHED = ("completed", "failed", "cancelled")
wait_until = partial(waiting.wait_until, timeout=180.0)
wait_until_async = partial(waiting.wait_until_async, timeout=180.0)


@dataclass
class BackupOrg:
    api: httpx.Client
    admin: Account
    hub: dict
    dr: dict | None
    people: dict[str, Account] = field(default_factory=dict)

    @property
    def headers(self) -> dict:
        return self.admin.headers

    def member(self, role: str) -> Account:
        if role not in self.people:
            self.people[role] = invite(self.api, self.admin, role)
        return self.people[role]

    def cluster(self, url: str, name: str, domain: str, environment: str = "development") -> dict:
        reply = self.api.post(
            "/api/v1/clusters",
            headers=self.headers,
            json={
                "name": name,
                "environment": environment,
                "server_urls": [url],
                "jetstream_domain": domain,
            },
        )
        assert reply.status_code == 201, reply.text
        return reply.json()

    # --- backups and restores through the API ----------------------------------------------
    def backup(
        self, streams, kind: str = "full", headers: dict | None = None, **extra
    ) -> httpx.Response:
        return self.api.post(
            "/api/v1/operations/backup",
            headers=headers or self.headers,
            json={"cluster_id": self.hub["id"], "streams": streams, "kind": kind, **extra},
        )

    def backup_done(self, streams, kind: str = "full", **extra) -> tuple[dict, dict]:
        """Back up and wait for the operation: (operation, backup)."""
        started = self.backup(streams, kind, **extra)
        assert started.status_code == 202, started.text
        op = self.wait_operation(started.json()["id"])
        assert op["status"] == "completed", op
        return op, self.read_backup(started.json()["backup_id"])

    def restore(
        self,
        backup_id: str,
        stream_name: str,
        headers: dict | None = None,
        cluster_id: str | None = None,
        **extra,
    ) -> httpx.Response:
        to = {
            "cluster_id": cluster_id or self.hub["id"],
            "stream_name": stream_name,
            **extra.pop("to", {}),
        }
        return self.api.post(
            "/api/v1/operations/restore",
            headers=headers or self.headers,
            json={"backup_id": backup_id, "to": to, **extra},
        )

    def read_backup(self, backup_id: str, headers: dict | None = None) -> dict:
        reply = self.api.get(f"/api/v1/backups/{backup_id}", headers=headers or self.headers)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def operation(self, op_id: str) -> dict:
        reply = self.api.get(f"/api/v1/operations/{op_id}", headers=self.headers)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def wait_operation(self, op_id: str, until=FINISHED, timeout: float = 240.0) -> dict:
        return wait_until(
            lambda: (op := self.operation(op_id))["status"] in until and op,
            f"operation {op_id} to reach {until}",
            timeout=timeout,
        )

    def wait_verified(self, backup_id: str, timeout: float = 240.0) -> dict:
        return wait_until(
            lambda: (b := self.read_backup(backup_id))["verification"]["status"] != "pending" and b,
            f"backup {backup_id} to be verified",
            timeout=timeout,
        )


def backup_org(
    api: httpx.Client, stack, *, dr: bool = True, environment: str = "development"
) -> BackupOrg:
    """An organization of its own: hub as ``hub`` (``environment``), dr as ``dr``."""
    admin = signup(api)
    org = BackupOrg(api, admin, hub={}, dr=None)
    org.hub = org.cluster(stack.env["JSC_HUB_URL"], "hub", "hub", environment)
    if dr:
        org.dr = org.cluster(stack.env["JSC_DR_URL"], "dr", "dr", "staging")
    return org


class Streams:
    """Streams a test makes on a server, removed at its end."""

    def __init__(self, nc):
        self.nc, self.js, self.names = nc, nc.jetstream(), []

    async def make(
        self,
        prefix: str = "bk",
        count: int = 0,
        *,
        subjects: list[str] | None = None,
        payload: bytes = b"",
        name: str | None = None,
    ) -> str:
        name = name or unique(prefix).replace("-", "_")
        subjects = subjects or [f"{name}.>"]
        await self.js.add_stream(StreamConfig(name=name, subjects=subjects))
        self.names.append(name)
        await self.fill(name, count, payload=payload)
        return name

    async def fill(self, name: str, count: int, start: int = 0, payload: bytes = b"") -> None:
        for i in range(start, start + count):
            await self.js.publish(f"{name}.s{i % 3}", payload or f"m{i}".encode())

    def track(self, name: str) -> str:
        self.names.append(name)
        return name

    async def remove(self) -> None:
        for name in self.names:
            try:
                await self.js.delete_stream(name)
            except NotFoundError:
                pass


async def temporal_client(stack) -> Client:
    return await Client.connect(
        stack.env["JSC_TEMPORAL_ADDRESS"],
        namespace=stack.settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
