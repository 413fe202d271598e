"""The one gate every change passes (DESIGN.md rule 4): quota, then policy, then either "apply it
now" or "wait for approval".

``gate_change`` builds the typed change request a policy judges (the strictest environment of any
registration of the cluster's server, the team that owns the name, the requester's namespaces, the
team's live usage and limits), and:

- refuses with ``409`` a change that would exceed a team quota, naming the quota, the usage and the
  limit, and pointing at ``POST /api/v1/quota-requests``;
- refuses with ``403`` (audited) a change a policy auto-rejects, with the policy's reasons;
- answers ``None`` when the change is auto-approved: the route applies it at once (``201``);
- otherwise opens a change request, starts its ``ApprovalWorkflow`` and answers the ``202``
  response ``{request_id, operation_id, status: "waiting_approval"}`` for the route to return;
  when a model is configured, the request's ``RiskSummaryWorkflow`` (the assistant's written risk
  summary) is started with it.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import Db, Principal, Svc, audit, deny
from api.errors import ProblemError
from api.outbox_delivery import deliver_now, owe_start
from core.audit import config_diff
from core.changes.judge import QuotaExceeded, Requester, UsageUnknown, judge, team_history
from core.changes.models import ApprovalTicket, ChangeSpec, ticket_context
from core.changes.requests import open_request
from core.changes.summaries import owe_risk_summary
from core.db.models import NatsCluster, Team
from core.policy import ChangeRequest, Decision
from core.policy import risk_notes as make_risk_notes
from workflows.approval import ApprovalWorkflow, QuotaRequestWorkflow
from workflows.inputs import ApprovalInput


class ApprovalPending(BaseModel):
    request_id: uuid.UUID
    operation_id: uuid.UUID
    status: str
    title: str
    reasons: list[str]


PENDING_RESPONSE = {
    202: {
        "model": ApprovalPending,
        "description": "Policy requires approval: a change request now waits "
        "at /api/v1/approvals/{request_id}.",
    }
}


def _quota_problem(team: Team, violations) -> ProblemError:
    first = violations[0]
    return ProblemError(
        409,
        " ".join(v.sentence() for v in violations) + f" (team '{team.name}'). Ask for more "
        f'with POST /api/v1/quota-requests {{"team_id": "{team.id}", "resource": '
        f'"{first.quota}", "requested_limit": ..., "justification": ...}}.',
        quota=first.quota,
        usage=first.usage,
        limit=first.limit,
        team_id=str(team.id),
        violations=[v.model_dump() for v in violations],
    )


async def judge_change(
    db: Db,
    svc: Svc,
    principal: Principal,
    cluster: NatsCluster,
    spec: ChangeSpec,
    *,
    permission: str,
    before: dict[str, Any] | None = None,
) -> tuple[ChangeRequest, Decision, Team | None, str]:
    """What policy says of the change, opening nothing: (typed request, decision, owning team,
    environment), by ``core.changes.judge``. A quota excess is a ``409``, usage that cannot be
    measured a ``503``."""
    requester = Requester(
        org_id=principal.org_id,
        user_id=str(principal.user_id),
        roles=[principal.role],
        exempt="*" in principal.scopes(permission),
    )  # an organization-wide grant
    try:
        judged = await judge(
            db,
            svc.sessions,
            svc.clusters,
            svc.cipher,
            svc.settings.storage_price_per_gb,
            requester,
            cluster,
            spec,
            before=before,
        )
    except QuotaExceeded as exc:
        raise _quota_problem(exc.team, exc.violations) from exc
    except UsageUnknown as exc:
        raise ProblemError(503, str(exc), service="nats") from exc
    return judged.change, judged.decision, judged.team, judged.environment


async def gate_change(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    cluster: NatsCluster,
    spec: ChangeSpec,
    *,
    permission: str,
    before: dict[str, Any] | None = None,
) -> JSONResponse | None:
    change, decision, team, environment = await judge_change(
        db, svc, principal, cluster, spec, permission=permission, before=before
    )
    if decision.outcome == "auto_rejected":
        await deny(request, principal, permission, " ".join(decision.reasons))
    if decision.outcome == "auto_approved":
        return None
    price = svc.settings.storage_price_per_gb
    notes = make_risk_notes(change, await team_history(db, team.id if team else None), price)
    diff = config_diff(before, spec.config) if spec.operation == "update" else {}
    return await open_and_start(
        request,
        db,
        svc,
        principal,
        spec,
        decision,
        notes,
        diff,
        environment=environment,
        team_id=team.id if team else None,
    )


async def open_and_start(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    spec: ChangeSpec,
    decision: Decision,
    notes: list[str],
    diff: dict,
    *,
    environment: str | None,
    team_id: uuid.UUID | None,
    justification: str = "",
    audit_extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """Store the request, start its workflow, audit, and answer ``202``."""
    quota = spec.kind == "quota"
    ticket = ApprovalTicket(
        request_id=str(uuid.uuid4()),
        requester_id=str(principal.user_id),
        requester_email=principal.email,
        title=spec.title(),
        spec=spec,
        decision=decision,
    )
    row, op = await open_request(
        db,
        org_id=principal.org_id,
        ticket=ticket,
        environment=environment,
        team_id=team_id,
        diff=diff,
        risk_notes=notes,
        justification=justification,
        operation_type="quota_request" if quota else "approval",
    )
    workflow = QuotaRequestWorkflow if quota else ApprovalWorkflow
    context = ticket_context(ticket, str(principal.org_id), str(op.id), op.type)
    # The request, its workflow's start and its audit event commit together; the start is then
    # delivered at once, or by the outbox drainer after a crash or while Temporal is down.
    start = owe_start(
        db,
        workflow.__temporal_workflow_definition.name,
        op.workflow_id,
        [ApprovalInput(context=context, ticket=ticket)],
        svc.settings.task_queue,
    )
    summary = owe_risk_summary(db, svc.settings, row.id, principal.org_id)
    await audit(
        request,
        principal,
        action="approval.request",
        resource_type="change_request",
        resource_id=str(row.id),
        resource_name=row.title,
        cluster_id=spec.cluster_id,
        changes={
            "spec": row.spec,
            "decision": row.decision,
            "risk_notes": notes,
            **(audit_extra or {}),
        },
        db=db,
    )
    # the summary's start follows; while Temporal does not answer, the drainer delivers both
    if await deliver_now(svc, start) and summary is not None:
        await deliver_now(svc, summary)
    body = ApprovalPending(
        request_id=row.id,
        operation_id=op.id,
        status=row.status,
        title=row.title,
        reasons=decision.reasons,
    )
    return JSONResponse(status_code=202, content=body.model_dump(mode="json"))
