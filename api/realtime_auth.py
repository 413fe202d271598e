"""Who is at the other end of a real-time connection (SSE or WebSocket).

A browser's ``EventSource`` cannot send headers, so the real-time endpoints also accept a
*realtime token* in the query (``?token=``) or in the WebSocket's auth message: a JWT of its own
type (``typ: realtime``) that lives ``settings.realtime_token_ttl_s`` (5 min), carries read
permissions only, and stays tied to what it was issued from: the session (``sid``: a signed-out
session's realtime tokens stop working) or the API key (``kid``: a revoked or expired key's too).
Every other route decodes access tokens only (``typ: access``), so it refuses a realtime token.

The real-time endpoints accept the ordinary credentials too (an access token or an API key).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt

from api import deps
from api.deps import Principal
from api.errors import ProblemError
from api.services import Services
from core import api_keys, ratelimit
from core.db.models import ApiKey
from core.permissions import load_access
from core.rbac import intersect

TYPE = "realtime"
READ_ONLY = frozenset({"*:read:*"})


def issue(services: Services, principal: Principal) -> tuple[str, int]:
    """A realtime token of the principal and its expiry (unix time)."""
    now = int(time.time())
    expires = now + services.settings.realtime_token_ttl_s
    claims: dict[str, Any] = {
        "sub": str(principal.user_id),
        "org": str(principal.org_id),
        "iat": now,
        "exp": expires,
        "typ": TYPE,
        "jti": uuid.uuid4().hex,
    }
    if principal.api_key_id is not None:
        claims["kid"] = str(principal.api_key_id)
    else:
        claims["sid"] = principal.session_id
    return jwt.encode(claims, services.secret_key, algorithm="HS256"), expires


def _claims(services: Services, token: str) -> dict[str, Any] | None:
    """The claims of a realtime token; None when ``token`` is a JWT of another type."""
    try:
        claims = jwt.decode(
            token,
            services.secret_key,
            algorithms=["HS256"],
            options={"require": ["exp", "sub", "org"]},
        )
    except jwt.ExpiredSignatureError:
        raise ProblemError(
            401, "The realtime token has expired; ask POST /api/v1/stream/token for a new one."
        ) from None
    except jwt.PyJWTError:
        return None
    return claims if claims.get("typ") == TYPE else None


async def _key_permissions(services: Services, key_id: str) -> frozenset[str]:
    async with services.sessions() as db:
        row = await db.get(ApiKey, uuid.UUID(key_id))
    if row is None or row.revoked_at is not None:
        raise ProblemError(401, "The API key this realtime token came from is revoked.")
    if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
        raise ProblemError(401, "The API key this realtime token came from has expired.")
    return frozenset(row.permissions or ())


async def _from_realtime(services: Services, claims: dict[str, Any]) -> Principal:
    user_id, org_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["org"])
    key_scopes = None
    if claims.get("kid"):
        key_scopes = await _key_permissions(services, claims["kid"])
    elif not claims.get("sid") or not await services.redis.exists(f"session:{claims['sid']}"):
        raise ProblemError(
            401, "The session this realtime token came from has ended; sign in again."
        )
    access = await load_access(
        services.redis,
        services.sessions,
        user_id,
        org_id,
        services.settings.permissions_cache_ttl_s,
    )
    if access is None or access.status != "active":
        raise ProblemError(401, "You are no longer an active member of this organization.")
    permissions = intersect(access.permissions, READ_ONLY)
    if key_scopes is not None:
        permissions = intersect(permissions, key_scopes)
    return Principal(
        user_id,
        org_id,
        access.email,
        access.role,
        claims.get("sid", ""),
        permissions,
        api_key_id=uuid.UUID(claims["kid"]) if claims.get("kid") else None,
    )


async def still_signed_in(services: Services, principal: Principal) -> bool:
    """Whether the credential a connection opened with still holds (checked at every heartbeat,
    so an open stream ends when its session is signed out or its API key revoked)."""
    try:
        if principal.api_key_id is not None:
            await _key_permissions(services, str(principal.api_key_id))
            return True
        return bool(await services.redis.exists(f"session:{principal.session_id}"))
    except ProblemError:
        return False
    except Exception:  # noqa: BLE001 - Redis or Postgres unreachable: do not cut everyone off
        return True


async def resolve(
    conn: Any, services: Services, token: str | None, *, in_query: bool = False
) -> Principal:
    """The principal of a real-time connection (``conn``: the Request or the WebSocket) from a
    realtime token, an access token or an API key; a ``ProblemError`` 401/429 otherwise. The
    connection counts once against the caller's rate limit. A credential in the URL
    (``in_query``) may only be a realtime token: URLs end up in logs and browser histories, and an
    access token or API key must not."""
    if not token:
        raise ProblemError(
            401,
            "Sign in first: send a realtime token (?token=, from POST "
            "/api/v1/stream/token), an access token or an API key.",
        )
    if in_query and (api_keys.looks_like_key(token) or _claims(services, token) is None):
        raise ProblemError(
            401,
            "Only a realtime token (POST /api/v1/stream/token) may go in the "
            "URL; send an access token or API key in a header.",
        )
    if api_keys.looks_like_key(token):
        principal, identity, limit = await deps._from_key(conn, services, token)
    else:
        claims = _claims(services, token)
        if claims is not None:
            principal = await _from_realtime(services, claims)
            identity = str(principal.api_key_id or principal.user_id)
            limit = services.settings.rate_limit_per_minute
        else:
            principal, identity, limit = await deps._from_token(
                services, token, conn.client.host if conn.client else ""
            )
    state = await ratelimit.hit(services.redis, identity, "api", limit)
    if not state.allowed:
        raise ProblemError(
            429,
            f"Too many requests: the limit is {limit} a minute; retry in {state.reset_s} s.",
            headers={"Retry-After": str(state.reset_s)},
        )
    return principal
