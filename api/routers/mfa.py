"""Two-factor sign-in with TOTP, for the signed-in user: enable (a new secret and its
``otpauth://`` URI for an authenticator app), verify a first code (MFA is on from then), disable
with a current code. An administrator can reset a member's MFA (``DELETE /users/{id}/mfa``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import CurrentPrincipal, Db, Principal, Svc, audit
from api.errors import ProblemError
from api.tenancy_schemas import MfaCode, MfaSetup
from core import mfa
from core.db.models import User

router = APIRouter(prefix="/api/v1/auth/mfa", tags=["auth"])


async def _user(db: Db, principal: Principal) -> User:
    if principal.api_key_id is not None:
        raise ProblemError(400, "MFA belongs to a person's sign-in: use a session, not an API key.")
    user = await db.get(User, principal.user_id)
    if user is None:
        raise ProblemError(401, "This account no longer exists; sign in again.")
    return user


@router.post("/enable", response_model=MfaSetup)
async def enable(request: Request, principal: CurrentPrincipal, db: Db, svc: Svc) -> MfaSetup:
    """Start (or restart) the set-up: MFA is on only after ``/verify`` with a first code."""
    user = await _user(db, principal)
    if user.mfa_enabled:
        raise ProblemError(
            409,
            "MFA is already on for this account; disable it first to set up another authenticator.",
        )
    secret = mfa.new_secret()
    user.mfa_secret = mfa.seal(svc.cipher, user.id, secret)
    await db.commit()
    await audit(
        request,
        principal,
        action="auth.mfa_enable",
        resource_type="user",
        resource_id=str(user.id),
        resource_name=user.email,
    )
    return MfaSetup(secret=secret, provisioning_uri=mfa.provisioning_uri(secret, user.email))


@router.post("/verify")
async def verify(
    body: MfaCode, request: Request, principal: CurrentPrincipal, db: Db, svc: Svc
) -> dict:
    user = await _user(db, principal)
    if not user.mfa_secret:
        raise ProblemError(
            409, "Start with POST /api/v1/auth/mfa/enable: there is no authenticator to verify yet."
        )
    secret = mfa.unseal(svc.cipher, user.id, user.mfa_secret)
    if not await mfa.check_code(svc.redis, user.id, secret, body.code):
        raise ProblemError(
            400,
            "The code is not valid (or was already used); enter the current "
            "code of your authenticator app.",
            errors=[{"field": "code", "message": "is not the current code"}],
        )
    was_enabled, user.mfa_enabled = user.mfa_enabled, True
    await db.commit()
    await audit(
        request,
        principal,
        action="auth.mfa_verify",
        resource_type="user",
        resource_id=str(user.id),
        resource_name=user.email,
        changes={} if was_enabled else {"mfa_enabled": {"before": False, "after": True}},
    )
    return {"mfa_enabled": True}


@router.delete("/disable")
async def disable(
    body: MfaCode, request: Request, principal: CurrentPrincipal, db: Db, svc: Svc
) -> dict:
    user = await _user(db, principal)
    if not user.mfa_enabled or not user.mfa_secret:
        raise ProblemError(409, "MFA is not on for this account.")
    secret = mfa.unseal(svc.cipher, user.id, user.mfa_secret)
    if not await mfa.check_code(svc.redis, user.id, secret, body.code):
        raise ProblemError(
            400,
            "The code is not valid (or was already used); MFA stays on.",
            errors=[{"field": "code", "message": "is not the current code"}],
        )
    user.mfa_enabled, user.mfa_secret = False, None
    await db.commit()
    await audit(
        request,
        principal,
        action="auth.mfa_disable",
        resource_type="user",
        resource_id=str(user.id),
        resource_name=user.email,
        changes={"mfa_enabled": {"before": True, "after": False}},
    )
    return {"mfa_enabled": False}
