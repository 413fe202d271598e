"""Which collector collects which cluster.

Every pass a collector announces itself (``members.<id>`` in the KV bucket ``JSC_COLLECTORS`` of
the internal account; entries expire after the bucket's TTL, the lease time). Rendezvous hashing
over the announced members gives each cluster one wanted owner, so a new or departed collector
moves only its own share. Ownership itself is a lease, ``lease.<cluster>``: created only when
absent (compare-and-set), renewed by its holder with the revision it last wrote, released when
hashing moves the cluster elsewhere. A collector that dies stops renewing: its leases expire and
the wanted owners take them. Two collectors never hold one lease, so no cluster is collected twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

from nats.aio.client import Client as NATS
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    BadRequestError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NotFoundError,
)
from nats.js.kv import KeyValue

log = logging.getLogger(__name__)
BUCKET = "JSC_COLLECTORS"
WRONG_LAST_SEQUENCE = 10071  # JetStream's err_code when the expected revision is not the last


def owner(members: dict[str, set[str] | None], cluster_id: str, org_id: str) -> str | None:
    """The member rendezvous hashing gives ``cluster_id`` to, among the members that collect its
    organization (``members``: id -> the organization ids it collects, None for all)."""

    def score(member: str) -> int:
        return int.from_bytes(hashlib.sha256(f"{member}/{cluster_id}".encode()).digest()[:8], "big")

    able = [m for m, orgs in members.items() if orgs is None or org_id in orgs]
    return max(able, key=score) if able else None


async def open_bucket(nc: NATS, lease_s: float) -> KeyValue:
    js = nc.jetstream()
    try:
        return await js.key_value(BUCKET)
    except (NotFoundError, BadRequestError):
        return await js.create_key_value(
            KeyValueConfig(
                bucket=BUCKET,
                ttl=lease_s,
                history=1,
                storage=StorageType.FILE,
                description="JetStream Console collectors: members and cluster leases",
            )
        )


@dataclass
class Shares:
    kv: KeyValue
    me: str
    orgs: set[str] | None = None  # the organizations we collect (None: all)
    held: dict[str, int] = field(default_factory=dict)  # cluster id -> revision of our lease

    async def announce(self) -> dict[str, set[str] | None]:
        """Say we are alive (and whose clusters we collect); answer the live members."""
        mine = sorted(self.orgs) if self.orgs is not None else None
        await self.kv.put(f"members.{self.me}", json.dumps({"orgs": mine}).encode())
        watcher = await self.kv.watch("members.*", ignore_deletes=True)
        members: dict[str, set[str] | None] = {}
        try:
            async for entry in watcher:
                if entry is None:  # every current key seen
                    break
                try:
                    orgs = json.loads(entry.value or b"{}").get("orgs")
                except ValueError:
                    orgs = None
                members[entry.key.removeprefix("members.")] = (
                    set(orgs) if orgs is not None else None
                )
        finally:
            # nats-py leaves the watcher's stop() unannotated
            await watcher.stop()  # type: ignore[no-untyped-call]
        members[self.me] = self.orgs
        return members

    async def settle(self, clusters: dict[str, str]) -> list[str]:
        """Take, keep or give up leases for this pass (``clusters``: id -> organization id);
        answer the clusters we hold now."""
        members = await self.announce()
        wanted = {c for c, org in clusters.items() if owner(members, c, org) == self.me}
        for cluster in list(self.held):
            if cluster not in wanted:
                await self.release(cluster)
        for cluster in sorted(wanted):
            if cluster in self.held:
                await self._renew(cluster)
            else:
                await self._take(cluster)
        return sorted(self.held)

    async def still_mine(self, cluster: str) -> bool:
        """Renew before publishing: a lease lost meanwhile (we stalled past its TTL and another
        took it) means this pass's sample of the cluster is dropped."""
        return cluster in self.held and await self._renew(cluster)

    async def _take(self, cluster: str) -> bool:
        try:
            self.held[cluster] = await self.kv.create(f"lease.{cluster}", self.me.encode())
            log.info("collector %s took cluster %s", self.me, cluster)
            return True
        except KeyWrongLastSequenceError:  # held by another until it releases or expires
            return False

    async def _renew(self, cluster: str) -> bool:
        try:
            self.held[cluster] = await self.kv.update(
                f"lease.{cluster}", self.me.encode(), last=self.held[cluster]
            )
            return True
        except (KeyWrongLastSequenceError, KeyNotFoundError):
            log.warning("collector %s lost its lease on cluster %s", self.me, cluster)
            self.held.pop(cluster, None)
            return False

    async def release(self, cluster: str) -> None:
        revision = self.held.pop(cluster, None)
        if revision is None:
            return
        try:
            await self.kv.delete(f"lease.{cluster}", last=revision)
            log.info("collector %s released cluster %s", self.me, cluster)
        except (KeyWrongLastSequenceError, KeyNotFoundError):
            pass  # expired and taken already
        except BadRequestError as exc:  # nats-py's delete says "wrong last sequence" this way
            if exc.err_code != WRONG_LAST_SEQUENCE:
                raise

    async def leave(self) -> None:
        """On a clean stop: give every lease back and stop being a member at once."""
        for cluster in list(self.held):
            await self.release(cluster)
        try:
            await self.kv.delete(f"members.{self.me}")
        except Exception:  # noqa: BLE001 - it expires anyway
            pass
