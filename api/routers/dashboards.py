"""Dashboards: a user's saved list of metric queries (``AnalyticsQuery``, one per widget), private
to its owner unless shared with the organization; anyone who can see one can clone it into a
dashboard of their own. Editing or deleting another's dashboard needs ``dashboards:*`` with scope
``*`` (admins); everyone else acts on their own only."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from api.analytics_schemas import AnalyticsQuery
from api.deps import Db, Principal, audit, require
from api.errors import ProblemError, problem_responses
from core.db.models import Dashboard
from core.labels import Label

router = APIRouter(prefix="/api/v1/dashboards", tags=["dashboards"])
ERRORS = problem_responses(
    **{
        "401": "Not signed in",
        "403": "The role may not do this to dashboards",
        "404": "No such dashboard visible to you",
        "422": "A field names what to change",
        "429": "Too many requests",
        "503": "A backing service is unavailable",
    }
)
MAX_WIDGETS = 50


class Widget(BaseModel):
    title: Label = Field(min_length=1, max_length=200)
    query: AnalyticsQuery
    chart: str = Field("line", pattern=r"^(line|area|bar|number|table)$")


class DashboardIn(BaseModel):
    name: Label = Field(min_length=1, max_length=255)
    widgets: list[Widget] = Field(default_factory=list, max_length=MAX_WIDGETS)
    shared: bool = Field(False, description="visible (read and clone) to the whole organization")


class DashboardPatch(BaseModel):
    name: Label | None = Field(None, min_length=1, max_length=255)
    widgets: list[Widget] | None = Field(None, max_length=MAX_WIDGETS)
    shared: bool | None = None


class DashboardOut(BaseModel):
    id: uuid.UUID
    name: str
    owner_id: uuid.UUID
    shared: bool
    widgets: list[Widget]
    created_at: datetime
    updated_at: datetime


class CloneIn(BaseModel):
    name: Label | None = Field(None, min_length=1, max_length=255)


def _out(row: Dashboard) -> DashboardOut:
    return DashboardOut(
        id=row.id,
        name=row.name,
        owner_id=row.user_id,
        shared=row.is_shared,
        widgets=row.widgets or [],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _visible(
    db: Db, principal: Principal, dashboard_id: uuid.UUID, action: str = "read"
) -> Dashboard:
    row = await db.scalar(
        select(Dashboard).where(Dashboard.id == dashboard_id, Dashboard.org_id == principal.org_id)
    )
    mine = row is not None and row.user_id == principal.user_id
    everyone = "*" in principal.scopes(f"dashboards:{action}")
    if row is None or not (mine or everyone or (action == "read" and row.is_shared)):
        raise ProblemError(404, f"No dashboard with id {dashboard_id} visible to you.")
    return row


@router.get("", responses=ERRORS)
async def list_dashboards(
    db: Db, principal: Principal = Depends(require("dashboards:read", scope="own"))
) -> dict:
    query = select(Dashboard).where(Dashboard.org_id == principal.org_id)
    if "*" not in principal.scopes("dashboards:read"):
        query = query.where(or_(Dashboard.user_id == principal.user_id, Dashboard.is_shared))
    rows = (await db.scalars(query.order_by(Dashboard.name))).all()
    return {"items": [_out(r) for r in rows]}


@router.post("", status_code=201, response_model=DashboardOut, responses=ERRORS)
async def create_dashboard(
    body: DashboardIn,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("dashboards:create", scope="own")),
):
    row = Dashboard(
        org_id=principal.org_id,
        user_id=principal.user_id,
        name=body.name,
        widgets=[w.model_dump(mode="json") for w in body.widgets],
        is_shared=body.shared,
        layout={},
    )
    db.add(row)
    await db.flush()
    await audit(
        request,
        principal,
        action="dashboard.create",
        resource_type="dashboard",
        resource_id=str(row.id),
        resource_name=row.name,
        changes={"after": {"name": row.name, "widgets": len(body.widgets), "shared": body.shared}},
        db=db,
    )
    await db.refresh(row)
    return _out(row)


@router.get("/{dashboard_id}", response_model=DashboardOut)
async def read_dashboard(
    dashboard_id: uuid.UUID,
    db: Db,
    principal: Principal = Depends(require("dashboards:read", scope="own")),
):
    return _out(await _visible(db, principal, dashboard_id))


@router.patch("/{dashboard_id}", response_model=DashboardOut)
async def update_dashboard(
    dashboard_id: uuid.UUID,
    body: DashboardPatch,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("dashboards:update", scope="own")),
):
    row = await _visible(db, principal, dashboard_id, "update")
    changes = {}
    if body.name is not None and body.name != row.name:
        changes["name"] = {"before": row.name, "after": body.name}
        row.name = body.name
    if body.widgets is not None:
        changes["widgets"] = {"before": len(row.widgets or []), "after": len(body.widgets)}
        row.widgets = [w.model_dump(mode="json") for w in body.widgets]
    if body.shared is not None and body.shared != row.is_shared:
        changes["shared"] = {"before": row.is_shared, "after": body.shared}
        row.is_shared = body.shared
    await audit(
        request,
        principal,
        action="dashboard.update",
        resource_type="dashboard",
        resource_id=str(row.id),
        resource_name=row.name,
        changes=changes,
        db=db,
    )
    await db.refresh(row)
    return _out(row)


@router.delete("/{dashboard_id}", status_code=204)
async def delete_dashboard(
    dashboard_id: uuid.UUID,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("dashboards:delete", scope="own")),
) -> Response:
    row = await _visible(db, principal, dashboard_id, "delete")
    await db.delete(row)
    await audit(
        request,
        principal,
        action="dashboard.delete",
        resource_type="dashboard",
        resource_id=str(row.id),
        resource_name=row.name,
        db=db,
    )
    return Response(status_code=204)


@router.post("/{dashboard_id}/clone", status_code=201, response_model=DashboardOut)
async def clone_dashboard(
    dashboard_id: uuid.UUID,
    body: CloneIn,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("dashboards:create", scope="own")),
):
    """A private copy, owned by the caller, of a dashboard the caller can see."""
    source = await _visible(db, principal, dashboard_id)
    row = Dashboard(
        org_id=principal.org_id,
        user_id=principal.user_id,
        name=body.name or f"{source.name} (copy)",
        widgets=list(source.widgets or []),
        is_shared=False,
        layout=dict(source.layout or {}),
    )
    db.add(row)
    await db.flush()
    await audit(
        request,
        principal,
        action="dashboard.clone",
        resource_type="dashboard",
        resource_id=str(row.id),
        resource_name=row.name,
        changes={"source": str(source.id)},
        db=db,
    )
    await db.refresh(row)
    return _out(row)
