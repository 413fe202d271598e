"""The push webhook of a GitOps repository: ``POST /api/v1/gitops/webhook/{repo_id}``.

No sign-in: the sender proves itself with the repository's webhook secret (GitHub's
``X-Hub-Signature-256``, GitLab's ``X-Gitlab-Token``, or ``X-JSC-Signature``;
``gitops.signatures``).
An unknown repository, one without a secret, and a bad or missing signature all get the same
``401``, so the route tells nobody which repositories exist; nothing is stored or started before
the signature is verified, and the body is read once, up to 1 MiB.

A verified delivery is recorded by its id (a replay is ignored), and a push to the repository's
branch starts one sync of that commit (a commit is synced once, however many deliveries name it).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from api.deps import Db, Svc, audit
from api.errors import ProblemError, problem_responses
from api.gitops_access import owe_sync, webhook_secret_of
from api.gitops_schemas import WebhookAnswer
from api.outbox_delivery import deliver_now
from core.db.gitops_models import GitRepository, GitSync, GitWebhookDelivery
from gitops.signatures import SignatureError, push_of, verify

router = APIRouter(prefix="/api/v1/gitops/webhook", tags=["gitops"])
MAX_BODY = 1024 * 1024
WEBHOOK_ACTOR = "gitops webhook"  # who the audit log says accepted a push
UNSIGNED = (
    "The request is not signed with this repository's webhook secret (X-Hub-Signature-256, "
    "X-Gitlab-Token or X-JSC-Signature), or there is no such repository with a secret."
)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise ProblemError(413, "The webhook body is larger than 1 MiB.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ProblemError(413, "The webhook body is larger than 1 MiB.")
    return body


def _ignored(reason: str, **extra) -> JSONResponse:
    body = WebhookAnswer(status="ignored", reason=reason, **extra)
    return JSONResponse(status_code=200, content=body.model_dump(mode="json"))


@router.post(
    "/{repo_id}",
    status_code=202,
    response_model=WebhookAnswer,
    responses={
        200: {
            "model": WebhookAnswer,
            "description": "Verified, but nothing to do: a replayed "
            "delivery, a ping, another branch, a manual repository, or a commit synced already.",
        },
        **problem_responses(
            **{
                "401": UNSIGNED,
                "413": "The body is larger than 1 MiB.",
                "422": "The repository id is not a UUID.",
            }
        ),
    },
)
async def receive_push(repo_id: uuid.UUID, request: Request, db: Db, svc: Svc):
    body = await _body(request)
    repo = await db.scalar(select(GitRepository).where(GitRepository.id == repo_id))
    secret = webhook_secret_of(svc.cipher, repo) if repo is not None else None
    try:
        delivery = verify(request.headers, body, secret or "")
    except SignatureError as exc:
        raise ProblemError(401, UNSIGNED) from exc
    seen = await db.execute(
        insert(GitWebhookDelivery)
        .values(repo_id=repo.id, delivery_id=delivery.delivery_id)
        .on_conflict_do_nothing()
        .returning(GitWebhookDelivery.delivery_id)
    )
    if seen.first() is None:
        await db.rollback()
        return _ignored(f"replayed delivery {delivery.delivery_id}")
    push = push_of(delivery, body)
    reason = None
    if push is None:
        reason = f"{delivery.provider} event '{delivery.event}' is not a push of a commit"
    elif push.branch != repo.branch:
        reason = f"a push to {push.ref}, not to the repository's branch {repo.branch}"
    elif repo.sync != "auto":
        reason = "the repository syncs manually (Sync now)"
    if reason:
        await db.commit()
        return _ignored(reason)
    return await _start(
        request, db, svc, repo, push.commit, delivery.delivery_id, delivery.provider
    )


async def _start(
    request: Request,
    db: Db,
    svc: Svc,
    repo: GitRepository,
    commit: str,
    delivery_id: str,
    provider: str,
):
    repo_id = repo.id
    await db.execute(
        GitWebhookDelivery.__table__.update()
        .where(GitWebhookDelivery.repo_id == repo.id, GitWebhookDelivery.delivery_id == delivery_id)
        .values(commit=commit)
    )
    await db.commit()  # the delivery is seen, whatever happens to the sync below
    try:
        sync, start = await owe_sync(
            db, svc, repo, trigger="webhook", ref=repo.branch, commit=commit, dedupe=commit
        )
    except IntegrityError:
        await db.rollback()  # expires the repository's attributes: use what was read before
        existing = await db.scalar(
            select(GitSync.id).where(GitSync.repo_id == repo_id, GitSync.dedupe == commit)
        )
        return _ignored(f"commit {commit} already synced", sync_id=existing, commit=commit)
    await audit(
        request,
        None,
        org_id=repo.org_id,
        action="gitops.webhook",
        resource_type="gitops_repo",
        resource_id=str(repo.id),
        resource_name=repo.name,
        changes={
            "provider": provider,
            "delivery_id": delivery_id,
            "commit": commit,
            "sync_id": str(sync.id),
        },
        db=db,
        actor=WEBHOOK_ACTOR,
    )
    await deliver_now(svc, start)
    body = WebhookAnswer(status="started", sync_id=sync.id, commit=commit)
    return JSONResponse(status_code=202, content=body.model_dump(mode="json"))
