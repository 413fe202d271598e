"""Starting a ``MirrorWorkflow`` from the API: the operation's row, the console's mirror rows
(state ``creating``, their target names claimed), the workflow's start and the audit event commit
together (transactional outbox); the start is then delivered at once, or by the outbox drainer."""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy.exc import IntegrityError

from api.deps import Db, Principal, Svc, audit
from api.errors import ProblemError
from api.outbox_delivery import deliver_now, owe_start
from core.db.models import Operation
from core.operations import OperationContext, workflow_id_for
from core.replication import rows
from core.replication.models import MirrorJob
from workflows.mirror import MirrorWorkflow

MIRROR_WORKFLOW = MirrorWorkflow.__temporal_workflow_definition.name


async def start_mirror_job(request: Request, db: Db, svc: Svc, principal: Principal,
                           job: MirrorJob, *, operation_id: uuid.UUID, cluster_id: uuid.UUID,
                           idempotency_key: str | None = None,
                           audit_changes: dict | None = None) -> str:
    """Owe the start of the job's workflow and audit it, in ``db``'s transaction; its id."""
    workflow_id = workflow_id_for("mirror", operation_id)
    data = job.model_dump(mode="json")
    db.add(Operation(id=operation_id, org_id=principal.org_id, type="mirror",
                     workflow_id=workflow_id, status="pending", progress={"unit": "messages"},
                     input=data, cluster_id=cluster_id, started_by=principal.user_id,
                     idempotency_key=idempotency_key))
    await db.flush()
    try:
        await rows.register_job(db, principal.org_id, job, operation_id, principal.user_id)
    except rows.TargetClaimed as exc:
        raise ProblemError(409, f"{str(exc)[:1].upper()}{str(exc)[1:]}.",
                           mirror_id=str(exc.mirror_id))
    except IntegrityError:  # the same target name, in a request committed at the same moment
        await db.rollback()
        names = ", ".join(f"'{m.target_stream}'" for m in job.mirrors)
        raise ProblemError(409, f"Another mirror was just started under the name {names} on "
                                "the same cluster.")
    context = OperationContext(operation_id=str(operation_id), org_id=str(principal.org_id),
                               user_id=str(principal.user_id), user_email=principal.email,
                               type="mirror")
    start = owe_start(db, MIRROR_WORKFLOW, workflow_id, [context, job], svc.settings.task_queue)
    await audit(request, principal, action="operation.start", resource_type="operation",
                resource_id=str(operation_id), resource_name="mirror", cluster_id=cluster_id,
                changes={"input": data, **(audit_changes or {})}, db=db)
    await deliver_now(svc, start)
    return workflow_id
