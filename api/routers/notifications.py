"""The caller's in-app notifications (``core.notify.inbox``): change-request events that concern
them, of the organization they are signed in to, newest first; and marking them all read. Every
member may read their own (``operations:read``, which every built-in role holds)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from api.deps import Principal, Svc, audit, require
from core.notify import inbox

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


class NotificationOut(BaseModel):
    id: str
    type: str
    event: str
    request_id: str
    title: str
    actor_email: str = ""
    comment: str = ""
    target: str | None = None
    created_at: str
    read: bool
    severity: str | None = None  # alerts: the rule's severity
    links: dict[str, str] = {}  # alerts: where to look next (stream, consumer, chart)


class NotificationList(BaseModel):
    items: list[NotificationOut]
    unread: int
    read_at: str | None = None  # when the caller last marked them read


class MarkedRead(BaseModel):
    marked: int  # how many were unread
    unread: int
    read_at: str | None


@router.get("", response_model=NotificationList)
async def list_notifications(
    svc: Svc,
    principal: Principal = Depends(require("operations:read")),
    limit: Annotated[int, Query(ge=1, le=inbox.KEEP, description="at most this many")] = 50,
    unread_only: Annotated[bool, Query(description="only those not marked read")] = False,
):
    return await inbox.read(
        svc.redis, principal.user_id, principal.org_id, limit=limit, unread_only=unread_only
    )


@router.post("/read", response_model=MarkedRead)
async def mark_all_read(
    request: Request, svc: Svc, principal: Principal = Depends(require("operations:read"))
):
    marked = await inbox.mark_read(svc.redis, principal.user_id, principal.org_id)
    await audit(
        request,
        principal,
        action="notification.read",
        resource_type="notification",
        resource_id=str(principal.user_id),
        resource_name=principal.email,
        changes={"marked": marked["marked"]},
    )
    return marked
