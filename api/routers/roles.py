"""Roles: the built-in ones (read-only) and the organization's custom roles, each a set of
``resource:action:scope`` permissions; and ``/permissions``, what a permission may name. A change
to a custom role applies to its members at their next request (their cached permissions are
dropped). Nobody creates or changes a role to grant more than they hold, nor changes a role that
already does (it would act on its stronger members)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError
from api.members import ensure_can_change_role, ensure_grantable
from api.tenancy_schemas import RoleCreate, RoleOut, RoleUpdate
from core.db.models import Invitation, OrganizationMember, Permission, Role
from core.permissions import invalidate_org, role_permissions
from core.rbac import ACTIONS, BUILTIN_ROLES, DESIGN_ROLES, RESOURCES, SCOPES

router = APIRouter(prefix="/api/v1", tags=["roles"])


async def _out(db: Db, org_id: uuid.UUID, role: Role) -> RoleOut:
    members = await db.scalar(
        select(func.count())
        .select_from(OrganizationMember)
        .where(OrganizationMember.org_id == org_id, OrganizationMember.role == role.name)
    )
    permissions = await role_permissions(db, org_id, role.name)
    return RoleOut(
        id=role.id,
        name=role.name,
        description=role.description,
        is_system=role.is_system,
        permissions=sorted(permissions),
        members=members,
    )


async def _role(db: Db, principal: Principal, role_id: uuid.UUID) -> Role:
    role = await db.scalar(
        select(Role).where(
            Role.id == role_id, or_(Role.org_id == principal.org_id, Role.org_id.is_(None))
        )
    )
    if role is None:
        raise ProblemError(404, f"No role with id {role_id} in your organization.")
    return role


def _custom(role: Role) -> None:
    if role.is_system or role.org_id is None:
        raise ProblemError(
            409,
            f"'{role.name}' is a built-in role and cannot be changed; create "
            "a custom role instead.",
        )


def _set_permissions(db: Db, role: Role, permissions: list[str]) -> None:
    for perm in permissions:
        resource, action, scope = perm.split(":", 2)
        db.add(
            Permission(
                role_id=role.id, resource=resource, action=action, conditions={"scope": scope}
            )
        )


async def _commit(db: Db, name: str) -> None:
    try:
        await db.commit()
    except IntegrityError as exc:
        await db.rollback()
        raise ProblemError(
            409, f"A role named '{name}' already exists in your organization."
        ) from exc


def _check_name(name: str) -> None:
    if name in BUILTIN_ROLES:
        raise ProblemError(409, f"'{name}' is the name of a built-in role; choose another.")


@router.get("/permissions")
async def list_permissions(principal: Principal = Depends(require("roles:read"))) -> dict:
    """What a permission ``resource:action:scope`` may name (each part may also be ``*``)."""
    return {
        "resources": list(RESOURCES),
        "actions": list(ACTIONS),
        "scopes": list(SCOPES),
        "builtin_roles": {name: sorted(perms) for name, perms in BUILTIN_ROLES.items()},
        "design_roles": list(DESIGN_ROLES),
    }


@router.get("/roles", response_model=dict[str, list[RoleOut]])
async def list_roles(db: Db, principal: Principal = Depends(require("roles:read"))):
    rows = await db.scalars(
        select(Role)
        .where(or_(Role.org_id == principal.org_id, Role.org_id.is_(None)))
        .order_by(Role.is_system.desc(), Role.name)
    )
    return {"items": [await _out(db, principal.org_id, r) for r in rows]}


@router.post("/roles", status_code=201, response_model=RoleOut)
async def create_role(
    body: RoleCreate,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("roles:create")),
) -> RoleOut:
    _check_name(body.name)
    ensure_grantable(principal, set(body.permissions), f"the role '{body.name}'")
    role = Role(
        org_id=principal.org_id, name=body.name, description=body.description, is_system=False
    )
    db.add(role)
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise ProblemError(
            409, f"A role named '{body.name}' already exists in your organization."
        ) from exc
    _set_permissions(db, role, body.permissions)
    await _commit(db, body.name)
    out = await _out(db, principal.org_id, role)
    await audit(
        request,
        principal,
        action="role.create",
        resource_type="role",
        resource_id=str(role.id),
        resource_name=role.name,
        changes={"after": out.model_dump(mode="json")},
    )
    return out


@router.get("/roles/{role_id}", response_model=RoleOut)
async def read_role(
    role_id: uuid.UUID, db: Db, principal: Principal = Depends(require("roles:read"))
) -> RoleOut:
    return await _out(db, principal.org_id, await _role(db, principal, role_id))


@router.patch("/roles/{role_id}", response_model=RoleOut)
async def update_role(
    role_id: uuid.UUID,
    body: RoleUpdate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("roles:update")),
) -> RoleOut:
    role = await _role(db, principal, role_id)
    _custom(role)
    before = await _out(db, principal.org_id, role)
    await ensure_can_change_role(request, principal, set(before.permissions), role.name)
    if body.name is not None and body.name != role.name:
        _check_name(body.name)
        for model in (OrganizationMember, Invitation):  # members keep their role under its new name
            await db.execute(
                update(model)
                .where(model.org_id == principal.org_id, model.role == role.name)
                .values(role=body.name)
            )
        role.name = body.name
    if body.description is not None:
        role.description = body.description
    if body.permissions is not None:
        ensure_grantable(principal, set(body.permissions), f"the role '{role.name}'")
        await db.execute(delete(Permission).where(Permission.role_id == role.id))
        _set_permissions(db, role, body.permissions)
    await _commit(db, role.name)
    await invalidate_org(svc.redis, db, principal.org_id, role.name)
    after = await _out(db, principal.org_id, role)
    b, a = before.model_dump(mode="json"), after.model_dump(mode="json")
    await audit(
        request,
        principal,
        action="role.update",
        resource_type="role",
        resource_id=str(role.id),
        resource_name=role.name,
        changes={
            k: {"before": b[k], "after": a[k]}
            for k in ("name", "description", "permissions")
            if b[k] != a[k]
        },
    )
    return after


@router.delete("/roles/{role_id}", status_code=204)
async def delete_role(
    role_id: uuid.UUID,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("roles:delete")),
) -> None:
    role = await _role(db, principal, role_id)
    _custom(role)
    before = await _out(db, principal.org_id, role)
    if before.members:
        raise ProblemError(
            409,
            f"{before.members} member(s) still have the role '{role.name}'; "
            "give them another role first.",
        )
    await db.delete(role)
    await db.commit()
    await audit(
        request,
        principal,
        action="role.delete",
        resource_type="role",
        resource_id=str(role_id),
        resource_name=role.name,
        changes={"before": before.model_dump(mode="json")},
    )
