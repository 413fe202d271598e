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
  response ``{request_id, operation_id, status: "waiting_approval"}`` for the route to return.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import Db, Principal, Svc, audit, deny
from api.errors import ProblemError
from api.outbox_delivery import deliver_now, owe_start
from core import quotas
from core.audit import config_diff
from core.changes.models import ApprovalTicket, ChangeSpec, ticket_context
from core.changes.requests import open_request
from core.cluster_identity import effective_environment
from core.db.models import ApprovalPolicyVersion, NatsCluster, Team, TeamNamespace
from core.policy import ApprovalPolicy, ChangeRequest, Decision, HistoryEntry, decide, quota_check
from core.policy import risk_notes as make_risk_notes
from workflows.approval import ApprovalWorkflow, QuotaRequestWorkflow


class ApprovalPending(BaseModel):
    request_id: uuid.UUID
    operation_id: uuid.UUID
    status: str
    title: str
    reasons: list[str]


PENDING_RESPONSE = {202: {"model": ApprovalPending,
                          "description": "Policy requires approval: a change request now waits "
                                         "at /api/v1/approvals/{request_id}."}}


def governing_name(spec: ChangeSpec) -> str:
    return spec.stream if spec.kind == "consumer" and spec.stream else spec.name


async def current_policies(db: Db, org_id: uuid.UUID) -> list[ApprovalPolicy]:
    rows = await db.scalars(select(ApprovalPolicyVersion.definition).where(
        ApprovalPolicyVersion.org_id == org_id, ApprovalPolicyVersion.is_current))
    return [ApprovalPolicy.model_validate(d) for d in rows]


async def team_history(db: Db, team_id: uuid.UUID | None) -> list[HistoryEntry]:
    if team_id is None:
        return []
    return [HistoryEntry(resource=h.resource, before=h.before or 0, after=h.after or 0)
            for h in await quotas.history(db, team_id)]


async def _team_state(db: Db, svc: Svc, team: Team | None) -> tuple[dict, dict]:
    """(usage, limits) of the team, usage read live only when the team has limits."""
    if team is None:
        return {}, {}
    limits = await quotas.limits(db, team.id)
    if not limits:
        return {}, {}
    usage = await quotas.live_usage(db, svc.clusters, svc.cipher, team.id)
    if usage.unreachable:
        raise ProblemError(503, "The team's usage cannot be measured to check its quotas: "
                                + "; ".join(usage.unreachable), service="nats")
    return {k: v for k, v in usage.values.items() if v is not None}, limits


def _quota_problem(team: Team, violations) -> ProblemError:
    first = violations[0]
    return ProblemError(
        409, " ".join(v.sentence() for v in violations) + f" (team '{team.name}'). Ask for more "
        f"with POST /api/v1/quota-requests {{\"team_id\": \"{team.id}\", \"resource\": "
        f"\"{first.quota}\", \"requested_limit\": ..., \"justification\": ...}}.",
        quota=first.quota, usage=first.usage, limit=first.limit, team_id=str(team.id),
        violations=[v.model_dump() for v in violations])


async def judge_change(db: Db, svc: Svc, principal: Principal, cluster: NatsCluster,
                       spec: ChangeSpec, *, permission: str, before: dict[str, Any] | None = None
                       ) -> tuple[ChangeRequest, Decision, Team | None, str]:
    """What policy says of the change, opening nothing: (typed request, decision, owning team,
    environment). The environment is the strictest of every registration of the cluster's server
    (``core.cluster_identity``). A quota excess is a ``409``."""
    name = governing_name(spec)
    team = await quotas.owning_team(db, principal.org_id, cluster.id, quotas.owned_name(name))
    exempt = "*" in principal.scopes(permission)  # an organization-wide grant
    prefixes = await _prefixes(db, team.id, cluster.id) if team is not None and not exempt else []
    usage, limits = await _team_state(db, svc, team)
    environment = await _environment(svc, cluster)
    change = ChangeRequest(
        kind=spec.kind, operation=spec.operation, environment=environment,
        team_prefixes=prefixes, namespace_exempt=exempt,
        resource_name=name if spec.kind != "consumer" else spec.name,
        stream_name=spec.stream if spec.kind == "consumer" else None,
        requester_id=str(principal.user_id), requester_roles=[principal.role],
        before=before, after=spec.config, usage=usage, quota=limits)
    violations = quota_check(usage, limits, change)
    if violations:
        raise _quota_problem(team, violations)
    price = svc.settings.storage_price_per_gb
    decision = decide(change, await current_policies(db, principal.org_id), True, price)
    return change, decision, team, environment


async def _environment(svc: Svc, cluster: NatsCluster) -> str:
    """The strictest environment of the cluster's server, in a session of its own that keeps the
    identities it learnt whatever the change's own transaction does."""
    async with svc.sessions() as own:
        mine = await own.get(NatsCluster, cluster.id)
        environment = await effective_environment(own, svc.clusters, svc.cipher, mine)
        await own.commit()
    return environment


async def gate_change(request: Request, db: Db, svc: Svc, principal: Principal,
                      cluster: NatsCluster, spec: ChangeSpec, *, permission: str,
                      before: dict[str, Any] | None = None) -> JSONResponse | None:
    change, decision, team, environment = await judge_change(
        db, svc, principal, cluster, spec, permission=permission, before=before)
    if decision.outcome == "auto_rejected":
        await deny(request, principal, permission, " ".join(decision.reasons))
    if decision.outcome == "auto_approved":
        return None
    price = svc.settings.storage_price_per_gb
    notes = make_risk_notes(change, await team_history(db, team.id if team else None), price)
    diff = config_diff(before, spec.config) if spec.operation == "update" else {}
    return await open_and_start(request, db, svc, principal, spec, decision, notes, diff,
                                environment=environment,
                                team_id=team.id if team else None)


async def _prefixes(db: Db, team_id: uuid.UUID, cluster_id: uuid.UUID) -> list[str]:
    return list(await db.scalars(select(TeamNamespace.prefix).where(
        TeamNamespace.team_id == team_id, TeamNamespace.cluster_id == cluster_id)))


async def open_and_start(request: Request, db: Db, svc: Svc, principal: Principal,
                         spec: ChangeSpec, decision: Decision, notes: list[str], diff: dict, *,
                         environment: str | None, team_id: uuid.UUID | None,
                         justification: str = "") -> JSONResponse:
    """Store the request, start its workflow, audit, and answer ``202``."""
    quota = spec.kind == "quota"
    ticket = ApprovalTicket(request_id=str(uuid.uuid4()), requester_id=str(principal.user_id),
                            requester_email=principal.email, title=spec.title(), spec=spec,
                            decision=decision)
    row, op = await open_request(db, org_id=principal.org_id, ticket=ticket, environment=environment,
                           team_id=team_id, diff=diff, risk_notes=notes,
                           justification=justification,
                           operation_type="quota_request" if quota else "approval")
    workflow = QuotaRequestWorkflow if quota else ApprovalWorkflow
    context = ticket_context(ticket, str(principal.org_id), str(op.id), op.type)
    # The request, its workflow's start and its audit event commit together; the start is then
    # delivered at once, or by the outbox drainer after a crash or while Temporal is down.
    start = owe_start(db, workflow.__temporal_workflow_definition.name, op.workflow_id,
                      [context, ticket], svc.settings.task_queue)
    await audit(request, principal, action="approval.request", resource_type="change_request",
                resource_id=str(row.id), resource_name=row.title, cluster_id=spec.cluster_id,
                changes={"spec": row.spec, "decision": row.decision, "risk_notes": notes}, db=db)
    await deliver_now(svc, start)
    body = ApprovalPending(request_id=row.id, operation_id=op.id, status=row.status,
                           title=row.title, reasons=decision.reasons)
    return JSONResponse(status_code=202, content=body.model_dump(mode="json"))
