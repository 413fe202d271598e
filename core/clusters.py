"""Registered clusters: lookup scoped to an organization, credentials sealed with AES-256-GCM
(bound to the cluster id, so an envelope cannot be moved to another row), and the connection
endpoint built from them for the pool. Credentials never leave this module in clear. Server URLs
point only where the outbound policy allows (``check_server_urls`` when stored; the pool checks
again at every connection)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import ClusterConnection, NatsCluster
from core.jetstream.connection import ClusterEndpoint
from core.netpolicy import OutboundPolicy, url_host
from core.security import Cipher


class ClusterNotFound(Exception):
    pass


async def get_cluster(db: AsyncSession, org_id: uuid.UUID, cluster_id: uuid.UUID) -> NatsCluster:
    cluster = await db.scalar(
        select(NatsCluster).where(NatsCluster.id == cluster_id, NatsCluster.org_id == org_id)
    )
    if cluster is None:
        raise ClusterNotFound(str(cluster_id))
    return cluster


async def check_server_urls(policy: OutboundPolicy, urls: list[str]) -> None:
    """Raise ``OutboundRefused`` when a URL's host is, or resolves to, an address ``policy``
    does not allow (a name that does not resolve yet passes: the pool checks it at connection)."""
    for url in urls:
        host, port = url_host(url)
        await policy.check_stored(host, port)


def shown_url(url: str) -> str:
    """A server URL as readers see it: without any user:password@ an older release stored."""
    scheme, _, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    return f"{scheme}://{netloc.rpartition('@')[2]}{slash}{path}"


def seal_connections(
    cipher: Cipher,
    cluster: NatsCluster,
    urls: list[str],
    credentials: dict[str, Any],
    tls: dict[str, Any] | None,
) -> None:
    """Replace the cluster's connections: one row per URL, secrets encrypted."""
    context = f"cluster:{cluster.id}"
    cluster.connections = [
        ClusterConnection(
            server_url=url,
            position=i,
            is_primary=(i == 0),
            credentials=cipher.encrypt(credentials, context=context),
            tls_config=cipher.encrypt(tls, context=context) if tls else None,
        )
        for i, url in enumerate(urls)
    ]


def endpoint(cipher: Cipher, cluster: NatsCluster) -> ClusterEndpoint:
    context = f"cluster:{cluster.id}"
    primary = cluster.connections[0] if cluster.connections else None
    creds = (
        cipher.decrypt(primary.credentials, context=context)
        if primary and primary.credentials
        else {}
    )
    tls = (
        cipher.decrypt(primary.tls_config, context=context)
        if primary and primary.tls_config
        else None
    )
    return ClusterEndpoint(
        cluster_id=str(cluster.id),
        name=cluster.name,
        server_urls=tuple(c.server_url for c in cluster.connections),
        jetstream_domain=cluster.jetstream_domain,
        credentials=creds,
        tls=tls,
    )


def credentials_type(cipher: Cipher, cluster: NatsCluster) -> str:
    kind: str = endpoint(cipher, cluster).credentials.get("type", "none")
    return kind
