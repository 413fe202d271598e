"""Alerts (``/api/v1/alerts``): rules over the collected metrics, their events, acknowledging and
snoozing.

Rules: ``alerts:read`` lists and reads, ``alerts:create`` / ``update`` / ``delete`` change them
(editors create and update, admins everything). A rule's cluster, team and webhooks must be the
organization's (another organization's rule, cluster or event: 404). ``POST /alerts/test``
evaluates a rule body or a stored rule now, storing nothing. Events (``alert_events`` in
ClickHouse) are read with ``alerts:read``; acknowledging an event and snoozing a rule need
``alerts:update``, and are audited like every change.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import select

from api.alert_access import (
    check_owned,
    fields_of,
    load_rule,
    load_state,
    read_events,
    stored_values,
    view,
)
from api.alert_schemas import (
    EventList,
    RuleChange,
    RuleCreate,
    RuleList,
    RuleView,
    SnoozeRequest,
    TestRequest,
    TestResult,
)
from api.analytics_worker import evaluator
from api.deps import Db, Principal, Svc, audit, require
from api.errors import ProblemError, validation_problem
from core.alerts.evaluation import locked_state
from core.alerts.events import AlertEvent
from core.alerts.rules import parse_duration
from core.alerts.stored import rule_of
from core.db.alert_models import AlertRuleState
from core.db.models import AlertRule

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


def _audited(row: AlertRule) -> dict:
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in fields_of(row).items()}


@router.get("/rules", response_model=RuleList)
async def list_rules(db: Db, principal: Principal = Depends(require("alerts:read"))):
    rows = (
        await db.execute(
            select(AlertRule, AlertRuleState)
            .outerjoin(AlertRuleState, AlertRuleState.rule_id == AlertRule.id)
            .where(AlertRule.org_id == principal.org_id)
            .order_by(AlertRule.name, AlertRule.id)
        )
    ).all()
    return RuleList(items=[view(rule, state) for rule, state in rows])


@router.post("/rules", status_code=201, response_model=RuleView)
async def create_rule(
    body: RuleCreate,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("alerts:create")),
):
    await check_owned(db, principal.org_id, body)
    row = AlertRule(id=uuid.uuid4(), org_id=principal.org_id, **stored_values(body))
    db.add(row)
    await db.flush()
    await db.refresh(row)
    out = view(row, None)
    await audit(
        request,
        principal,
        action="alert_rule.create",
        resource_type="alert_rule",
        resource_id=str(row.id),
        resource_name=row.name,
        cluster_id=row.cluster_id,
        changes={"after": _audited(row)},
        db=db,
    )
    return out


@router.get("/rules/{rule_id}", response_model=RuleView)
async def read_rule(
    rule_id: uuid.UUID, db: Db, principal: Principal = Depends(require("alerts:read"))
):
    row = await load_rule(db, principal.org_id, rule_id)
    return view(row, await load_state(db, row.id))


@router.patch("/rules/{rule_id}", response_model=RuleView)
async def update_rule(
    rule_id: uuid.UUID,
    body: RuleChange,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("alerts:update")),
):
    row = await load_rule(db, principal.org_id, rule_id)
    before = _audited(row)
    merged = {**fields_of(row), **body.model_dump(by_alias=True, include=body.model_fields_set)}
    if "kind" in body.model_fields_set:  # targets of another kind are not carried over
        for key in ("stream", "consumer", "team_id"):
            if key not in body.model_fields_set:
                merged[key] = None
    try:
        wanted = RuleCreate.model_validate(merged)
    except ValidationError as exc:
        return validation_problem(exc.errors())
    await check_owned(db, principal.org_id, wanted)
    for key, value in stored_values(wanted).items():
        setattr(row, key, value)
    await db.flush()
    await db.refresh(row)
    out = view(row, await load_state(db, row.id))
    await audit(
        request,
        principal,
        action="alert_rule.update",
        resource_type="alert_rule",
        resource_id=str(row.id),
        resource_name=row.name,
        cluster_id=row.cluster_id,
        changes={"before": before, "after": _audited(row)},
        db=db,
    )
    return out


@router.delete("/rules/{rule_id}", status_code=204, response_class=Response)
async def delete_rule(
    rule_id: uuid.UUID,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("alerts:delete")),
):
    """Forget the rule and its state; its recorded events stay in the history."""
    row = await load_rule(db, principal.org_id, rule_id)
    before = _audited(row)
    await db.delete(row)
    await audit(
        request,
        principal,
        action="alert_rule.delete",
        resource_type="alert_rule",
        resource_id=str(rule_id),
        resource_name=before["name"],
        changes={"before": before},
        db=db,
    )
    return Response(status_code=204)


@router.post("/test", response_model=TestResult)
async def test_rule(
    body: TestRequest, db: Db, svc: Svc, principal: Principal = Depends(require("alerts:read"))
):
    """Evaluate a rule now against the current data; nothing is stored, nobody notified."""
    if (body.rule_id is None) == (body.rule is None):
        message = "give either rule_id (a stored rule) or rule (a rule's body)"
        raise ProblemError(
            422,
            f"Invalid input: rule_id: {message}",
            errors=[{"field": "rule_id", "message": message}],
        )
    status = None
    if body.rule_id is not None:
        row = await load_rule(db, principal.org_id, body.rule_id)
        rule = rule_of(row)
        state = await load_state(db, row.id)
        status = state.status if state else "ok"
    else:
        await check_owned(db, principal.org_id, body.rule)
        values = stored_values(body.rule)
        rule = rule_of(AlertRule(id=uuid.uuid4(), org_id=principal.org_id, **values))
    measured = await evaluator(svc).measure(rule, datetime.now(UTC))
    return TestResult(
        value=measured.value,
        threshold=rule.threshold,
        would_fire=bool(measured.breached),
        known=measured.breached is not None,
        detail=measured.detail,
        status=status,
    )


@router.get("/events", response_model=EventList)
async def list_events(
    svc: Svc,
    principal: Principal = Depends(require("alerts:read")),
    rule_id: uuid.UUID | None = None,
    status: Literal["firing", "resolved"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cluster_id: uuid.UUID | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """The organization's alert events, newest first."""
    since, until = _within(since, "since"), _within(until, "until")
    items = await read_events(
        svc.analytics,
        limit + 1,
        offset,
        org_id=principal.org_id,
        rule_id=rule_id,
        status=status,
        since=since,
        until=until,
        cluster_id=cluster_id,
    )
    more = len(items) > limit
    return EventList(
        items=items[:limit],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
    )


EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2261, 1, 1, tzinfo=UTC)


def _within(value: datetime | None, field: str) -> datetime | None:
    """A time ClickHouse can compare (1970 to 2260; a time without zone is UTC)."""
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not EARLIEST <= value < LATEST:
        message = "must be between 1970 and 2260"
        raise ProblemError(
            422, f"Invalid input: {field}: {message}", errors=[{"field": field, "message": message}]
        )
    return value


async def _acknowledge(
    request: Request, db: Db, svc: Svc, principal: Principal, event: AlertEvent
) -> AlertEvent:
    if event.status != "firing":
        raise ProblemError(
            409, f"Alert event {event.id} is a resolution: only a firing can be acknowledged."
        )
    if event.acknowledged_at is not None:
        return event
    now = datetime.now(UTC)
    acked = event.model_copy(update={"acknowledged_by": principal.email, "acknowledged_at": now})
    state = await db.scalar(
        select(AlertRuleState).where(AlertRuleState.rule_id == event.rule_id).with_for_update()
    )
    if state is not None and state.last_event_id == event.id and state.status == "firing":
        state.acknowledged_by, state.acknowledged_at = principal.email, now
    await audit(
        request,
        principal,
        action="alert_event.acknowledge",
        resource_type="alert_event",
        resource_id=str(event.id),
        resource_name=event.rule_name,
        cluster_id=event.cluster_id,
        changes={"rule_id": str(event.rule_id)},
        db=db,
    )
    await svc.events.publish("alert", f"{event.id}:ack", acked.body())
    return acked


@router.post("/events/{event_id}/acknowledge", response_model=AlertEvent)
async def acknowledge_event(
    event_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("alerts:update")),
):
    found = await read_events(svc.analytics, 1, 0, org_id=principal.org_id, id=event_id)
    if not found:
        raise ProblemError(404, f"No alert event with id {event_id} in your organization.")
    return await _acknowledge(request, db, svc, principal, found[0])


@router.post("/rules/{rule_id}/acknowledge", response_model=AlertEvent)
async def acknowledge_rule(
    rule_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("alerts:update")),
):
    """Acknowledge the rule's current firing."""
    row = await load_rule(db, principal.org_id, rule_id)
    state = await load_state(db, row.id)
    found = []
    if state is not None and state.status == "firing" and state.last_event_id is not None:
        found = await read_events(
            svc.analytics, 1, 0, org_id=principal.org_id, id=state.last_event_id
        )
    if not found:
        raise ProblemError(
            409,
            f"Alert rule '{row.name}' is not firing (or its firing is not "
            "recorded yet): nothing to acknowledge.",
        )
    return await _acknowledge(request, db, svc, principal, found[0])


@router.post("/rules/{rule_id}/snooze", response_model=RuleView)
async def snooze_rule(
    rule_id: uuid.UUID,
    body: SnoozeRequest,
    request: Request,
    db: Db,
    principal: Principal = Depends(require("alerts:update")),
):
    """No notification from the rule for that long ("0s": from now on again); its events are
    still recorded."""
    row = await load_rule(db, principal.org_id, rule_id)
    seconds = parse_duration(body.for_)
    state = await locked_state(db, row.id, row.org_id)
    state.snoozed_until = datetime.now(UTC) + timedelta(seconds=seconds) if seconds else None
    out = view(row, state)
    await audit(
        request,
        principal,
        action="alert_rule.snooze",
        resource_type="alert_rule",
        resource_id=str(row.id),
        resource_name=row.name,
        cluster_id=row.cluster_id,
        changes={
            "snoozed_until": out.state.snoozed_until.isoformat()
            if out.state.snoozed_until
            else None
        },
        db=db,
    )
    return out
