""" "Update Git from Cluster": the drifted resources' manifests rewritten with what the cluster
runs, committed on a new branch from the last synced commit and pushed for review.

- ``changed``: the drifted fields get their live values in place (``gitops.export.set_fields``);
- ``missing`` (gone from the cluster): its manifest is removed;
- ``unmanaged`` (on the cluster, not in git): a manifest of it is added as
  ``environments/<env>/<name>.yaml``.
Edits of one file are made from its end upwards, so the lines git reported stay right.
"""

from __future__ import annotations

import asyncio
import uuid

from core.db.gitops_models import GitDrift, GitRepository
from core.db.models import NatsCluster
from core.jetstream.pool import ClusterPool
from core.security import Cipher
from core.settings import Settings
from gitops.export import dump, manifest, remove_resource, set_fields
from gitops.git import GitError, checked_address, checkout, push_branch
from gitops.planner import Live
from gitops.planning import access_of, live_state


class UpdateRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _file_of(repo: GitRepository, row: GitDrift) -> str:
    base = f"{repo.path}/" if repo.path else ""
    stem = f"{row.stream}-{row.name}" if row.stream else row.name
    return f"{base}environments/{row.environment}/{stem}.yaml"


async def _unmanaged(
    rows: list[GitDrift], clusters: dict[uuid.UUID, NatsCluster], pool: ClusterPool, cipher: Cipher
) -> dict[uuid.UUID, Live]:
    wanted = [r for r in rows if r.drift_type == "unmanaged"]
    out: dict[uuid.UUID, Live] = {}
    for cluster_id in {r.cluster_id for r in wanted}:
        if cluster_id not in clusters:
            raise UpdateRefused(422, "An environment's cluster is no longer registered.")
        live = {
            (item.kind, item.stream, item.name): item
            for item in await live_state(pool, cipher, clusters[cluster_id])
        }
        for row in wanted:
            found = live.get((row.kind, row.stream, row.name))
            if row.cluster_id == cluster_id and found is None:
                raise UpdateRefused(409, f"{row.resource} is no longer on the cluster; scan again.")
            if row.cluster_id == cluster_id:
                out[row.id] = found
    return out


def _edits(repo: GitRepository, rows: list[GitDrift], read, unmanaged: dict) -> dict[str, bytes]:
    files: dict[str, str] = {}
    by_file: dict[str, list[tuple[int, GitDrift]]] = {}
    for row in rows:
        if row.drift_type == "unmanaged":
            files[_file_of(repo, row)] = dump([manifest(unmanaged[row.id])])
            continue
        path, _, line = row.source.rpartition(":")
        if not path or not line.isdigit():
            raise UpdateRefused(422, f"{row.resource}: git does not say where it is declared.")
        by_file.setdefault(path, []).append((int(line), row))
    for path, edits in by_file.items():
        text = read(path)
        for line, row in sorted(edits, key=lambda e: -e[0]):
            if row.drift_type == "missing":
                text = remove_resource(text, line)
            else:
                text = set_fields(text, line, row.kind, {f["field"]: f["live"] for f in row.fields})
        files[path] = text
    return {path: text.encode() for path, text in files.items()}


async def update_git(
    repo: GitRepository,
    rows: list[GitDrift],
    clusters: dict[uuid.UUID, NatsCluster],
    cipher: Cipher,
    pool: ClusterPool,
    settings: Settings,
    *,
    author: tuple[str, str],
) -> dict[str, str]:
    """Push a branch with the drifted resources as the cluster has them: {branch, commit}."""
    if not repo.last_commit:
        raise UpdateRefused(
            422, "The repository was never synced: there is no commit to start the branch from."
        )
    access = access_of(repo, cipher)
    unmanaged = await _unmanaged(rows, clusters, pool, cipher)
    branch = f"jsc/drift-{uuid.uuid4().hex[:8]}"
    message = ("Update git from the cluster: " + ", ".join(r.resource for r in rows))[:200] + (
        "\n\nDrift found by JetStream Console:\n"
        + "\n".join(
            f"- {r.environment}: {r.resource} ({r.drift_type})"
            + "".join(
                f"\n    {f['field']}: {f['git']!r} in git, {f['live']!r} live" for f in r.fields
            )
            for r in rows
        )
    )
    try:
        address = await checked_address(access.url, settings)

        def work() -> str:
            with checkout(access, repo.last_commit, settings, address=address) as co:

                def read(path: str) -> str:
                    target = (co.root / path).resolve()
                    if co.root.resolve() not in target.parents or not target.is_file():
                        raise UpdateRefused(422, f"{path} is not a file of the repository.")
                    return target.read_text()

                files = _edits(repo, rows, read, unmanaged)
            return push_branch(
                access, repo.last_commit, branch, files, message, author, settings, address=address
            ).sha

        commit = await asyncio.to_thread(work)
    except GitError as exc:
        raise UpdateRefused(503, f"The repository cannot be updated: {exc}") from None
    return {"branch": branch, "commit": commit}
