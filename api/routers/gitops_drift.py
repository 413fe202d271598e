"""Drift of a GitOps repository (``/api/v1/gitops/repos/{id}/drift``): what differs between git and
the clusters per resource and field, who changed it and when (from the audit log: a change made
through the console names its author; otherwise it was made outside the console), and the three
remediations:

- ``revert``: a sync of those resources from git (trigger ``drift_revert``), through the change
  gate like every sync — production waits for an approval;
- ``update_git``: a commit on a new branch ``jsc/drift-<id>`` with the live values, pushed to the
  remote for review (git itself is never changed on its branch);
- ``ignore``: not reported as open until the expiry (then open again if still there).

Reading needs ``gitops:read``; scanning now and remediating ``gitops:sync``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select

from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError, problem_responses
from api.gitops_access import load_repo, owe_sync
from api.gitops_schemas import interval_seconds
from api.operation_start import keyed_operation_id, start_operation
from api.outbox_delivery import deliver_now
from core.db.gitops_models import GitDrift, GitRepository
from core.db.models import NatsCluster
from core.operations import get_operation
from core.schema_rules import not_both, rules
from gitops import schedules
from gitops.attribution import changed_by
from gitops.drift_rows import mark_reverting
from gitops.drift_update import UpdateRefused, update_git
from gitops.jobs import DriftScan

router = APIRouter(prefix="/api/v1/gitops/repos", tags=["gitops"])
NOT_FOUND = {"404": "No such repository, or a drift item of another repository."}
MAX_IGNORE = timedelta(days=90)


class DriftView(BaseModel):
    id: uuid.UUID
    environment: str
    cluster_id: uuid.UUID | None
    resource: str
    kind: str
    stream: str | None
    name: str
    drift_type: Literal["changed", "missing", "unmanaged"]
    fields: list[dict[str, Any]]
    source: str
    changed_by: dict[str, Any]
    status: Literal["open", "ignored", "reverting", "resolved"]
    ignored_until: datetime | None
    remediation: dict[str, Any] | None
    first_seen: datetime
    last_seen: datetime


class DriftList(BaseModel):
    repo_id: uuid.UUID
    scanned_at: str | None
    commit: str | None
    error: str | None
    items: list[DriftView]


class Remediation(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra=rules(not_both("ignore_for", "ignore_until"))
    )
    action: Literal["revert", "update_git", "ignore"]
    items: list[uuid.UUID] = Field(min_length=1, max_length=500)
    ignore_for: str | None = Field(default=None, description='e.g. "7d" (at most 90d); default 7d')
    ignore_until: datetime | None = None

    @field_validator("ignore_for")
    @classmethod
    def _for(cls, value: str | None) -> str | None:
        if value is not None:
            _duration(value)
        return value

    @model_validator(mode="after")
    def _one_expiry(self) -> Remediation:
        if self.ignore_for is not None and self.ignore_until is not None:
            raise ValueError("give ignore_for or ignore_until, not both")
        return self


class ScanStarted(BaseModel):
    operation_id: uuid.UUID
    workflow_id: str
    status: str


def _duration(value: str) -> timedelta:
    text = value.strip()
    if text.endswith("d") and text[:-1].isdigit():
        span = timedelta(days=int(text[:-1]))
    else:
        try:
            span = timedelta(seconds=interval_seconds(text))
        except ValueError:
            raise ValueError(f"'{value}' is not a duration such as 12h or 7d") from None
    if not timedelta(minutes=1) <= span <= MAX_IGNORE:
        raise ValueError("must be between 1m and 90d")
    return span


def _view(row: GitDrift, changed_by: dict) -> DriftView:
    return DriftView(
        id=row.id,
        environment=row.environment,
        cluster_id=row.cluster_id,
        resource=row.resource,
        kind=row.kind,
        stream=row.stream,
        name=row.name,
        drift_type=row.drift_type,
        fields=row.fields or [],
        source=row.source,
        changed_by=changed_by,
        status=row.status,
        ignored_until=row.ignored_until,
        remediation=row.remediation,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


@router.get("/{repo_id}/drift", response_model=DriftList)
async def list_drift(
    repo_id: uuid.UUID,
    db: Db,
    svc: Svc,
    status: Literal["open", "ignored", "reverting", "resolved"] | None = Query(None),
    principal: Principal = Depends(require("gitops:read")),
):
    """The drift the last scan found (default: everything not resolved)."""
    repo = await load_repo(db, principal.org_id, repo_id)
    query = select(GitDrift).where(GitDrift.repo_id == repo.id)
    query = (
        query.where(GitDrift.status == status)
        if status
        else query.where(GitDrift.status != "resolved")
    )
    rows = list(await db.scalars(query.order_by(GitDrift.environment, GitDrift.resource)))
    who = await changed_by(db, svc.analytics.query, repo, rows)
    scan = repo.last_scan or {}
    return DriftList(
        repo_id=repo.id,
        scanned_at=scan.get("at"),
        commit=scan.get("commit"),
        error=scan.get("error"),
        items=[_view(r, who[r.id]) for r in rows],
    )


@router.post("/{repo_id}/drift/scan", status_code=202, response_model=ScanStarted)
async def scan_now(
    repo_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    idempotency_key: str | None = Header(None, max_length=200),
    principal: Principal = Depends(require("gitops:sync")),
):
    """Scan for drift now, as an operation (type ``gitops_drift``: follow it at
    ``/api/v1/operations/{operation_id}``); what it finds is ``GET .../drift`` and the
    repository's ``last_scan``. An ``Idempotency-Key`` makes a retried request the same scan."""
    repo = await load_repo(db, principal.org_id, repo_id)
    keyed = keyed_operation_id(principal, f"gitops_drift:{repo.id}", idempotency_key)
    if keyed and (row := await get_operation(db, principal.org_id, keyed)) is not None:
        return ScanStarted(operation_id=row.id, workflow_id=row.workflow_id, status=row.status)
    op_id, workflow_id, status = await start_operation(
        request,
        db,
        svc,
        principal,
        kind="gitops_drift",
        workflow=schedules.WORKFLOW,
        operation_id=keyed or uuid.uuid4(),
        input=DriftScan(repo_id=str(repo.id), org_id=str(repo.org_id)),
        cluster_id=None,
        idempotency_key=idempotency_key,
        progress={},
        audit_changes={"repo": repo.name},
    )
    return ScanStarted(operation_id=op_id, workflow_id=workflow_id, status=status)


@router.post(
    "/{repo_id}/drift/remediate",
    status_code=200,
    responses={
        201: {"description": "update_git: the branch pushed, {branch, commit}"},
        202: {"description": "revert: the sync started, {sync_id, status}"},
        **problem_responses(
            **NOT_FOUND,
            **{
                "409": "An item is resolved already, or being reverted.",
                "422": "An invalid action or duration, or nothing git can take from the cluster.",
                "503": "The git remote or a cluster cannot be reached now.",
            },
        ),
    },
)
async def remediate(
    repo_id: uuid.UUID,
    body: Remediation,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("gitops:sync")),
):
    repo = await load_repo(db, principal.org_id, repo_id)
    rows = list(
        await db.scalars(
            select(GitDrift).where(GitDrift.repo_id == repo.id, GitDrift.id.in_(body.items))
        )
    )
    missing = set(body.items) - {r.id for r in rows}
    if missing:
        raise ProblemError(
            404, f"No drift item {', '.join(sorted(map(str, missing)))} of this repository."
        )
    closed = [r.resource for r in rows if r.status in ("resolved", "reverting")]
    if closed:
        raise ProblemError(409, f"Already resolved or being reverted: {', '.join(closed)}.")
    refs = [f"{r.environment}:{r.resource}" for r in rows]
    details: dict[str, Any] = {"action": body.action, "items": refs}
    if body.action == "ignore":
        answer = await _ignore(db, svc, principal, repo, rows, body)
    elif body.action == "revert":
        answer = await _revert(request, db, svc, principal, repo, rows, refs)
        details["sync_id"] = answer["sync_id"]
    else:
        answer = await _update_git(db, svc, principal, repo, rows)
        details.update(answer)
    await audit(
        request,
        principal,
        action=f"gitops.drift_{body.action}",
        resource_type="gitops_repo",
        resource_id=str(repo.id),
        resource_name=repo.name,
        changes=details,
        db=db,
    )
    if body.action == "revert":
        await deliver_now(svc, answer.pop("_start"))
        return _status(202, answer)
    if body.action == "update_git":
        return _status(201, answer)
    return answer


def _status(code: int, body: dict) -> JSONResponse:
    return JSONResponse(status_code=code, content=body)


async def _ignore(
    db: Db,
    svc: Svc,
    principal: Principal,
    repo: GitRepository,
    rows: list[GitDrift],
    body: Remediation,
) -> dict:
    now = datetime.now(UTC)
    until = body.ignore_until or now + _duration(body.ignore_for or "7d")
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    if not now < until <= now + MAX_IGNORE:
        raise ProblemError(
            422,
            "Invalid input: ignore_until: must be in the future, at most 90 days from now.",
            errors=[{"field": "ignore_until", "message": "out of range"}],
        )
    for row in rows:
        row.status, row.ignored_until = "ignored", until
        row.remediation = {
            "action": "ignore",
            "by": principal.email,
            "at": now.isoformat(),
            "until": until.isoformat(),
        }
    await db.flush()
    who = await changed_by(db, svc.analytics.query, repo, rows)
    return {"items": [_view(r, who[r.id]).model_dump(mode="json") for r in rows]}


async def _revert(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    repo: GitRepository,
    rows: list[GitDrift],
    refs: list[str],
) -> dict:
    if not repo.last_commit:
        raise ProblemError(
            422,
            "The repository was never synced: sync it first (Sync now); "
            "a revert restores the last synced commit.",
        )
    extra = [r.resource for r in rows if r.drift_type == "unmanaged"]
    if extra and repo.prune != "with_approval":
        raise ProblemError(
            422,
            f"Reverting {', '.join(extra)} would delete it from the cluster "
            "(git does not have it), and this repository never prunes: set "
            "its prune to with_approval, update git from the cluster, or "
            "ignore it.",
        )
    sync, start = await owe_sync(
        db,
        svc,
        repo,
        trigger="drift_revert",
        ref=repo.branch,
        commit=repo.last_commit,
        dedupe=f"revert:{uuid.uuid4()}",
        user=principal,
        only=refs,
    )
    await mark_reverting(db, repo.id, refs, sync.id, principal.email)
    return {"sync_id": str(sync.id), "status": "pending", "_start": start}


async def _update_git(
    db: Db, svc: Svc, principal: Principal, repo: GitRepository, rows: list[GitDrift]
) -> dict:
    ids = {r.cluster_id for r in rows if r.cluster_id}
    clusters = (
        {
            c.id: c
            for c in await db.scalars(
                select(NatsCluster).where(
                    NatsCluster.org_id == principal.org_id, NatsCluster.id.in_(ids)
                )
            )
        }
        if ids
        else {}
    )
    try:
        pushed = await update_git(
            repo,
            rows,
            clusters,
            svc.cipher,
            svc.clusters,
            svc.settings,
            author=(principal.email.split("@")[0], principal.email),
        )
    except UpdateRefused as exc:
        raise ProblemError(exc.status, str(exc)) from exc
    now = datetime.now(UTC).isoformat()
    for row in rows:
        row.remediation = {
            "action": "update_git",
            "by": principal.email,
            "at": now,
            "branch": pushed["branch"],
            "commit": pushed["commit"],
        }
    await db.flush()
    return pushed
