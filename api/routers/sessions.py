"""Sign-in sessions: a person lists their live sessions (device, address, last use; the one of
the request marked ``current``) and ends one of them; an administrator ends every session a
member of their organization has in it. An ended session's access and refresh tokens stop
working at their next request (its Redis hash is gone), and open real-time streams close at their
next heartbeat. Every revocation is audited.

Sessions belong to a person's sign-in: an API key is refused (400) here, as at logout, so a key
with narrow scopes cannot sign its owner out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from sqlalchemy import update

from api import members
from api.deps import CurrentPrincipal, Db, Principal, Svc, audit, require
from api.errors import ProblemError
from api.tenancy_schemas import SessionOut, SessionsRevoked
from core import sessions
from core.db.models import Session
from core.sessions import LiveSession
from core.tokens import TokenStore

router = APIRouter(tags=["auth"])


def _store(svc: Svc) -> TokenStore:
    return TokenStore(svc.redis, svc.settings.refresh_token_ttl_s)


def _person(principal: Principal) -> None:
    if principal.api_key_id is not None:
        raise ProblemError(
            400,
            "Sessions belong to a person's sign-in: call this with an access "
            "token from /api/v1/auth/login, not an API key.",
        )


def _out(live: LiveSession, principal: Principal) -> SessionOut:
    try:
        org_id = uuid.UUID(live.org_id)
    except ValueError:
        org_id = None
    return SessionOut(
        id=uuid.UUID(live.id),
        organization_id=org_id,
        device=live.device,
        user_agent=live.user_agent,
        ip_address=live.ip_address,
        last_ip=live.last_ip,
        created_at=live.created_at,
        last_used_at=live.last_used_at,
        expires_at=live.expires_at,
        current=live.id == principal.session_id,
    )


async def _end(db: Db, svc: Svc, sids: list[str]) -> None:
    store = _store(svc)
    for sid in sids:
        await store.revoke(sid)
    if sids:
        await db.execute(
            update(Session)
            .where(Session.id.in_([uuid.UUID(s) for s in sids]))
            .values(revoked_at=datetime.now(UTC))
        )
        await db.commit()


@router.get("/api/v1/auth/sessions", response_model=dict[str, list[SessionOut]])
async def list_sessions(principal: CurrentPrincipal, svc: Svc) -> dict[str, list[SessionOut]]:
    """Your live sessions, the most recently used first, in every organization you belong to."""
    _person(principal)
    live = await sessions.of_user(svc.redis, str(principal.user_id))
    return {"items": [_out(s, principal) for s in live]}


@router.delete("/api/v1/auth/sessions/{session_id}", status_code=204)
async def revoke_session(
    session_id: uuid.UUID, request: Request, principal: CurrentPrincipal, db: Db, svc: Svc
) -> None:
    """End one of your sessions (this one too, if you name it: that is a sign-out)."""
    _person(principal)
    mine = {s.id: s for s in await sessions.of_user(svc.redis, str(principal.user_id))}
    live = mine.get(str(session_id))
    if live is None:
        raise ProblemError(404, f"You have no live session with id {session_id}.")
    await _end(db, svc, [live.id])
    await audit(
        request,
        principal,
        action="auth.session_revoke",
        resource_type="session",
        resource_id=live.id,
        resource_name=principal.email,
        changes={
            "device": live.device,
            "ip_address": live.last_ip,
            "current": live.id == principal.session_id,
        },
    )


@router.delete("/api/v1/users/{user_id}/sessions", response_model=SessionsRevoked, tags=["users"])
async def revoke_user_sessions(
    user_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("users:update")),
) -> SessionsRevoked:
    """Sign a member out everywhere in this organization: every session they have signed in to
    it ends (their sessions in other organizations are not this organization's to end)."""
    member = await members.load_member(db, principal, user_id)
    await members.ensure_can_act_on(request, db, principal, member, "users:update")
    ended = [
        s.id
        for s in await sessions.of_user(svc.redis, str(user_id))
        if s.org_id == str(principal.org_id)
    ]
    await _end(db, svc, ended)
    await audit(
        request,
        principal,
        action="user.sessions_revoke",
        resource_type="user",
        resource_id=str(user_id),
        resource_name=member.user.email,
        changes={"sessions": len(ended), "session_ids": ended},
    )
    return SessionsRevoked(revoked=len(ended))
