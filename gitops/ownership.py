"""What a repository manages beyond what git has now: the resources in its namespaces (stream-name
prefixes; a consumer by its stream's name) and the resources its own syncs applied and did not
delete since. Such a resource missing from git is ``unmanaged`` drift, and a sync whose repository
prunes (``prune: with_approval``) proposes its deletion. Anything else on a cluster is no one's
business here: it is neither reported nor touched.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.gitops_models import GitSync

Managed = Callable[[str, str, "str | None"], bool]


def ref_of(kind: str, name: str, stream: str | None) -> str:
    """A resource as plans and results name it: ``stream ORDERS``, ``consumer ORDERS/worker``."""
    return f"{kind} {stream}/{name}" if stream else f"{kind} {name}"


def applied_of(results_in_order: Iterable[list[dict]]) -> dict[str, set[str]]:
    """Per environment, what the syncs' results (oldest sync first) leave applied: a resource
    created, updated or replaced, and not deleted by a later sync."""
    applied: dict[str, set[str]] = {}
    for results in results_in_order:
        for result in results or []:
            if result.get("status") != "applied":
                continue
            env = applied.setdefault(result["environment"], set())
            if result.get("action") == "delete":
                env.discard(result["resource"])
            else:
                env.add(result["resource"])
    return applied


async def applied_by(db: AsyncSession, repo_id: uuid.UUID) -> dict[str, set[str]]:
    """What the repository's syncs applied and still own, per environment."""
    rows = await db.scalars(
        select(GitSync.results)
        .where(GitSync.repo_id == repo_id, GitSync.finished_at.is_not(None))
        .order_by(GitSync.finished_at, GitSync.created_at)
    )
    return applied_of(rows)


def managed_by(namespaces: list[str], applied: set[str] | frozenset[str] = frozenset()) -> Managed:
    """The planner's ``managed`` predicate of one environment: in a namespace, or applied by the
    repository's syncs there."""

    def managed(kind: str, name: str, stream: str | None) -> bool:
        owner = stream if kind == "consumer" and stream else name
        return (
            any(owner.startswith(prefix) for prefix in namespaces)
            or ref_of(kind, name, stream) in applied
        )

    return managed
