"""``POST /api/v1/operations/failover``: fail a DR pair (or a primary's streams) over to its
standby, or rehearse it (``drill``), as a ``FailoverWorkflow`` operation.

Step 1 (measure) runs before the answer: the request is refused (``409``, with the reasons) when
the target is not a healthy, full mirror of the primary, or an emergency would lose more than
``max_data_loss_messages``; ``503`` when the target cannot be reached (the primary may be down:
that is what an emergency failover is for). Then the change gate: a failover is a change of kind
``failover`` judged on the stricter environment of the two clusters, so a production pair's
failover waits for approval (``202`` ``waiting_approval``; the approved request starts the
operation). ``Idempotency-Key`` names the operation, as for a replay. Permission
``replication:failover``.

**A reverse alone.** A pair that failed over without ``reverse`` is active on its standby and its
old primary is fenced; ``{pair_id, target_cluster_id: <the standby, active now>, reverse: true}``
then runs the reverse step by itself (``input.reverse_only``; steps measure, approve, reverse):
the old primary's data is kept aside, its streams become mirrors of the new primary, and the
pair's roles are swapped, so failing back is a planned failover the other way. Refused (409) when
the old primary cannot be reached or there is nothing to reverse. It passes the same gate.
"""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Depends, Header, Request
from sqlalchemy import select

from api.change_gate import ApprovalPending, gate_change
from api.deps import Db, Principal, Svc, require
from api.errors import ProblemError
from api.operation_start import keyed_operation_id, start_operation
from api.routers.operations import OperationStarted
from core.changes.models import ChangeSpec
from core.cluster_identity import STRICTNESS
from core.clusters import endpoint
from core.db.models import NatsCluster, Operation
from core.jetstream.api import JetStreamApi, JetStreamUnavailable
from core.jetstream.pool import ClusterUnreachable
from core.operations import FINISHED, get_operation
from core.replication import planning
from core.replication.models import FailoverRequest
from core.replication.plan import FailoverPlan
from workflows.failover import FailoverWorkflow

router = APIRouter(prefix="/api/v1/operations", tags=["operations"])
FAILOVER = FailoverWorkflow.__temporal_workflow_definition.name
PERMISSION = "replication:failover"


@router.post("/failover", status_code=202, response_model=OperationStarted | ApprovalPending)
async def start_failover(
    body: FailoverRequest,
    request: Request,
    db: Db,
    svc: Svc,
    idempotency_key: str | None = Header(None, max_length=200),
    principal: Principal = Depends(require(PERMISSION)),
):
    """Start a failover, a drill, or the reverse alone of a pair that failed over without it:
    ``{id, workflow_id, status}``; or, where policy says it needs approval, ``{request_id,
    operation_id, status: "waiting_approval"}``. The operation's ``progress.steps`` and
    ``result`` tell it step by step (measure, approve, fence, catch_up, promote, switch, verify,
    cleanup, reverse; rollback when it had to; a reverse alone: measure, approve, reverse)."""
    keyed = keyed_operation_id(principal, "failover", idempotency_key)
    if keyed and (row := await get_operation(db, principal.org_id, keyed)) is not None:
        return OperationStarted(id=row.id, workflow_id=row.workflow_id, status=row.status)

    async def connect(cluster: NatsCluster) -> JetStreamApi:
        return await svc.clusters.jetstream(endpoint(svc.cipher, cluster))

    try:
        plan, primary, target = await planning.resolve(db, principal.org_id, body, connect)
    except planning.PlanProblem as exc:
        raise ProblemError(exc.status, exc.message, **exc.extra) from exc
    await _refuse_concurrent(db, principal, plan)
    try:
        target_js = await connect(target)
    except ClusterUnreachable as exc:
        raise ProblemError(
            503,
            f"The target cluster '{target.name}' cannot be reached: a failover needs it ({exc}).",
            service="nats",
        ) from exc
    try:  # an emergency only glances at the primary (said to be down)
        primary_js = await asyncio.wait_for(
            connect(primary), 1.5 if plan.glances_at_primary else None
        )
    except (TimeoutError, ClusterUnreachable):
        primary_js = None
    try:
        measured = await planning.measure(plan, primary_js, target_js)
    except JetStreamUnavailable as exc:
        raise ProblemError(
            503, f"The target cluster '{target.name}' did not answer: {exc}.", service="nats"
        ) from exc
    if measured.refusals:
        raise ProblemError(
            409,
            "Refused: " + "; ".join(measured.refusals),
            reasons=measured.refusals,
            measured=measured.model_dump(mode="json"),
        )
    plan = plan.model_copy(update={"measured": measured})
    strictest = max((primary, target), key=lambda c: STRICTNESS.get(c.environment, 0))
    spec = ChangeSpec(
        kind="failover",
        operation="failover",
        cluster_id=target.id,
        name=plan.pair_name or primary.name,
        config=plan.model_dump(mode="json"),
    )
    if pending := await gate_change(
        request, db, svc, principal, strictest, spec, permission=PERMISSION
    ):
        return pending
    plan = plan.model_copy(update={"approval": "auto"})
    op_id, workflow_id, status = await start_operation(
        request,
        db,
        svc,
        principal,
        kind="failover",
        workflow=FAILOVER,
        operation_id=keyed or uuid.uuid4(),
        input=plan,
        cluster_id=target.id,
        idempotency_key=idempotency_key,
        audit_changes={
            "input": body.model_dump(mode="json"),
            "measured": measured.model_dump(mode="json"),
        },
    )
    return OperationStarted(id=op_id, workflow_id=workflow_id, status=status)


async def _refuse_concurrent(db: Db, principal: Principal, plan: FailoverPlan) -> None:
    """One failover (or drill) of the same pair, or the same primary streams, at a time."""
    live = await db.scalars(
        select(Operation).where(
            Operation.org_id == principal.org_id,
            Operation.type == "failover",
            Operation.status.not_in(FINISHED),
        )
    )
    mine = {s.stream for s in plan.streams}
    for op in live:
        other = op.input or {}
        same_pair = plan.pair_id is not None and other.get("pair_id") == plan.pair_id
        same_streams = (other.get("primary") or {}).get(
            "cluster_id"
        ) == plan.primary.cluster_id and mine & {
            s.get("stream") for s in other.get("streams") or []
        }
        if same_pair or same_streams:
            raise ProblemError(
                409,
                f"Another failover of these streams is under way "
                f"(operation {op.id}, {op.status}): wait for it to end.",
                operation_id=str(op.id),
            )
