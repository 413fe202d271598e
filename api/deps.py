"""Request dependencies: the process services, a database session, the authenticated principal,
permission checks (RBAC, with denied attempts audited) and the audit helper."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ProblemError
from api.services import Services
from core.audit import AuditEvent
from core.rbac import allows, permissions_for_role
from core.security import TokenError, decode_access_token

_bearer = HTTPBearer(auto_error=False)


def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_db(services: Annotated[Services, Depends(get_services)]) -> AsyncIterator[AsyncSession]:
    async with services.sessions() as session:
        yield session


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    org_id: uuid.UUID
    email: str
    role: str
    session_id: str
    permissions: frozenset[str]

    def can(self, needed: str) -> bool:
        return allows(self.permissions, needed)


async def current_principal(
    services: Annotated[Services, Depends(get_services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise ProblemError(401, "Sign in first: send 'Authorization: Bearer <access token>'.")
    try:
        claims = decode_access_token(services.secret_key, credentials.credentials)
    except TokenError:
        raise ProblemError(401, "The access token is invalid or expired; sign in or refresh it.")
    session = await services.redis.hgetall(f"session:{claims['sid']}")
    if not session:
        raise ProblemError(401, "This session has ended; sign in again.")
    return Principal(
        user_id=uuid.UUID(claims["sub"]), org_id=uuid.UUID(claims["org"]),
        email=session.get("email", ""), role=claims["role"], session_id=claims["sid"],
        permissions=permissions_for_role(claims["role"]),
    )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
Db = Annotated[AsyncSession, Depends(get_db)]
Svc = Annotated[Services, Depends(get_services)]


async def audit(request: Request, principal: Principal | None, *, action: str,
                resource_type: str, org_id: uuid.UUID | None = None, resource_id: str = "",
                resource_name: str = "", cluster_id: uuid.UUID | None = None,
                changes: dict[str, Any] | None = None, status: str = "success",
                error_message: str | None = None) -> None:
    """Publish one audit record of this request (stored in ClickHouse by the ingester)."""
    services: Services = request.app.state.services
    event = AuditEvent(
        org_id=org_id or principal.org_id,
        user_id=principal.user_id if principal else None,
        user_email=principal.email if principal else "",
        action=action, resource_type=resource_type, resource_id=resource_id,
        resource_name=resource_name, cluster_id=cluster_id,
        ip_address=request.client.host if request.client else "::",
        user_agent=request.headers.get("user-agent", ""),
        request_id=request.state.request_id, changes=changes or {}, status=status,
        error_message=error_message,
    )
    await services.events.publish("audit", str(event.id), event.model_dump(mode="json"))


def require(permission: str):
    """Dependency: the principal must hold ``permission`` (``resource:action``); a refusal is a
    403 and is audited as ``denied``."""

    async def _check(request: Request, principal: CurrentPrincipal) -> Principal:
        if principal.can(permission):
            return principal
        resource, action = permission.split(":")
        await audit(request, principal, action=f"{resource}.{action}", resource_type=resource,
                    resource_name=request.url.path, status="denied",
                    error_message=f"role '{principal.role}' lacks {permission}")
        raise ProblemError(403, f"Your role '{principal.role}' does not allow {action} on "
                                f"{resource}.", permission=permission)

    _check.permission = permission  # read by the RBAC matrix test
    return _check
