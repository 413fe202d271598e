"""Who changed a drifted resource, and when: the "changed by" of a drift item.

The console knows the changes made through it. Since the last successful sync that covered the
resource (a full sync of the repository, or a drift revert that applied it), the latest of:

- its audited configuration change (ClickHouse ``audit_logs``: ``stream.update``,
  ``consumer.delete``, ... of that cluster and name; purges, pauses of deliveries and message
  writes are not configuration) made by a person, not by a sync;
- an executed change request for it (a change that waited for an approval is audited as the
  request, then applied by the approval's workflow): its requester, and who approved it;

gives ``{source: "console", actor, at, audit_id, action, request_id?, approved_by?}``. Nothing
found: ``{source: "outside"}`` ("changed outside the console"), with ``at`` when the live config's
own timestamps say something: a resource created (or recreated) on the cluster since that sync, or
an unmanaged one, was created then (``created`` of its stream or consumer info, kept by the scan).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.gitops_models import GitDrift, GitRepository, GitSync
from core.db.models import ChangeRequestRow

AUDIT_TYPES = {
    "stream": "stream",
    "consumer": "consumer",
    "kv": "kv_store",
    "object_store": "object_store",
}
REQUEST_KINDS = {
    "stream": "stream",
    "consumer": "consumer",
    "kv": "kv_bucket",
    "object_store": "object_store",
}
CONFIG_VERBS = ("create", "update", "delete")
SYNCED = ("succeeded", "no_changes", "partially_applied")
OUTSIDE_NOTE = (
    "changed outside the console: no change of it through the console since the last sync"
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Query = Callable[[str, dict], list[tuple]]


@dataclass(frozen=True)
class Change:
    """One change the console made to a resource."""

    at: datetime
    actor: str
    action: str
    audit_id: str | None = None
    request_id: str | None = None
    approved_by: tuple[str, ...] = ()

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": "console",
            "actor": self.actor,
            "at": self.at.isoformat(),
            "audit_id": self.audit_id,
            "action": self.action,
        }
        if self.request_id:
            out["request_id"] = self.request_id
            out["approved_by"] = list(self.approved_by)
        return out


def aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def audit_key(kind: str, cluster_id: Any, stream: str | None, name: str) -> tuple[str, str]:
    """(resource_type, resource_id) as the API audits a resource of a cluster."""
    path = f"{stream}/{name}" if stream else name
    return AUDIT_TYPES.get(kind, kind), f"{cluster_id}/{path}"


def outside(row_changed_by: dict | None, drift_type: str, since: datetime | None) -> dict:
    """A change the console did not make; ``at`` only when the cluster's own creation time of
    the resource says when it (re)appeared (after ``since``, or an unmanaged resource)."""
    out: dict[str, Any] = {"source": "outside", "note": OUTSIDE_NOTE}
    created = parse_time((row_changed_by or {}).get("created"))
    if created and (drift_type == "unmanaged" or since is None or created > since):
        out["at"] = created.isoformat()
        out["note"] = (
            "created on the cluster outside the console"
            if drift_type == "unmanaged"
            else "recreated on the cluster outside the console since the last sync"
        )
    return out


def since_per_row(
    rows: Iterable[GitDrift], syncs: list[tuple[str, datetime | None, list]]
) -> dict[uuid.UUID, datetime | None]:
    """The last successful sync covering each row's resource: ``syncs`` are (trigger,
    finished_at, results) of the repository's successful syncs; a full sync covers everything,
    a drift revert what it applied."""
    full = max(
        (aware(at) for trigger, at, _ in syncs if trigger != "drift_revert" and at), default=None
    )
    reverted: dict[tuple[str, str], datetime] = {}
    for trigger, at, results in syncs:
        if trigger == "drift_revert" and at:
            for r in results or []:
                key = (r.get("environment"), r.get("resource"))
                if r.get("status") == "applied" and aware(at) > reverted.get(key, EPOCH):
                    reverted[key] = aware(at)
    out = {}
    for row in rows:
        candidates = [t for t in (full, reverted.get((row.environment, row.resource))) if t]
        out[row.id] = max(candidates) if candidates else None
    return out


def pick(row: GitDrift, since: datetime | None, changes: list[Change]) -> dict:
    """The latest console change after ``since``, else the outside attribution."""
    after = [c for c in changes if since is None or c.at > since]
    if after:
        return max(after, key=lambda c: c.at).view()
    return outside(row.changed_by, row.drift_type, since)


def _audited(
    query: Query, org_id: uuid.UUID, keys: set[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], list[Change]]:
    sql = (
        "SELECT resource_type, resource_id, user_email, timestamp, toString(id), action "
        "FROM audit_logs FINAL WHERE org_id = {org:UUID} AND resource_id IN {ids:Array(String)} "
        "AND resource_type IN {types:Array(String)} AND status = 'success' "
        "AND NOT startsWith(user_email, 'gitops:') "
        "AND timestamp > {since:DateTime64(3, 'UTC')} ORDER BY timestamp DESC LIMIT 10000"
    )
    params = {
        "org": str(org_id),
        "ids": sorted({k[1] for k in keys}),
        "types": sorted({k[0] for k in keys}),
        "since": since.astimezone(UTC).replace(tzinfo=None),
    }
    found: dict[tuple[str, str], list[Change]] = {}
    for kind, resource_id, email, at, audit_id, action in query(sql, params):
        if (kind, resource_id) in keys and action.rsplit(".", 1)[-1] in CONFIG_VERBS:
            found.setdefault((kind, resource_id), []).append(
                Change(aware(at), email, action, audit_id)
            )
    return found


async def _requested(
    db: AsyncSession, query: Query, org_id: uuid.UUID, rows: list[GitDrift], since: datetime
) -> dict[uuid.UUID, list[Change]]:
    """Executed change requests of the rows' resources (by cluster, kind, stream and name)."""
    wanted = {
        (REQUEST_KINDS.get(r.kind), r.cluster_id, r.stream or None, r.name): r.id
        for r in rows
        if r.cluster_id
    }
    if not wanted:
        return {}
    requests = list(
        await db.scalars(
            select(ChangeRequestRow).where(
                ChangeRequestRow.org_id == org_id,
                ChangeRequestRow.status == "executed",
                ChangeRequestRow.kind.in_(sorted({k[0] for k in wanted if k[0]})),
                ChangeRequestRow.operation.in_(CONFIG_VERBS),
                ChangeRequestRow.cluster_id.in_(sorted({k[1] for k in wanted}, key=str)),
                ChangeRequestRow.closed_at > since,
            )
        )
    )
    matched = [
        (
            wanted.get(
                (
                    q.kind,
                    q.cluster_id,
                    (q.spec or {}).get("stream") or None,
                    (q.spec or {}).get("name"),
                )
            ),
            q,
        )
        for q in requests
    ]
    matched = [(row_id, q) for row_id, q in matched if row_id]
    audit_ids: dict[str, str] = {}
    if matched:
        sql = (
            "SELECT resource_id, toString(id) FROM audit_logs FINAL WHERE org_id = {org:UUID} "
            "AND resource_type = 'change_request' AND action = 'approval.request' "
            "AND resource_id IN {ids:Array(String)}"
        )
        audit_ids = dict(
            await asyncio.to_thread(
                query, sql, {"org": str(org_id), "ids": sorted({str(q.id) for _, q in matched})}
            )
        )
    out: dict[uuid.UUID, list[Change]] = {}
    for row_id, q in matched:
        approvers = tuple(
            v["voter"].get("email", "") for v in q.votes or [] if v.get("action") == "approve"
        )
        out.setdefault(row_id, []).append(
            Change(
                aware(q.closed_at),
                q.requester_email,
                f"{q.kind}.{q.operation}",
                audit_ids.get(str(q.id)),
                str(q.id),
                approvers,
            )
        )
    return out


async def synced_since(
    db: AsyncSession, repo_id: uuid.UUID, rows: list[GitDrift]
) -> dict[uuid.UUID, datetime | None]:
    last_full = await db.scalar(
        select(GitSync.finished_at)
        .where(
            GitSync.repo_id == repo_id,
            GitSync.status.in_(SYNCED),
            GitSync.trigger != "drift_revert",
        )
        .order_by(GitSync.finished_at.desc())
        .limit(1)
    )
    syncs: list[tuple[str, datetime | None, list]] = [("push", last_full, [])] if last_full else []
    reverts = await db.execute(
        select(GitSync.trigger, GitSync.finished_at, GitSync.results).where(
            GitSync.repo_id == repo_id,
            GitSync.status.in_(SYNCED),
            GitSync.trigger == "drift_revert",
            *([GitSync.finished_at > last_full] if last_full else []),
        )
    )
    syncs += [tuple(r) for r in reverts.all()]
    return since_per_row(rows, syncs)


async def changed_by(
    db: AsyncSession, query: Query, repo: GitRepository, rows: list[GitDrift]
) -> dict[uuid.UUID, dict]:
    """Each row's attribution (``query`` runs SQL on the audit log, in a thread here)."""
    if not rows:
        return {}
    since = await synced_since(db, repo.id, rows)
    lowest = min((s or EPOCH for s in since.values()), default=EPOCH)
    keys = {r.id: audit_key(r.kind, r.cluster_id, r.stream, r.name) for r in rows if r.cluster_id}
    audited = (
        await asyncio.to_thread(_audited, query, repo.org_id, set(keys.values()), lowest)
        if keys
        else {}
    )
    requested = await _requested(db, query, repo.org_id, rows, lowest)
    return {
        r.id: pick(r, since[r.id], audited.get(keys.get(r.id), []) + requested.get(r.id, []))
        for r in rows
    }
