"""Password reset by e-mail: ``POST /auth/forgot-password`` mails a single-use link that expires
(``core.password_reset``), ``POST /auth/reset-password`` sets the new password with its token.

Asking for a link never tells whether an account uses the address: the answer (202, one body) and
the work done before answering are the same either way; looking the account up is the only
difference, and the token, the mail and the audit record are made after the answer is sent
(a background task). Both routes are public; the reset is throttled per client address before its
argon2 work as sign-in is (``core.credential_checks``), and an unknown, used or expired token
counts as a failed credential check of the address.

A reset sets the password, ends every session of the account (its refresh tokens and access tokens
stop working at once), lifts a sign-in lockout of the address, and is audited in every organization
the account belongs to."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, BackgroundTasks, Request
from sqlalchemy import select, update

from api.deps import Db, Principal, Svc, audit, client_throttle, too_many
from api.errors import ProblemError
from api.services import Services
from api.tenancy_schemas import ForgotPasswordRequest, ResetPasswordRequest, ResetRequested
from core import mail, password_reset
from core.credential_checks import ARGON2_CHECKS, Throttled
from core.db.models import OrganizationMember, Session, User
from core.ratelimit import LoginGuard
from core.security import hash_password
from core.tokens import TokenStore

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
BAD_TOKEN = (
    "This password reset link is invalid, expired or already used; ask for a new one "
    "(POST /api/v1/auth/forgot-password)."
)


def _requested(svc: Svc) -> ResetRequested:
    minutes = max(1, svc.settings.password_reset_ttl_s // 60)
    return ResetRequested(
        detail=f"If an account uses this address, a link to reset its password "
        f"is on its way; it works once, within {minutes} minute(s)."
    )


async def _memberships(services: Services, user_id: uuid.UUID) -> list[uuid.UUID]:
    async with services.sessions() as db:
        return list(
            await db.scalars(
                select(OrganizationMember.org_id).where(OrganizationMember.user_id == user_id)
            )
        )


async def _audit_everywhere(
    request: Request, services: Services, user_id: uuid.UUID, email: str, action: str, changes: dict
) -> None:
    """One audit record in each organization of the account (each one's admins see it)."""
    for org_id in await _memberships(services, user_id):
        await audit(
            request,
            Principal(user_id, org_id, email, "", "", frozenset()),
            action=action,
            resource_type="user",
            resource_id=str(user_id),
            resource_name=email,
            changes=changes,
        )


async def _mail_link(request: Request, services: Services, user_id: uuid.UUID, email: str) -> None:
    settings = services.settings
    token = await password_reset.issue(services.redis, str(user_id), settings.password_reset_ttl_s)
    mailed = await mail.send_password_reset(settings, to=email, token=token)
    await _audit_everywhere(
        request, services, user_id, email, "auth.forgot_password", {"mailed": mailed}
    )


@router.post("/forgot-password", status_code=202, response_model=ResetRequested)
async def forgot_password(
    body: ForgotPasswordRequest, request: Request, db: Db, svc: Svc, background: BackgroundTasks
) -> ResetRequested:
    """Mail a link to reset the password of the account using ``email``, if there is one. The
    answer is the same whether or not there is."""
    email = body.email.strip().lower()
    try:
        await password_reset.count_request(
            svc.redis, svc.settings, client_throttle(request, svc).address, email
        )
    except password_reset.Limited as exc:
        raise ProblemError(429, str(exc), headers={"Retry-After": str(exc.retry_after_s)}) from None
    user = await db.scalar(select(User).where(User.email == email))
    if user is not None and user.status == "active":
        background.add_task(_mail_link, request, svc, user.id, user.email)
    return _requested(svc)


async def _end_sessions(db: Db, svc: Svc, user_id: uuid.UUID) -> int:
    sids = [
        str(s)
        for s in await db.scalars(
            select(Session.id).where(Session.user_id == user_id, Session.revoked_at.is_(None))
        )
    ]
    await TokenStore(svc.redis, svc.settings.refresh_token_ttl_s).revoke_all(sids)
    await db.execute(
        update(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return len(sids)


@router.post("/reset-password", status_code=204)
async def reset_password(body: ResetPasswordRequest, request: Request, db: Db, svc: Svc) -> None:
    """Set a new password with the token of a mailed link (once). Every session of the account
    ends: sign in again with the new password."""
    throttle = client_throttle(request, svc)
    try:
        await throttle.before_argon2()  # the new password is hashed with argon2
    except Throttled as exc:
        raise too_many(exc) from None
    user_id = await password_reset.consume(svc.redis, body.token)
    user = await db.get(User, uuid.UUID(user_id)) if user_id else None
    if user is None:
        await throttle.failed()
        raise ProblemError(400, BAD_TOKEN)
    if user.status != "active":
        raise ProblemError(403, "This account is disabled; ask an administrator.")
    ARGON2_CHECKS.labels("reset_password").inc()
    user.password_hash = await asyncio.to_thread(hash_password, body.password)
    ended = await _end_sessions(db, svc, user.id)
    await db.commit()
    s = svc.settings
    await LoginGuard(
        svc.redis,
        max_failures=s.login_max_failures,
        window_s=s.login_failure_window_s,
        lockout_s=s.login_lockout_s,
    ).unlock(user.email)
    await _audit_everywhere(
        request, svc, user.id, user.email, "auth.reset_password", {"sessions_ended": ended}
    )
