"""One server, however many times it is registered: its identity and the strictest environment.

The same NATS server can be registered twice in an organization under different environments (the
demo registers the hub as ``development`` and as ``production``). A change is judged by the
strictest environment any registration of that server has, so production approval cannot be
skipped through the other registration.

A server is recognised by what it says of itself in its INFO, recorded on the registration
(``nats_clusters.server_identity``) whenever the console reaches it (a health probe, every judged
change; a change of URLs or credentials forgets it): the cluster's name (every server of a cluster
shares it) or else the server's name, with its JetStream domain. Two registrations that share a
server URL are the same server too, whether or not either was reached yet.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import NatsCluster

if TYPE_CHECKING:
    from core.jetstream.pool import ClusterPool
    from core.security import Cipher

STRICTNESS = {"development": 0, "staging": 1, "production": 2}
PROBE_TIMEOUT_S = 3.0


def server_identity(info: dict[str, Any]) -> str | None:
    """``cluster:<name>@<domain>`` or ``server:<name>@<domain>`` from a server's INFO; None when
    it names neither (a server without a configured name is known by its URLs only)."""
    domain = info.get("domain") or ""
    if info.get("cluster"):
        return f"cluster:{info['cluster']}@{domain}"
    name = info.get("server_name")
    if name and name != info.get("server_id"):  # an unnamed server's name is its random id
        return f"server:{name}@{domain}"
    return None


def url_key(url: str) -> str:
    """A server URL compared loosely: scheme-less host and port, lower case (4222 by default)."""
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    return f"{(parts.hostname or '').lower()}:{parts.port or 4222}"


def strictest(environments: list[str]) -> str:
    return max(environments, key=lambda e: STRICTNESS.get(e, 0))


def same_server(a: NatsCluster, b: NatsCluster) -> bool:
    if a.server_identity and a.server_identity == b.server_identity:
        return True
    urls = {url_key(c.server_url) for c in a.connections}
    return bool(urls & {url_key(c.server_url) for c in b.connections})


async def registrations(db: AsyncSession, cluster: NatsCluster) -> list[NatsCluster]:
    """Every registration, in the cluster's organization, of the same server (itself included)."""
    rows = await db.scalars(select(NatsCluster).where(NatsCluster.org_id == cluster.org_id))
    return [c for c in rows if c.id == cluster.id or same_server(cluster, c)]


async def _identity_of(pool: ClusterPool, cipher: Cipher, cluster: NatsCluster) -> str | None:
    from core.clusters import endpoint  # the sealed credentials live there
    from core.jetstream.pool import server_info

    try:
        nc = await asyncio.wait_for(pool.connection(endpoint(cipher, cluster)), PROBE_TIMEOUT_S)
    except Exception:  # unreachable, refused, timed out: identity unknown for now
        return None
    return server_identity(server_info(nc))


async def effective_environment(
    db: AsyncSession, pool: ClusterPool, cipher: Cipher, cluster: NatsCluster
) -> str:
    """The strictest environment of every registration of the cluster's server. Every registration
    of the organization is reached now (in parallel, each within ``PROBE_TIMEOUT_S``) and its
    identity stored: a registration unreachable at the moment keeps what it was last seen as, so
    one whose URL now reaches another server is judged as that one. The caller commits."""
    targets = list(
        await db.scalars(select(NatsCluster).where(NatsCluster.org_id == cluster.org_id))
    )
    found = await asyncio.gather(*(_identity_of(pool, cipher, c) for c in targets))
    for target, identity in zip(targets, found, strict=False):
        if identity and identity != target.server_identity:
            target.server_identity = identity
    await db.flush()
    return strictest([c.environment for c in await registrations(db, cluster)])
