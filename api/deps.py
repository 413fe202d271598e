"""Request dependencies: the process services, a database session, the authenticated principal,
permission checks (RBAC, with denied attempts audited) and the audit helper.

Every authenticated route depends on ``current_principal`` (directly or through ``require``):

- It accepts an access token (``Authorization: Bearer <jwt>``, whose session must be live in
  Redis) or an API key (``Authorization: Bearer jsc_...`` or ``X-API-Key``). The member's role and
  permissions come from ``core.permissions`` (Redis cache over PostgreSQL), so a role change or a
  removal applies at the next request; an API key holds its scopes within its owner's role.
- It counts the request against the rate limit of the user or key (``429`` + ``Retry-After``); a
  key's limit never exceeds its organization's. An API key not in the cache is checked only
  after the client's address passes its throttle (``core.credential_checks``).
- It is the audit guard of a mutating request (POST/PUT/PATCH/DELETE): a request that ends without
  the handler having written an audit event (an error, a validation failure, a handler that has
  none) gets exactly one, with its outcome. Handlers write their own success event with ``audit``.

``require("resource:action")`` declares a route's permission. It appears in the OpenAPI schema as
the security scope ``resource:action:scope`` of the route, which the RBAC matrix test reads for
every route. ``require_stream`` is the team-namespace-aware variant for stream and consumer routes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.params import Security
from fastapi.responses import StreamingResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException

from api.errors import ProblemError
from api.outbox_delivery import deliver_now, owe_audit
from api.services import Services
from core import api_keys, namespaces, ratelimit, sessions
from core.audit import AuditEvent
from core.credential_checks import IpThrottle, Throttled
from core.db.models import NatsCluster
from core.permissions import load_access
from core.rbac import allows, granted_scopes, intersect
from core.security import TokenError, decode_access_token

log = logging.getLogger(__name__)
_bearer = HTTPBearer(
    auto_error=False, description="an access token from /auth/login, or an API key"
)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key (jsc_...)")
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_db(
    services: Annotated[Services, Depends(get_services)],
) -> AsyncIterator[AsyncSession]:
    async with services.sessions() as session:
        yield session


async def streamed(db: AsyncSession, content: Any, **response: Any) -> StreamingResponse:
    """A response that streams ``content`` once the request's database connection is back in
    the pool: a session's exit runs only after its response is sent, so a watch or an export
    open for an hour would otherwise hold a connection for an hour (and a few dozen of them
    would starve every other request). Everything the route needed from the database is read
    by then; audit records use sessions of their own."""
    await db.close()
    return StreamingResponse(content, **response)


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    org_id: uuid.UUID
    email: str
    role: str
    session_id: str
    permissions: frozenset[str]
    api_key_id: uuid.UUID | None = None  # set when the request came with an API key

    def can(self, needed: str, scope: str = "*") -> bool:
        return allows(self.permissions, needed, scope)

    def scopes(self, needed: str) -> set[str]:
        """The scopes in which ``needed`` (``resource:action``) is granted."""
        return granted_scopes(self.permissions, needed)


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, detail)


def too_many(exc: Throttled) -> HTTPException:
    """The 429 of a credential check refused before argon2 (``core.credential_checks``)."""
    return HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after_s)})


def client_throttle(request: Request, services: Services) -> IpThrottle:
    return IpThrottle.of(
        services.redis, services.settings, request.client.host if request.client else None
    )


def effective_key_limit(settings: Any, key_limit: int | None, org_limit: int | None) -> int:
    """Requests a minute of an API key: its own limit (or the console's key default), never more
    than its organization's limit (or the console's per-user default)."""
    return min(
        key_limit or settings.api_key_rate_limit_per_minute,
        org_limit or settings.rate_limit_per_minute,
    )


async def _from_key(request: Request, services: Services, key: str) -> tuple[Principal, str, int]:
    try:
        identity = await api_keys.authenticate(
            services.redis, services.sessions, key, client_throttle(request, services)
        )
    except Throttled as exc:
        raise too_many(exc) from None
    if identity is None:
        raise _unauthorized("The API key is invalid or revoked.")
    if identity.expired:
        raise _unauthorized("The API key has expired; rotate it or create another.")
    access = await load_access(
        services.redis,
        services.sessions,
        identity.user_id,
        identity.org_id,
        services.settings.permissions_cache_ttl_s,
    )
    if access is None or access.status != "active":
        raise _unauthorized(
            "The API key's owner is no longer an active member of its organization."
        )
    await api_keys.mark_used(services.redis, services.sessions, identity)
    principal = Principal(
        identity.user_id,
        identity.org_id,
        access.email,
        access.role,
        "",
        intersect(access.permissions, identity.scopes),
        api_key_id=identity.id,
    )
    return (
        principal,
        str(identity.id),
        effective_key_limit(services.settings, identity.rate_limit, access.rate_limit),
    )


async def _from_token(services: Services, token: str, ip: str = "") -> tuple[Principal, str, int]:
    try:
        claims = decode_access_token(services.secret_key, token)
    except TokenError as exc:
        raise _unauthorized(
            "The access token is invalid or expired; sign in or refresh it."
        ) from exc
    session = await services.redis.hgetall(f"session:{claims['sid']}")
    if not session:
        raise _unauthorized("This session has ended; sign in again.")
    await sessions.touch(services.redis, claims["sid"], session, ip)
    user_id, org_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["org"])
    access = await load_access(
        services.redis,
        services.sessions,
        user_id,
        org_id,
        services.settings.permissions_cache_ttl_s,
    )
    if access is None:
        raise _unauthorized("You are no longer a member of this organization; sign in again.")
    if access.status != "active":
        raise _unauthorized("This account is disabled; ask an administrator.")
    principal = Principal(
        user_id,
        org_id,
        access.email or session.get("email", ""),
        access.role,
        claims["sid"],
        access.permissions,
    )
    return principal, str(user_id), access.rate_limit or services.settings.rate_limit_per_minute


async def current_principal(
    request: Request,
    response: Response,
    services: Annotated[Services, Depends(get_services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_api_key: Annotated[str | None, Depends(_api_key)],
) -> AsyncIterator[Principal]:
    known = getattr(request.state, "principal", None)
    if known is not None:  # resolved already by another dependency of this request
        yield known
        return
    token = credentials.credentials if credentials else None
    if x_api_key or api_keys.looks_like_key(token):
        principal, identity, limit = await _from_key(request, services, x_api_key or token)
    elif token:
        principal, identity, limit = await _from_token(
            services, token, request.client.host if request.client else ""
        )
    else:
        raise _unauthorized(
            "Sign in first: send 'Authorization: Bearer <access token>' or an "
            "API key in 'X-API-Key'."
        )
    state = await ratelimit.hit(services.redis, identity, "api", limit)
    if not state.allowed:
        raise HTTPException(
            429,
            f"Too many requests: the limit is {limit} a minute; retry in {state.reset_s} s.",
            headers={"Retry-After": str(state.reset_s)},
        )
    response.headers["X-RateLimit-Limit"] = str(limit)
    response.headers["X-RateLimit-Remaining"] = str(state.remaining)
    request.state.principal = principal
    try:
        yield principal
    except Exception as exc:
        await _audit_outcome(request, principal, exc)
        raise
    await _audit_outcome(request, principal, None)


def _problem_of(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, ProblemError):
        return exc.status, exc.detail
    if isinstance(exc, HTTPException):
        return exc.status_code, str(exc.detail)
    if isinstance(exc, RequestValidationError):
        return 422, "invalid input"
    return 500, str(exc) or type(exc).__name__


async def _audit_outcome(request: Request, principal: Principal, exc: BaseException | None) -> None:
    """The one audit event of a mutating request whose handler wrote none."""
    if request.method not in MUTATING or getattr(request.state, "audit_count", 0):
        return
    route = request.scope.get("route")
    needed = _route_permission(route)
    action = (
        needed.replace(":", ".") if needed else f"{request.method} {getattr(route, 'path', '')}"
    )
    resource = needed.split(":")[0] if needed else "request"
    if exc is None:
        log.warning(
            "%s %s wrote no audit event; recording a generic one", request.method, request.url.path
        )
        await audit(
            request,
            principal,
            action=action,
            resource_type=resource,
            resource_name=request.url.path,
        )
        return
    status, detail = _problem_of(exc)
    try:
        await audit(
            request,
            principal,
            action=action,
            resource_type=resource,
            resource_name=request.url.path,
            status="failure",
            error_message=f"{status}: {detail}"[:2000],
        )
    except Exception:  # the original error matters more than its audit record
        log.exception("could not audit the failure of %s %s", request.method, request.url.path)


def _route_permission(route: Any) -> str | None:
    for dep in getattr(getattr(route, "dependant", None), "dependencies", ()):
        permission = getattr(dep.call, "permission", None)
        if permission:
            return permission
    return None


CurrentPrincipal = Annotated[Principal, Security(dependency=current_principal, scope="function")]
Db = Annotated[AsyncSession, Depends(get_db)]
Svc = Annotated[Services, Depends(get_services)]


async def audit(
    request: Request,
    principal: Principal | None,
    *,
    action: str,
    resource_type: str,
    org_id: uuid.UUID | None = None,
    resource_id: str = "",
    resource_name: str = "",
    cluster_id: uuid.UUID | None = None,
    changes: dict[str, Any] | None = None,
    status: str = "success",
    error_message: str | None = None,
    db: AsyncSession | None = None,
    actor: str = "",
) -> None:
    """Record one audit event of this request (stored in ClickHouse by the ingester) through the
    outbox: with ``db``, in that session's transaction, committed here together with the change
    the handler added to it; then published at once, or by the outbox drainer if the event stream
    is down (the change and its audit stand or fall together; the caller is never told to retry).
    ``actor`` names who acted when no one signed in (a webhook's sender)."""
    services: Services = request.app.state.services
    event = AuditEvent(
        org_id=org_id or principal.org_id,
        user_id=principal.user_id if principal else None,
        user_email=principal.email if principal else actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        resource_name=resource_name,
        cluster_id=cluster_id,
        ip_address=request.client.host if request.client else "::",
        user_agent=request.headers.get("user-agent", ""),
        request_id=request.state.request_id,
        changes=changes or {},
        status=status,
        error_message=error_message,
    )
    if principal is not None and principal.api_key_id is not None:
        event.changes = {**event.changes, "api_key_id": str(principal.api_key_id)}
    if db is not None:
        entry = owe_audit(db, event.id, event.model_dump(mode="json"))
        await db.commit()
    else:
        async with services.sessions() as own, own.begin():
            entry = owe_audit(own, event.id, event.model_dump(mode="json"))
    request.state.audit_count = getattr(request.state, "audit_count", 0) + 1
    await deliver_now(services, entry)


async def deny(request: Request, principal: Principal, permission: str, detail: str) -> None:
    """Audit a refusal and answer 403."""
    resource, action = permission.split(":")[:2]
    await audit(
        request,
        principal,
        action=f"{resource}.{action}",
        resource_type=resource,
        resource_name=request.url.path,
        status="denied",
        error_message=detail,
    )
    raise ProblemError(403, detail, permission=permission)


def _not_allowed(principal: Principal, permission: str) -> str:
    resource, action = permission.split(":")[:2]
    if principal.api_key_id is not None:
        return (
            f"This API key's scopes (within your role '{principal.role}') do not allow "
            f"{action} on {resource}."
        )
    return f"Your role '{principal.role}' does not allow {action} on {resource}."


def _guarded(permission: str, scope: str):
    return Security(
        dependency=current_principal, scopes=[f"{permission}:{scope}"], scope="function"
    )


def require(permission: str, *, scope: str = "*"):
    """Dependency: the principal must hold ``permission`` (``resource:action``) with scope ``*``,
    or, for a route that narrows to what the caller owns, with ``scope="own"``. A refusal is a 403
    and is audited as ``denied``."""

    async def _check(
        request: Request, principal: Principal = _guarded(permission, scope)
    ) -> Principal:
        granted = principal.scopes(permission)
        if "*" in granted or scope in granted:
            return principal
        await deny(request, principal, permission, _not_allowed(principal, permission))
        return principal  # not reached

    _check.permission = permission  # read by the audit guard and the RBAC matrix test
    _check.scope = scope
    return _check


def _team_like(scopes: set[str]) -> bool:
    return any(s == "*" or s == "team" or s.startswith(("team:", "cluster:")) for s in scopes)


def require_stream(permission: str):
    """Like ``require``, for routes on a stream (``{stream}``, else ``{name}``, in the path) or on a
    cluster's streams: a permission granted with scope ``team`` (``team:{id}``, ``cluster:{id}``)
    passes for streams inside the caller's team namespaces only. Routes without a stream in the path
    (list, create) narrow with ``authorize_stream`` / ``stream_prefixes`` themselves."""

    async def _check(
        request: Request, principal: Principal = _guarded(permission, "team")
    ) -> Principal:
        granted = principal.scopes(permission)
        if not _team_like(granted):
            await deny(request, principal, permission, _not_allowed(principal, permission))
        stream = request.path_params.get("stream") or request.path_params.get("name")
        if "*" not in granted and stream is not None:
            await authorize_stream(
                request, principal, permission, request.path_params.get("cluster_id"), stream
            )
        return principal

    _check.permission = permission
    _check.scope = "team"
    return _check


async def stream_prefixes(
    request: Request, principal: Principal, permission: str, cluster_id: uuid.UUID | str | None
) -> list[str] | None:
    """The stream-name prefixes the principal may act on in the cluster (None: all of them)."""
    granted = principal.scopes(permission)
    if "*" in granted:
        return None
    try:
        cid = uuid.UUID(str(cluster_id))
    except ValueError:
        return []  # the route's own validation answers 422
    async with get_services(request).sessions() as db:
        return await namespaces.prefixes_in_scope(
            db, org_id=principal.org_id, user_id=principal.user_id, scopes=granted, cluster_id=cid
        )


async def authorize_stream(
    request: Request,
    principal: Principal,
    permission: str,
    cluster_id: uuid.UUID | str | None,
    stream: str,
) -> None:
    """403 (audited) unless the principal may act on ``stream`` of the cluster; 404 first when the
    cluster is not one of the organization's, so that nothing of another tenant is confirmed."""
    prefixes = await stream_prefixes(request, principal, permission, cluster_id)
    if namespaces.covers(prefixes, stream):
        return
    try:
        cid = uuid.UUID(str(cluster_id))
    except ValueError:
        return
    async with get_services(request).sessions() as db:
        cluster = await db.get(NatsCluster, cid)
    if cluster is None or cluster.org_id != principal.org_id:
        raise ProblemError(404, f"No cluster with id {cid} in your organization.")
    resource, action = permission.split(":")
    owned = ", ".join(f"'{p}'" for p in prefixes or ()) or "none"
    await deny(
        request,
        principal,
        permission,
        f"The stream '{stream}' is outside your teams' namespaces on this cluster "
        f"(prefixes: {owned}); your role '{principal.role}' allows {action} on {resource} "
        "there only.",
    )
