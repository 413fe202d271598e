"""Approval policies of the organization (``core.policy.ApprovalPolicy``), versioned: a change adds
a version and makes it current, nothing is overwritten; a policy's ``id`` stays the same across its
versions. Admins manage them (``approval_policies:manage``); reading needs
``approval_policies:read``. New organizations start with the three policies of the source design.
Groups name roles and teams; each version stores their ids too (``role_ids``, ``team_ids``), so a
rename changes nothing, and is shown with their current names. Names are bound to ids only where
groups are given (creation, or a ``PATCH`` with ``groups``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api.deps import Db, Principal, audit, require
from api.errors import ProblemError
from core.approval_policies import bind, directory, new_version, shown
from core.db.models import ApprovalPolicyVersion as Row
from core.policy import ApprovalPolicy
from core.policy.models import stored_policy
from core.policy.refs import by_id

router = APIRouter(prefix="/api/v1/approval-policies", tags=["approval-policies"])


class PolicyOut(BaseModel):
    id: uuid.UUID  # the policy, the same for all its versions
    version_id: uuid.UUID
    name: str
    version: int
    is_current: bool
    priority: int
    enabled: bool
    definition: dict[str, Any]
    created_by: uuid.UUID | None
    created_at: datetime


def _out(row: Row, names: tuple[dict[str, str], dict[str, str]] | None = None) -> PolicyOut:
    definition = row.definition
    if names is not None:
        definition = shown(
            ApprovalPolicy.model_validate(stored_policy(definition)), names
        ).model_dump(mode="json")
    return PolicyOut(
        id=row.policy_id,
        version_id=row.id,
        name=row.name,
        version=row.version,
        is_current=row.is_current,
        priority=row.priority,
        enabled=row.enabled,
        definition=definition,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _by_name(body: dict[str, Any]) -> dict[str, Any]:
    """Groups given by a client are read by their names: ids it sends back are dropped."""
    if isinstance(body.get("groups"), list):
        body = {
            **body,
            "groups": [
                {k: v for k, v in g.items() if k not in ("role_ids", "team_ids")}
                if isinstance(g, dict)
                else g
                for g in body["groups"]
            ],
        }
    return body


async def _current(db: Db, principal: Principal, policy_id: uuid.UUID) -> Row:
    row = await db.scalar(
        select(Row).where(
            Row.org_id == principal.org_id, Row.policy_id == policy_id, Row.is_current.is_(True)
        )
    )
    if row is None:
        raise ProblemError(404, f"No approval policy with id {policy_id} in your organization.")
    return row


async def _name_taken(
    db: Db, principal: Principal, name: str, other_than: uuid.UUID | None = None
) -> None:
    query = select(Row.id).where(
        Row.org_id == principal.org_id, Row.name == name, Row.is_current.is_(True)
    )
    if other_than is not None:
        query = query.where(Row.policy_id != other_than)
    if await db.scalar(query.limit(1)) is not None:
        raise ProblemError(
            409, f"An approval policy named '{name}' already exists in your organization."
        )


async def _commit(db: Db, name: str) -> None:
    try:
        await db.commit()
    except IntegrityError as exc:
        await db.rollback()
        raise ProblemError(
            409,
            f"The approval policy '{name}' was changed at the same time, or "
            "the name is taken; read it again and retry.",
        ) from exc


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``patch`` over ``base``; objects are merged key by key, anything else is replaced."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@router.get("", response_model=dict[str, list[PolicyOut]])
async def list_policies(db: Db, principal: Principal = Depends(require("approval_policies:read"))):
    """The current version of each policy, in the order they are evaluated (priority, name)."""
    rows = await db.scalars(
        select(Row)
        .where(Row.org_id == principal.org_id, Row.is_current.is_(True))
        .order_by(Row.priority, Row.name)
    )
    names = await directory(db, principal.org_id)
    return {"items": [_out(r, names) for r in rows]}


@router.post("", status_code=201, response_model=PolicyOut)
async def create_policy(
    body: ApprovalPolicy,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("approval_policies:manage")),
):
    policy = body.model_copy(
        update={
            "version": 1,
            "groups": [
                g.model_copy(update={"role_ids": None, "team_ids": None}) for g in body.groups
            ],
        }
    )
    policy = await bind(db, principal.org_id, policy)
    await _name_taken(db, principal, policy.name)
    row = new_version(principal.org_id, policy, created_by=principal.user_id)
    db.add(row)
    await _commit(db, policy.name)
    await db.refresh(row)
    out = _out(row)
    await audit(
        request,
        principal,
        action="approval_policy.create",
        resource_type="approval_policy",
        resource_id=str(row.policy_id),
        resource_name=row.name,
        changes={"after": out.definition},
    )
    return out


@router.get("/{policy_id}", response_model=PolicyOut)
async def read_policy(
    policy_id: uuid.UUID, db: Db, principal: Principal = Depends(require("approval_policies:read"))
):
    return _out(await _current(db, principal, policy_id), await directory(db, principal.org_id))


@router.get("/{policy_id}/versions", response_model=dict[str, list[PolicyOut]])
async def list_versions(
    policy_id: uuid.UUID, db: Db, principal: Principal = Depends(require("approval_policies:read"))
):
    """Every version of the policy, newest first."""
    await _current(db, principal, policy_id)
    rows = await db.scalars(
        select(Row)
        .where(Row.org_id == principal.org_id, Row.policy_id == policy_id)
        .order_by(Row.version.desc())
    )
    names = await directory(db, principal.org_id)
    return {"items": [_out(r, names) for r in rows]}


@router.patch("/{policy_id}", response_model=PolicyOut)
async def update_policy(
    policy_id: uuid.UUID,
    request: Request,
    db: Db,
    body: dict[str, Any] = Body(...),
    principal: Principal = Depends(require("approval_policies:manage")),
):
    """Merge the fields given over the current definition; the result, if valid, becomes a new
    version (``version`` is set by the server)."""
    current = await _current(db, principal, policy_id)
    merged = _merge(current.definition, _by_name({k: v for k, v in body.items() if k != "version"}))
    policy = ApprovalPolicy.model_validate({**merged, "version": current.version + 1})
    if "groups" in body or not all(by_id(g) for g in policy.groups):
        # Only groups given now are bound by their names: an edit of anything else (an SLA, a
        # description) keeps who may approve, even where a name named nothing when it was saved
        # and a role or team has since been created or renamed to it.
        policy = await bind(db, principal.org_id, policy)
    if policy.name != current.name:
        await _name_taken(db, principal, policy.name, other_than=policy_id)
    before = current.definition
    current.is_current = False
    await db.flush()
    row = new_version(principal.org_id, policy, policy_id=policy_id, created_by=principal.user_id)
    db.add(row)
    await _commit(db, policy.name)
    await db.refresh(row)
    after = row.definition
    await audit(
        request,
        principal,
        action="approval_policy.update",
        resource_type="approval_policy",
        resource_id=str(policy_id),
        resource_name=row.name,
        changes={
            k: {"before": before.get(k), "after": after.get(k)}
            for k in after
            if before.get(k) != after.get(k)
        },
    )
    return _out(row, await directory(db, principal.org_id))


@router.delete("/{policy_id}", status_code=204)
async def delete_policy(
    policy_id: uuid.UUID,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("approval_policies:manage")),
):
    """Delete the policy with all its versions."""
    current = await _current(db, principal, policy_id)
    before = current.definition
    await db.execute(delete(Row).where(Row.org_id == principal.org_id, Row.policy_id == policy_id))
    await db.commit()
    await audit(
        request,
        principal,
        action="approval_policy.delete",
        resource_type="approval_policy",
        resource_id=str(policy_id),
        resource_name=before.get("name", ""),
        changes={"before": before},
    )
