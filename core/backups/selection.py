"""Which streams a backup request means, and where a backup goes by default.

- ``select_streams`` (pure): the names asked for (each must exist), or every stream (``"all"``),
  narrowed to a team's namespaces (``team_id``) and to what the caller may see (a caller whose
  permission has scope ``team`` sees its teams' namespaces only; asking for a stream outside them
  is refused like a missing one, so nothing of another team is confirmed).
- ``team_prefixes``: a team's stream-name prefixes on a cluster.
- ``default_target``: an object store ``jsc-backups`` on another registered cluster of the
  organization (not the same server): the one named ``dr`` first, then one whose JetStream
  domain is ``dr``, then the others by name.
- ``backup_root`` / ``directory_path``: where a directory target lives
  (``<backup root>/<org id>/<directory>``), refused when it escapes that root (a symlink too).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.backups.models import DEFAULT_BUCKET, ObjectStoreTarget
from core.cluster_identity import same_server
from core.db.models import NatsCluster, Team, TeamNamespace
from core.namespaces import covers


class SelectionError(Exception):
    """``status`` (404 unknown stream or team, 409 nothing to back up) and a sentence."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def select_streams(
    existing: list[str],
    wanted: list[str] | str,
    *,
    team: list[str] | None = None,
    visible: list[str] | None = None,
    cluster_name: str = "the cluster",
) -> list[str]:
    """The streams to back up, sorted. ``team``/``visible``: prefixes (None: no narrowing)."""

    def allowed(name: str) -> bool:
        return covers(team, name) and covers(visible, name)

    present = set(existing)
    if wanted == "all":
        chosen = sorted(n for n in present if allowed(n))
        if not chosen:
            whose = " of the team's namespaces" if team is not None else ""
            raise SelectionError(
                409, f"Nothing to back up: {cluster_name} has no stream{whose} that you may see."
            )
        return chosen
    missing = [n for n in wanted if n not in present or not covers(visible, n)]
    if missing:
        raise SelectionError(
            404, "No stream " + ", ".join(f"'{n}'" for n in missing) + f" on {cluster_name}."
        )
    outside = [n for n in wanted if not covers(team, n)]
    if outside:
        raise SelectionError(
            409,
            "Nothing to back up: "
            + ", ".join(f"'{n}'" for n in outside)
            + " is outside the team's namespaces on this cluster; leave out "
            "team_id or name the team's streams.",
        )
    return sorted(wanted)


async def team_prefixes(
    db: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID, cluster_id: uuid.UUID
) -> list[str]:
    team = await db.scalar(select(Team).where(Team.id == team_id, Team.org_id == org_id))
    if team is None:
        raise SelectionError(404, f"No team with id {team_id} in your organization.")
    return sorted(
        await db.scalars(
            select(TeamNamespace.prefix).where(
                TeamNamespace.team_id == team_id, TeamNamespace.cluster_id == cluster_id
            )
        )
    )


def _preference(cluster: NatsCluster) -> tuple[Any, ...]:
    return (
        cluster.name != "dr",
        (cluster.jetstream_domain or "") != "dr",
        "dr" not in cluster.name.lower(),
        cluster.name,
    )


async def default_target(db: AsyncSession, source: NatsCluster) -> ObjectStoreTarget | None:
    others = [
        c
        for c in await db.scalars(
            select(NatsCluster).where(
                NatsCluster.org_id == source.org_id, NatsCluster.id != source.id
            )
        )
        if not same_server(c, source)
    ]
    if not others:
        return None
    return ObjectStoreTarget(cluster_id=min(others, key=_preference).id, bucket=DEFAULT_BUCKET)


def backup_root(settings: Any) -> Path:
    configured = getattr(settings, "backup_dir", None)
    return Path(configured) if configured else Path(settings.data_dir) / "backups"


def directory_path(root: Path, org_id: uuid.UUID | str, directory: str) -> Path:
    """``root/<org_id>/<directory>``, resolved; ``ValueError`` when it escapes the org's root
    (``..``, an absolute path, a symlink pointing out)."""
    base = (Path(root) / str(org_id)).resolve()
    if directory.startswith("/") or ".." in Path(directory).parts:
        raise ValueError("must be a relative path under the backup root, without '..'")
    path = Path(os.path.realpath(base / directory))
    if path != base and base not in path.parents:
        raise ValueError("leads outside the backup root (through a symbolic link?)")
    return path
