"""GitOps repositories (``/api/v1/gitops/repos``): a git repository whose ``environments/<env>/``
manifests are the desired state of the clusters the repository maps them to.

Registering, changing and removing one needs ``gitops:create`` / ``update`` / ``delete`` (admins
only: a repository's syncs act organization-wide); reading ``gitops:read``. The URL is checked
against what the platform may reach (``gitops.git.validate_url``); the token, ssh key and webhook
secret are stored encrypted and never returned.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from temporalio.service import RPCError

from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError, validation_problem
from api.gitops_access import load_repo, repo_view, seal
from api.gitops_schemas import RepoChange, RepoCreate, RepoView, check_credentials, interval_seconds
from core.db.gitops_models import GitRepository
from core.db.models import NatsCluster
from gitops import schedules
from gitops.git import GitError, validate_url
from gitops.planning import access_of

router = APIRouter(prefix="/api/v1/gitops/repos", tags=["gitops"])
SECRET_FIELDS = ("token", "ssh_key", "known_hosts")


def _default_name(url: str) -> str:
    tail = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return (tail.removesuffix(".git") or "repository")[:255]


async def _checked(db: Db, svc: Svc, principal: Principal, body: RepoCreate) -> dict:
    """The row's values: the URL one the platform may reach, every cluster the organization's."""
    try:
        url = await validate_url(body.url, svc.settings)
    except GitError as exc:
        raise ProblemError(
            422, f"Invalid input: url: {exc}", errors=[{"field": "url", "message": str(exc)}]
        ) from exc
    ids = set(body.environments.values())
    found = set(
        await db.scalars(
            select(NatsCluster.id).where(
                NatsCluster.org_id == principal.org_id, NatsCluster.id.in_(ids)
            )
        )
    )
    missing = sorted(str(i) for i in ids - found)
    if missing:
        raise ProblemError(
            404,
            f"No cluster with id {', '.join(missing)} in your organization: "
            "map each environment to one of your registered clusters.",
        )
    return {
        "name": body.name or _default_name(url),
        "url": url,
        "branch": body.branch,
        "path": body.path,
        "environments": {e: str(c) for e, c in body.environments.items()},
        "sync": body.sync,
        "prune": body.prune,
        "on_drift": body.on_drift,
        "interval_seconds": interval_seconds(body.interval),
        "namespaces": list(dict.fromkeys(body.namespaces)),
        "auth_type": check_credentials(url, body.token, body.ssh_key, body.known_hosts),
    }


def _secrets(svc: Svc, row: GitRepository, body: RepoCreate) -> None:
    row.credentials = seal(svc.cipher, row.id, {k: getattr(body, k) for k in SECRET_FIELDS})
    row.webhook_secret = (
        seal(svc.cipher, row.id, {"secret": body.webhook_secret}) if body.webhook_secret else None
    )


async def _saved(db: Db, svc: Svc, row: GitRepository) -> RepoView:
    """Write the row (a name taken is a 409), then its drift schedule (Temporal down: 503, and
    nothing is kept)."""
    name = row.name
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise ProblemError(
            409,
            f"A GitOps repository named '{name}' exists already in your "
            "organization; choose another name.",
        ) from exc
    try:
        await schedules.ensure(svc.temporal, row, svc.settings.task_queue)
    except RPCError as exc:
        await db.rollback()
        raise ProblemError(
            503, f"temporal is unavailable: {exc.message}", service="temporal"
        ) from exc
    await db.refresh(row)
    return await repo_view(db, row)


def _audited(view: RepoView) -> dict:
    return view.model_dump(mode="json", exclude={"status", "last_sync", "last_scan"})


@router.post("", status_code=201, response_model=RepoView)
async def create_repo(
    body: RepoCreate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("gitops:create")),
):
    values = await _checked(db, svc, principal, body)
    row = GitRepository(
        id=uuid.uuid4(), org_id=principal.org_id, created_by=principal.user_id, **values
    )
    _secrets(svc, row, body)
    db.add(row)
    view = await _saved(db, svc, row)
    await audit(
        request,
        principal,
        action="gitops_repo.create",
        resource_type="gitops_repo",
        resource_id=str(row.id),
        resource_name=row.name,
        changes={"after": _audited(view)},
        db=db,
    )
    return view


@router.get("", response_model=dict[str, list[RepoView]])
async def list_repos(db: Db, principal: Principal = Depends(require("gitops:read"))):
    rows = await db.scalars(
        select(GitRepository)
        .where(GitRepository.org_id == principal.org_id)
        .order_by(GitRepository.name)
    )
    return {"items": [await repo_view(db, r) for r in rows]}


@router.get("/{repo_id}", response_model=RepoView)
async def read_repo(
    repo_id: uuid.UUID, db: Db, principal: Principal = Depends(require("gitops:read"))
):
    return await repo_view(db, await load_repo(db, principal.org_id, repo_id))


@router.patch("/{repo_id}", response_model=RepoView)
async def update_repo(
    repo_id: uuid.UUID,
    body: RepoChange,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("gitops:update")),
):
    row = await load_repo(db, principal.org_id, repo_id)
    before = _audited(await repo_view(db, row))
    given = body.model_dump(mode="json", include=body.model_fields_set)
    secrets = access_of(row, svc.cipher)
    merged = {
        "name": row.name,
        "url": row.url,
        "branch": row.branch,
        "path": row.path,
        "environments": row.environments,
        "sync": row.sync,
        "prune": row.prune,
        "interval": row.interval_seconds,
        "on_drift": row.on_drift,
        "namespaces": row.namespaces,
        "token": secrets.token,
        "ssh_key": secrets.ssh_key,
        "known_hosts": secrets.known_hosts,
        "webhook_secret": "x" * 16 if row.webhook_secret else None,
    }
    if "url" in given and "token" not in given and "ssh_key" not in given:
        merged.update(token=None, ssh_key=None, known_hosts=None)  # a new remote, new credentials
    merged.update(given)
    try:
        wanted = RepoCreate.model_validate(merged)
    except ValidationError as exc:
        return validation_problem(exc.errors())
    values = await _checked(db, svc, principal, wanted)
    for key, value in values.items():
        setattr(row, key, value)
    row.credentials = seal(svc.cipher, row.id, {k: getattr(wanted, k) for k in SECRET_FIELDS})
    if "webhook_secret" in given:
        row.webhook_secret = (
            seal(svc.cipher, row.id, {"secret": wanted.webhook_secret})
            if wanted.webhook_secret
            else None
        )
    view = await _saved(db, svc, row)
    await audit(
        request,
        principal,
        action="gitops_repo.update",
        resource_type="gitops_repo",
        resource_id=str(row.id),
        resource_name=row.name,
        changes={
            "before": before,
            "after": _audited(view),
            "secrets_changed": sorted(set(given) & {*SECRET_FIELDS, "webhook_secret"}),
        },
        db=db,
    )
    return view


@router.delete("/{repo_id}", status_code=204, response_class=Response)
async def delete_repo(
    repo_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("gitops:delete")),
):
    """Forget the repository, its syncs, its drift and its drift schedule; the clusters are left
    as they are."""
    row = await load_repo(db, principal.org_id, repo_id)
    name = row.name
    try:
        await schedules.remove(svc.temporal, repo_id)
    except RPCError as exc:
        raise ProblemError(
            503, f"temporal is unavailable: {exc.message}", service="temporal"
        ) from exc
    await db.delete(row)
    await audit(
        request,
        principal,
        action="gitops_repo.delete",
        resource_type="gitops_repo",
        resource_id=str(repo_id),
        resource_name=name,
        db=db,
    )
    return Response(status_code=204)
