"""Starting a ``MirrorWorkflow`` from the API: the operation's row, the console's mirror rows
(state ``creating``, their target names claimed), the workflow's start and the audit event commit
together (transactional outbox); the start is then delivered at once, or by the outbox drainer."""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy.exc import IntegrityError

from api.deps import Db, Principal, Svc
from api.errors import ProblemError
from api.operation_start import start_operation
from core.replication import rows
from core.replication.models import MirrorJob
from workflows.mirror import MirrorWorkflow

MIRROR_WORKFLOW = MirrorWorkflow.__temporal_workflow_definition.name


async def start_mirror_job(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    job: MirrorJob,
    *,
    operation_id: uuid.UUID,
    cluster_id: uuid.UUID,
    idempotency_key: str | None = None,
    audit_changes: dict | None = None,
) -> tuple[uuid.UUID, str, str]:
    """Owe the start of the job's workflow, register its mirrors and audit it, together; then
    deliver the start: (operation id, workflow id, status), those of the same key's operation
    when it was started at the same moment."""

    async def register() -> None:
        try:
            await rows.register_job(db, principal.org_id, job, operation_id, principal.user_id)
        except rows.TargetClaimed as exc:
            raise ProblemError(
                409, f"{str(exc)[:1].upper()}{str(exc)[1:]}.", mirror_id=str(exc.mirror_id)
            ) from exc
        except (
            IntegrityError
        ) as exc:  # the same target name, in a request committed at the same moment
            await db.rollback()
            names = ", ".join(f"'{m.target_stream}'" for m in job.mirrors)
            raise ProblemError(
                409, f"Another mirror was just started under the name {names} on the same cluster."
            ) from exc

    return await start_operation(
        request,
        db,
        svc,
        principal,
        kind="mirror",
        workflow=MIRROR_WORKFLOW,
        operation_id=operation_id,
        input=job,
        cluster_id=cluster_id,
        idempotency_key=idempotency_key,
        progress={"unit": "messages"},
        audit_changes=audit_changes,
        with_row=register,
    )
