"""Sign-in: login, refresh-token rotation, logout, and the current user."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Request
from sqlalchemy import select, update

from api.deps import CurrentPrincipal, Db, Principal, Svc, audit
from api.errors import ProblemError
from api.schemas import LoginRequest, LogoutRequest, Me, OrganizationRef, RefreshRequest, TokenPair
from core.db.models import Organization, OrganizationMember, Session, User
from core.rbac import permissions_for_role
from core.security import issue_access_token, token_digest, verify_password
from core.tokens import RefreshInvalid, RefreshReuse, SessionInfo, TokenStore

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
BAD_LOGIN = "Incorrect email or password."


def _tokens(svc: Svc) -> TokenStore:
    return TokenStore(svc.redis, svc.settings.refresh_token_ttl_s)


def _pair(svc: Svc, info: SessionInfo, refresh: str) -> TokenPair:
    access = issue_access_token(
        svc.secret_key, user_id=uuid.UUID(info.user_id), org_id=uuid.UUID(info.org_id),
        role=info.role, session_id=uuid.UUID(info.sid), ttl_s=svc.settings.access_token_ttl_s)
    return TokenPair(access_token=access, refresh_token=refresh,
                     expires_in=svc.settings.access_token_ttl_s)


@router.post("/login", response_model=TokenPair)
async def login(body: LoginRequest, request: Request, db: Db, svc: Svc) -> TokenPair:
    email = body.email.strip().lower()
    user = await db.scalar(select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else None, body.password):
        raise ProblemError(401, BAD_LOGIN)
    if user.status != "active":
        raise ProblemError(403, "This account is disabled; ask an administrator.")
    member = await db.scalar(select(OrganizationMember).where(OrganizationMember.user_id == user.id)
                             .order_by(OrganizationMember.joined_at).limit(1))
    if member is None:
        raise ProblemError(403, "This account belongs to no organization.")
    now = datetime.now(timezone.utc)
    sid = uuid.uuid4()
    ip = request.client.host if request.client else None
    info = SessionInfo(str(sid), str(user.id), str(member.org_id), user.email, member.role)
    refresh = await _tokens(svc).open_session(info, ip or "")
    db.add(Session(id=sid, user_id=user.id, token_hash=token_digest(refresh), ip_address=ip,
                   user_agent=request.headers.get("user-agent", ""),
                   expires_at=now + timedelta(seconds=svc.settings.refresh_token_ttl_s)))
    user.last_login_at = now
    await db.commit()
    principal = Principal(user_id=user.id, org_id=member.org_id, email=user.email,
                          role=member.role, session_id=str(sid), permissions=frozenset())
    await audit(request, principal, action="auth.login", resource_type="session",
                resource_id=str(sid), resource_name=user.email)
    return _pair(svc, info, refresh)


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshRequest, db: Db, svc: Svc) -> TokenPair:
    try:
        info, new_refresh = await _tokens(svc).rotate(body.refresh_token)
    except RefreshReuse as reuse:
        await db.execute(update(Session).where(Session.id == uuid.UUID(str(reuse)))
                         .values(revoked_at=datetime.now(timezone.utc)))
        await db.commit()
        raise ProblemError(401, "This refresh token was already used; the session has been "
                                "revoked for safety. Sign in again.")
    except RefreshInvalid:
        raise ProblemError(401, "The refresh token is invalid or expired; sign in again.")
    await db.execute(update(Session).where(Session.id == uuid.UUID(info.sid))
                     .values(token_hash=token_digest(new_refresh)))
    await db.commit()
    return _pair(svc, info, new_refresh)


@router.post("/logout", status_code=204)
async def logout(request: Request, principal: CurrentPrincipal, db: Db, svc: Svc,
                 body: LogoutRequest | None = None) -> None:
    await _tokens(svc).revoke(principal.session_id)
    await db.execute(update(Session).where(Session.id == uuid.UUID(principal.session_id))
                     .values(revoked_at=datetime.now(timezone.utc)))
    await db.commit()
    await audit(request, principal, action="auth.logout", resource_type="session",
                resource_id=principal.session_id, resource_name=principal.email)


@router.get("/me", response_model=Me)
async def me(principal: CurrentPrincipal, db: Db) -> Me:
    user = await db.get(User, principal.user_id)
    org = await db.get(Organization, principal.org_id)
    if user is None or org is None:
        raise ProblemError(401, "This account no longer exists; sign in again.")
    return Me(id=user.id, email=user.email, first_name=user.first_name, last_name=user.last_name,
              role=principal.role, permissions=sorted(permissions_for_role(principal.role)),
              organization=OrganizationRef(id=org.id, name=org.name, slug=org.slug))
