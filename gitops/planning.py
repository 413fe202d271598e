"""A repository's plan, read from git and the clusters: check out the commit, load and validate
the tree, read every mapped environment's cluster, and diff them (``gitops.planner``).

Used by the sync activity (which stores the plan) and by ``GET .../plan`` (which only shows it).
A broken tree gives ``errors`` and no environments: nothing is planned from half a tree.

What a repository manages beyond what git has (for pruning and "unmanaged" drift) is
``gitops.ownership``'s: its namespaces, and what its own syncs applied.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clusters import endpoint
from core.db.gitops_models import GitRepository
from core.db.models import NatsCluster
from core.jetstream.pool import ClusterPool
from core.security import Cipher
from core.settings import Settings
from gitops import plan_doc
from gitops.git import Commit, GitError, RepoAccess, checked_address, checkout
from gitops.live import read_live
from gitops.loader import LoadResult, load_tree
from gitops.manifests import Resource
from gitops.ownership import managed_by
from gitops.planner import Desired, Live, plan


def credentials_context(repo_id) -> str:
    return f"gitops-repo:{repo_id}"


def access_of(repo: GitRepository, cipher: Cipher) -> RepoAccess:
    """How to reach the repository, its secrets decrypted (never leaves the server)."""
    secrets: dict[str, Any] = {}
    if repo.credentials:
        secrets = cipher.decrypt(repo.credentials, context=credentials_context(repo.id))
    return RepoAccess(
        url=repo.url,
        auth_type=repo.auth_type,
        token=secrets.get("token"),
        ssh_key=secrets.get("ssh_key"),
        known_hosts=secrets.get("known_hosts"),
    )


async def repo_clusters(db: AsyncSession, repo: GitRepository) -> dict[str, NatsCluster]:
    """The repository's environments that still have their cluster (of its organization)."""
    ids = {env: uuid.UUID(str(c)) for env, c in (repo.environments or {}).items()}
    rows = {
        c.id: c
        for c in await db.scalars(
            select(NatsCluster).where(
                NatsCluster.org_id == repo.org_id, NatsCluster.id.in_(list(ids.values()))
            )
        )
    }
    return {env: rows[c] for env, c in ids.items() if c in rows}


@dataclass
class Tree:
    """A commit's loaded tree."""

    commit: Commit
    loaded: LoadResult


@dataclass
class RepoPlan:
    commit: Commit | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    environments: dict[str, dict] = field(default_factory=dict)
    desired: dict[str, list[Resource]] = field(default_factory=dict)
    live: dict[str, list[Live]] = field(default_factory=dict)

    def doc(self) -> dict[str, Any]:
        return {
            "environments": self.environments,
            "summary": plan_doc.summary_of(self.environments),
            "diff": plan_doc.diff_of(self.environments),
        }


async def load_commit(
    repo: GitRepository, access: RepoAccess, ref: str, settings: Settings
) -> Tree:
    """Check out ``ref`` and load its tree (git runs in a thread). GitError when git fails."""
    address = await checked_address(access.url, settings)

    def work() -> Tree:
        with checkout(access, ref, settings, address=address) as co:
            return Tree(co.commit, load_tree(co.root, repo.path))

    return await asyncio.to_thread(work)


async def live_state(
    pool: ClusterPool, cipher: Cipher, cluster: NatsCluster, created: dict | None = None
) -> list[Live]:
    """A cluster's resources (``created``, when given, gets their creation times:
    ``gitops.live.read_live``)."""
    js = await pool.jetstream(endpoint(cipher, cluster))
    return await read_live(js, created=created)


async def plan_repo(
    repo: GitRepository,
    clusters: dict[str, NatsCluster],
    tree: Tree,
    pool: ClusterPool,
    cipher: Cipher,
    *,
    only: list[str] | None = None,
    applied: dict[str, set[str]] | None = None,
) -> RepoPlan:
    """Diff the loaded tree against every mapped environment's cluster. ``clusters``: the
    repository's environments that still have their cluster; ``applied``: what the repository's
    syncs applied per environment (``gitops.ownership.applied_by``), managed like its
    namespaces."""
    loaded = tree.loaded
    out = RepoPlan(commit=tree.commit, errors=list(loaded.errors), warnings=list(loaded.warnings))
    if loaded.errors:
        return out
    for env in sorted(set(loaded.resources_by_env) - set(repo.environments)):
        out.warnings.append(
            f"environments/{env}: not mapped to a cluster in the repository's settings; skipped"
        )
    for env in sorted(set(repo.environments) - set(clusters)):
        out.warnings.append(f"environment {env}: its cluster is no longer registered; skipped")
    prune = repo.prune == "with_approval"
    namespaces, applied = list(repo.namespaces or []), applied or {}
    names = sorted(clusters)
    lives = await asyncio.gather(*(live_state(pool, cipher, clusters[e]) for e in names))
    for env, live in zip(names, lives, strict=False):
        desired = loaded.resources_by_env.get(env, [])
        if not desired:
            out.warnings.append(f"environments/{env}: no manifests in git for this environment")
        result = plan(
            [Desired(r.kind, r.name, r.stream, r.config) for r in desired],
            live,
            prune=prune,
            managed=managed_by(namespaces, applied.get(env, set())),
        )
        out.desired[env], out.live[env] = desired, live
        out.environments[env] = plan_doc.env_doc(str(clusters[env].id), result, desired, live)
    if only:
        out.environments = plan_doc.only_refs(out.environments, only)
    return out


__all__ = [
    "GitError",
    "RepoPlan",
    "Tree",
    "access_of",
    "load_commit",
    "plan_repo",
    "managed_by",
    "credentials_context",
    "live_state",
    "repo_clusters",
]
