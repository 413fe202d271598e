"""Organizations: the caller's memberships, a new organization (the caller becomes its admin),
and the current organization's details, settings (name, rate limit per user), members and
deletion. An organization other than the one signed in to is a 404."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from api import members
from api.deps import CurrentPrincipal, Db, Principal, Svc, audit, require
from api.errors import ProblemError
from api.tenancy_schemas import (
    InvitationCreated,
    InviteRequest,
    OrganizationCreate,
    OrganizationOut,
    OrganizationUpdate,
    UserOut,
)
from core import tenancy
from core.db.models import NatsCluster, Organization, OrganizationMember, User
from core.permissions import invalidate_org, org_rate_limit

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])


def _out(org: Organization, role: str | None = None) -> OrganizationOut:
    return OrganizationOut(
        id=org.id,
        name=org.name,
        slug=org.slug,
        plan=org.plan,
        role=role,
        rate_limit_per_minute=org_rate_limit(org.settings),
        created_at=org.created_at,
    )


async def _current(db: Db, principal: Principal, org_id: uuid.UUID) -> Organization:
    org = await db.get(Organization, org_id) if org_id == principal.org_id else None
    if org is None:
        raise ProblemError(404, f"No organization with id {org_id} that you are signed in to.")
    return org


@router.get("", response_model=dict[str, list[OrganizationOut]])
async def list_organizations(principal: CurrentPrincipal, db: Db):
    """Every organization the caller belongs to, with their role in it."""
    rows = await db.execute(
        select(Organization, OrganizationMember.role)
        .join(OrganizationMember, OrganizationMember.org_id == Organization.id)
        .where(OrganizationMember.user_id == principal.user_id)
        .order_by(Organization.name)
    )
    return {"items": [_out(org, role) for org, role in rows]}


@router.post("", status_code=201, response_model=OrganizationOut)
async def create_organization(
    body: OrganizationCreate, request: Request, principal: CurrentPrincipal, db: Db, svc: Svc
) -> OrganizationOut:
    """A new organization with the caller as its admin (sign in to it with ``organization_id``)."""
    if not svc.settings.allow_signup:
        raise ProblemError(403, "Creating organizations is turned off on this console.")
    if principal.api_key_id is not None:
        raise ProblemError(400, "Create organizations from a signed-in session, not an API key.")
    user = await db.get(User, principal.user_id)
    org = await tenancy.create_organization(db, body.name, user)
    await db.commit()
    await audit(
        request,
        principal,
        action="organization.create",
        resource_type="organization",
        resource_id=str(org.id),
        resource_name=org.name,
        changes={"after": {"name": org.name, "slug": org.slug}},
    )
    return _out(org, "admin")


@router.get("/{org_id}", response_model=OrganizationOut)
async def read_organization(org_id: uuid.UUID, principal: CurrentPrincipal, db: Db):
    return _out(await _current(db, principal, org_id), principal.role)


@router.patch("/{org_id}", response_model=OrganizationOut)
async def update_organization(
    org_id: uuid.UUID,
    body: OrganizationUpdate,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("organizations:update")),
):
    org = await _current(db, principal, org_id)
    before = _out(org).model_dump(mode="json")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name"):
        org.name = changes["name"].strip()
    if "rate_limit_per_minute" in changes:
        settings = dict(org.settings or {})
        settings.pop("rate_limit_per_minute", None)
        if changes["rate_limit_per_minute"]:
            settings["rate_limit_per_minute"] = changes["rate_limit_per_minute"]
        org.settings = settings
    await db.commit()
    await db.refresh(org)
    if "rate_limit_per_minute" in changes:
        await invalidate_org(svc.redis, db, org.id)
    after = _out(org, principal.role).model_dump(mode="json")
    await audit(
        request,
        principal,
        action="organization.update",
        resource_type="organization",
        resource_id=str(org.id),
        resource_name=org.name,
        changes={
            k: {"before": before[k], "after": after[k]}
            for k in ("name", "rate_limit_per_minute")
            if before[k] != after[k]
        },
    )
    return after


@router.delete("/{org_id}", status_code=204)
async def delete_organization(
    org_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("organizations:delete")),
):
    """Delete the organization with its clusters, teams, roles, keys and memberships (the
    accounts stay, in their other organizations)."""
    org = await _current(db, principal, org_id)
    await invalidate_org(svc.redis, db, org.id)
    clusters = (await db.scalars(select(NatsCluster.id).where(NatsCluster.org_id == org.id))).all()
    name = org.name
    await db.delete(org)
    await db.commit()
    for cluster_id in clusters:
        await svc.clusters.forget(str(cluster_id))
    await audit(
        request,
        principal,
        action="organization.delete",
        resource_type="organization",
        resource_id=str(org_id),
        resource_name=name,
    )


@router.get("/{org_id}/members", response_model=dict[str, list[UserOut]])
async def list_members(
    org_id: uuid.UUID, db: Db, principal: Principal = Depends(require("users:read"))
):
    await _current(db, principal, org_id)
    rows = await db.scalars(
        select(OrganizationMember)
        .where(OrganizationMember.org_id == org_id)
        .order_by(OrganizationMember.joined_at)
    )
    return {"items": [await members.user_out(db, m) for m in rows]}


@router.post("/{org_id}/members", status_code=201, response_model=InvitationCreated)
async def add_member(
    org_id: uuid.UUID,
    body: InviteRequest,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("users:create")),
):
    """Members join by invitation (they set their password, or prove it): the same as
    ``POST /users/invite``."""
    await _current(db, principal, org_id)
    return await members.invite(request, db, svc, principal, body)


@router.delete("/{org_id}/members/{user_id}", status_code=204)
async def remove_member(
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("users:delete")),
):
    await _current(db, principal, org_id)
    await members.remove(request, db, svc, principal, user_id)
