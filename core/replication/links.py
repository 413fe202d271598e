"""Which way a mirror reads its source: inside one JetStream (the same cluster, or the same server
registered twice: no ``external``), or from another one through its JetStream domain
(``mirror.external.api = "$JS.<domain>.API"``, the source cluster's registered
``jetstream_domain``). Some pairs of clusters cannot be mirrored at all; ``refusal`` says why.
Whether the link between two clusters really carries a mirror is found out by
``core.replication.mirrors.probe_link``, not assumed here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.cluster_identity import same_server
from core.db.models import NatsCluster


@dataclass(frozen=True)
class MirrorPath:
    cross_domain: bool
    source_domain: str | None
    refusal: str | None = None


def mirror_path(source: NatsCluster, target: NatsCluster) -> MirrorPath:
    if source.id == target.id or same_server(source, target):
        return MirrorPath(False, source.jetstream_domain)
    domain = source.jetstream_domain
    if not domain:
        return MirrorPath(
            True,
            None,
            refusal=(
                f"the source cluster '{source.name}' has no JetStream domain registered: "
                "a mirror in another cluster reads its source through $JS.<domain>.API; "
                "register the source cluster's JetStream domain "
                "(PATCH /api/v1/clusters/{id} 'jetstream_domain')"
            ),
        )
    if domain == target.jetstream_domain:
        return MirrorPath(
            True,
            domain,
            refusal=(
                f"the clusters '{source.name}' and '{target.name}' both register the JetStream "
                f"domain '{domain}': from the target, $JS.{domain}.API reaches the target's own "
                "JetStream, not the source's; if they are one server, register it once"
            ),
        )
    return MirrorPath(True, domain)


def is_mirror_of(info: dict[str, Any], stream: str, path: MirrorPath) -> bool:
    """Whether the stream ``info`` describes mirrors ``stream`` the way ``path`` says (a stream
    made elsewhere counts too: whoever made it, it protects that stream)."""
    mirror = (info.get("config") or {}).get("mirror") or {}
    if mirror.get("name") != stream:
        return False
    api = ((mirror.get("external") or {}).get("api") or "").rstrip(".")
    if not path.cross_domain:
        return api in ("", "$JS.API", f"$JS.{path.source_domain}.API")
    return api == f"$JS.{path.source_domain}.API"
