"""Sign-in: login (with the TOTP code once MFA is on, and a lockout after repeated failures),
refresh-token rotation, logout, the current user, and sign-up (a new organization, or an
invitation accepted).

Login, sign-up and refresh pass the client address's throttle (``core.credential_checks``) before
any argon2 work, and count their failures against it: a burst of bad credentials from one
address is answered 429 without hashing. Accepting an invitation with an existing account's
password is a sign-in of that account (anyone can sign up and invite any address): with its MFA
code when MFA is on, its failures count towards the account's lockout, and a locked account
accepts nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from api.deps import CurrentPrincipal, Db, Principal, Svc, audit, client_throttle, too_many
from api.errors import ProblemError, problem_responses
from api.schemas import LogoutRequest, OrganizationRef, RefreshRequest, TokenPair
from api.tenancy_schemas import LoginBody, MeOut, RegisterRequest, RegisterResult
from core import mfa, tenancy
from core.credential_checks import Throttled, verify
from core.db.models import (
    Invitation,
    Organization,
    OrganizationMember,
    Session,
    Team,
    TeamMember,
    User,
)
from core.ratelimit import LoginGuard
from core.security import issue_access_token, token_digest
from core.tokens import RefreshInvalid, RefreshReuse, SessionInfo, TokenStore

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
BAD_LOGIN = "Incorrect email or password."
THROTTLED = "Too many attempts from your address; wait for the time in Retry-After."
BAD_MFA_CODE = (
    "The MFA code is not valid (or was already used); send the current code of your "
    "authenticator app."
)
MFA_REQUIRED = (
    "MFA code required: this account uses two-factor authentication; send the 6-digit "
    "code of your authenticator app as 'code'."
)


def _tokens(svc: Svc) -> TokenStore:
    return TokenStore(svc.redis, svc.settings.refresh_token_ttl_s)


def _guard(svc: Svc) -> LoginGuard:
    s = svc.settings
    return LoginGuard(
        svc.redis,
        max_failures=s.login_max_failures,
        window_s=s.login_failure_window_s,
        lockout_s=s.login_lockout_s,
    )


def _pair(svc: Svc, info: SessionInfo, refresh: str) -> TokenPair:
    access = issue_access_token(
        svc.secret_key,
        user_id=uuid.UUID(info.user_id),
        org_id=uuid.UUID(info.org_id),
        role=info.role,
        session_id=uuid.UUID(info.sid),
        ttl_s=svc.settings.access_token_ttl_s,
    )
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=svc.settings.access_token_ttl_s
    )


def _locked(seconds: int) -> HTTPException:
    minutes = max(1, round(seconds / 60))
    return HTTPException(
        429,
        f"Too many failed sign-ins: this account is locked for about "
        f"{minutes} minute(s); try again later or ask an administrator to "
        "unlock it.",
        headers={"Retry-After": str(seconds)},
    )


async def _start_session(
    request: Request, db: Db, svc: Svc, user: User, member: OrganizationMember
) -> tuple[TokenPair, str]:
    now = datetime.now(UTC)
    sid = uuid.uuid4()
    ip = request.client.host if request.client else None
    agent = request.headers.get("user-agent", "")
    info = SessionInfo(str(sid), str(user.id), str(member.org_id), user.email, member.role)
    refresh = await _tokens(svc).open_session(info, ip or "", agent)
    db.add(
        Session(
            id=sid,
            user_id=user.id,
            token_hash=token_digest(refresh),
            ip_address=ip,
            user_agent=agent,
            expires_at=now + timedelta(seconds=svc.settings.refresh_token_ttl_s),
        )
    )
    user.last_login_at = now
    await db.commit()
    return _pair(svc, info, refresh), str(sid)


@router.post("/login", response_model=TokenPair)
async def login(body: LoginBody, request: Request, db: Db, svc: Svc) -> TokenPair:
    throttle = client_throttle(request, svc)
    try:
        await throttle.check()
    except Throttled as exc:
        raise too_many(exc) from None
    email = body.email.strip().lower()
    user = await db.scalar(select(User).where(User.email == email))
    query = select(OrganizationMember).where(
        OrganizationMember.user_id == (user.id if user else None)
    )
    if body.organization_id:
        query = query.where(OrganizationMember.org_id == body.organization_id)
    member = await db.scalar(query.order_by(OrganizationMember.joined_at).limit(1))

    async def refuse(status: str, message: str, error: Exception) -> None:
        if user is not None and member is not None:  # audited in the account's organization
            who = Principal(user.id, member.org_id, user.email, member.role, "", frozenset())
            await audit(
                request,
                who,
                action="auth.login",
                resource_type="session",
                resource_name=user.email,
                status=status,
                error_message=message,
            )
        raise error

    guard = _guard(svc)
    if locked := await guard.locked_for(email):
        await refuse("denied", "account locked after repeated failed sign-ins", _locked(locked))
    try:
        await throttle.before_argon2()
    except Throttled as exc:
        raise too_many(exc) from None
    password_ok = await verify(user.password_hash if user else None, body.password, "login")
    if not password_ok:
        await throttle.failed()
        lock = await guard.failed(email)
        await refuse(
            "failure",
            "wrong password" + (", account now locked" if lock else ""),
            _locked(lock) if lock else ProblemError(401, BAD_LOGIN),
        )
    if user.status != "active":
        await refuse(
            "denied",
            "account disabled",
            ProblemError(403, "This account is disabled; ask an administrator."),
        )
    if member is None:
        detail = (
            "You are not a member of that organization."
            if body.organization_id
            else "This account belongs to no organization."
        )
        raise ProblemError(403, detail)
    if user.mfa_enabled:
        if not body.code:
            await refuse(
                "failure", "MFA code missing", ProblemError(401, MFA_REQUIRED, mfa_required=True)
            )
        secret = mfa.unseal(svc.cipher, user.id, user.mfa_secret)
        if not await mfa.check_code(svc.redis, user.id, secret, body.code):
            await throttle.failed()
            lock = await guard.failed(email)
            await refuse(
                "failure",
                "wrong MFA code" + (", account now locked" if lock else ""),
                _locked(lock) if lock else ProblemError(401, BAD_MFA_CODE, mfa_required=True),
            )
    await guard.succeeded(email)
    pair, sid = await _start_session(request, db, svc, user, member)
    await audit(
        request,
        Principal(user.id, member.org_id, user.email, member.role, sid, frozenset()),
        action="auth.login",
        resource_type="session",
        resource_id=sid,
        resource_name=user.email,
    )
    return pair


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshRequest, request: Request, db: Db, svc: Svc) -> TokenPair:
    throttle = client_throttle(request, svc)
    try:
        await throttle.check()
        info, new_refresh = await _tokens(svc).rotate(body.refresh_token)
    except Throttled as exc:
        raise too_many(exc) from None
    except RefreshReuse as reuse:
        await throttle.failed()
        await db.execute(
            update(Session)
            .where(Session.id == uuid.UUID(str(reuse)))
            .values(revoked_at=datetime.now(UTC))
        )
        await db.commit()
        if reuse.info is not None:
            await audit(
                request,
                _principal_of(reuse.info),
                action="auth.refresh",
                resource_type="session",
                resource_id=reuse.info.sid,
                resource_name=reuse.info.email,
                status="denied",
                error_message="refresh token reused: session revoked",
            )
        raise ProblemError(
            401,
            "This refresh token was already used; the session has been "
            "revoked for safety. Sign in again.",
        ) from reuse
    except RefreshInvalid as exc:
        await throttle.failed()
        raise ProblemError(401, "The refresh token is invalid or expired; sign in again.") from exc
    await db.execute(
        update(Session)
        .where(Session.id == uuid.UUID(info.sid))
        .values(token_hash=token_digest(new_refresh))
    )
    await db.commit()
    await audit(
        request,
        _principal_of(info),
        action="auth.refresh",
        resource_type="session",
        resource_id=info.sid,
        resource_name=info.email,
    )
    return _pair(svc, info, new_refresh)


def _principal_of(info: SessionInfo) -> Principal:
    return Principal(
        uuid.UUID(info.user_id),
        uuid.UUID(info.org_id),
        info.email,
        info.role,
        info.sid,
        frozenset(),
    )


@router.post("/logout", status_code=204)
async def logout(
    request: Request,
    principal: CurrentPrincipal,
    db: Db,
    svc: Svc,
    body: LogoutRequest | None = None,
) -> None:
    if principal.api_key_id is not None:
        raise ProblemError(
            400,
            "An API key has no session to end; revoke the key instead "
            "(DELETE /api/v1/api-keys/{id}).",
        )
    await _tokens(svc).revoke(principal.session_id)
    await db.execute(
        update(Session)
        .where(Session.id == uuid.UUID(principal.session_id))
        .values(revoked_at=datetime.now(UTC))
    )
    await db.commit()
    await audit(
        request,
        principal,
        action="auth.logout",
        resource_type="session",
        resource_id=principal.session_id,
        resource_name=principal.email,
    )


@router.get("/me", response_model=MeOut)
async def me(principal: CurrentPrincipal, db: Db) -> MeOut:
    user = await db.get(User, principal.user_id)
    org = await db.get(Organization, principal.org_id)
    if user is None or org is None:
        raise ProblemError(401, "This account no longer exists; sign in again.")
    teams = await db.execute(
        select(Team.id, Team.name, TeamMember.role)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user.id, Team.org_id == org.id)
        .order_by(Team.name)
    )
    return MeOut(
        id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=principal.role,
        permissions=sorted(principal.permissions),
        organization=OrganizationRef(id=org.id, name=org.name, slug=org.slug),
        mfa_enabled=user.mfa_enabled,
        api_key_id=principal.api_key_id,
        teams=[{"id": str(t), "name": n, "role": r} for t, n, r in teams],
    )


@dataclass(frozen=True)
class _InvitedAccount:
    """An existing account an invitation names: accepting it checks that account's password."""

    user_id: uuid.UUID
    email: str
    org_id: uuid.UUID  # the inviting organization
    invitation_id: uuid.UUID


async def _invited_account(db: Db, token: str | None) -> _InvitedAccount | None:
    if token is None:
        return None
    row = (
        await db.execute(
            select(User.id, User.email, Invitation.org_id, Invitation.id)
            .join(User, User.email == Invitation.email)
            .where(Invitation.token_hash == token_digest(token))
        )
    ).first()
    return _InvitedAccount(*row) if row else None


class _MfaRefused(tenancy.Unauthorized):
    """The invited account has MFA on and the code is missing or wrong (a wrong one counts
    towards the account's lockout, as at sign-in)."""

    def __init__(self, message: str, reason: str, counts: bool):
        super().__init__(message)
        self.reason, self.counts = reason, counts


async def _second_factor(svc: Svc, user: User, code: str | None) -> None:
    if not code:
        raise _MfaRefused(MFA_REQUIRED, "MFA code missing", counts=False)
    secret = mfa.unseal(svc.cipher, user.id, user.mfa_secret)
    if not await mfa.check_code(svc.redis, user.id, secret, code):
        raise _MfaRefused(BAD_MFA_CODE, "wrong MFA code", counts=True)


async def _invitation_refused(
    request: Request, account: _InvitedAccount, status: str, message: str
) -> None:
    """Audited in the inviting organization, as a sign-in of the account would be in its own."""
    who = Principal(account.user_id, account.org_id, account.email, "", "", frozenset())
    await audit(
        request,
        who,
        action="auth.accept_invitation",
        resource_type="invitation",
        resource_id=str(account.invitation_id),
        resource_name=account.email,
        status=status,
        error_message=message,
    )


@router.post(
    "/register",
    status_code=201,
    response_model=RegisterResult,
    responses=problem_responses(
        **{
            "400": "The invitation is unknown, used, revoked or expired",
            "401": "The invited address has an account: give its password (and its MFA "
            "code when it has MFA on)",
            "403": "Sign-up is turned off",
            "409": "Already registered or a member",
            "429": "The invited account is locked after repeated failed sign-ins, or the "
            "address is throttled: " + THROTTLED,
        }
    ),
)
async def register(body: RegisterRequest, request: Request, db: Db, svc: Svc) -> RegisterResult:
    """Sign up a new organization (its first user is its admin), or accept an invitation."""
    if body.token is None and not svc.settings.allow_signup:
        raise ProblemError(
            403,
            "Sign-up is turned off on this console; ask an organization's "
            "administrator for an invitation.",
        )
    throttle = client_throttle(request, svc)
    try:
        await throttle.before_argon2()  # the new password is hashed with argon2
    except Throttled as exc:
        raise too_many(exc) from None
    account = await _invited_account(db, body.token)
    guard = _guard(svc)
    if account is not None and (locked := await guard.locked_for(account.email)):
        await _invitation_refused(
            request, account, "denied", "account locked after repeated failed sign-ins"
        )
        raise _locked(locked)
    try:
        if body.token is None:
            user, org = await tenancy.signup(
                db,
                email=body.email,
                password=body.password,
                organization_name=body.organization_name,
                first_name=body.first_name,
                last_name=body.last_name,
            )
            member = await db.scalar(
                select(OrganizationMember).where(
                    OrganizationMember.org_id == org.id, OrganizationMember.user_id == user.id
                )
            )
            action, changes = "auth.register", {"organization": org.name}
        else:
            user, member, invitation = await tenancy.accept(
                db,
                token=body.token,
                password=body.password,
                first_name=body.first_name,
                last_name=body.last_name,
            )
            if user.mfa_enabled:  # an existing account joining: a sign-in, second factor too
                await _second_factor(svc, user, body.code)
            org = await db.get(Organization, member.org_id)
            action = "auth.accept_invitation"
            changes = {
                "invitation_id": str(invitation.id),
                "role": member.role,
                "team_id": str(invitation.team_id) if invitation.team_id else None,
            }
        await db.commit()
    except tenancy.TenancyError as exc:
        await db.rollback()
        await throttle.failed()
        reason = exc.reason if isinstance(exc, _MfaRefused) else "wrong password"
        counts = not isinstance(exc, _MfaRefused) or exc.counts
        if account is not None and isinstance(exc, tenancy.Unauthorized):
            lock = await guard.failed(account.email) if counts else 0
            await _invitation_refused(
                request, account, "failure", reason + (", account now locked" if lock else "")
            )
            if lock:
                raise _locked(lock) from None
        raise ProblemError(
            exc.status, str(exc), **({"mfa_required": True} if isinstance(exc, _MfaRefused) else {})
        ) from exc
    except IntegrityError as exc:  # the same email or invitation, a moment earlier
        await db.rollback()
        raise ProblemError(409, "This account or invitation was just registered; sign in.") from exc
    if account is not None:
        await guard.succeeded(account.email)
    pair, sid = await _start_session(request, db, svc, user, member)
    who = Principal(user.id, org.id, user.email, member.role, sid, frozenset())
    await audit(
        request,
        who,
        action=action,
        resource_type="user",
        resource_id=str(user.id),
        resource_name=user.email,
        changes={**changes, "session_id": sid},
    )
    return RegisterResult(
        **pair.model_dump(),
        user_id=user.id,
        role=member.role,
        organization=OrganizationRef(id=org.id, name=org.name, slug=org.slug),
    )
