"""Starting an operation from the API, the one way every starter does it (replay, mirror,
failover): an ``Idempotency-Key`` names the operation, and its row, its workflow's start and the
``operation.start`` audit event are added to the request's transaction (transactional outbox); the
starter commits them with anything of its own, then delivers the start at once (``deliver_now``),
or the outbox drainer does after a crash or while Temporal is down."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from api.deps import Db, Principal, Svc, audit
from api.outbox_delivery import deliver_now, owe_start
from core.db.models import Operation
from core.operations import OperationContext, get_operation, workflow_id_for
from core.outbox import OutboxEntry
from workflows.inputs import operation_input


def keyed_operation_id(principal: Principal, kind: str, key: str | None) -> uuid.UUID | None:
    """The operation an ``Idempotency-Key`` names: a retried POST finds it, whatever happened
    to the first attempt."""
    return uuid.uuid5(principal.org_id, f"{kind}:{key}") if key else None


async def owe_operation(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    *,
    kind: str,
    workflow: str,
    operation_id: uuid.UUID,
    input: BaseModel,
    cluster_id: uuid.UUID | None,
    idempotency_key: str | None,
    progress: dict | None = None,
    audit_changes: dict[str, Any] | None = None,
    with_row: Callable[[], Awaitable[None]] | None = None,
    input_extra: dict[str, Any] | None = None,
) -> tuple[str, OutboxEntry]:
    """Add the operation's row, owe its workflow's start (its one typed input: the context,
    ``input`` and ``input_extra``, ``workflows.inputs.operation_input``) and audit it,
    committing them together (``with_row``, when given, adds the starter's own rows once the
    operation's is flushed): (workflow id, the owed start). Raises ``IntegrityError`` when the
    same key's operation was added meanwhile."""
    workflow_id = workflow_id_for(kind, operation_id)
    data = input.model_dump(mode="json")
    db.add(
        Operation(
            id=operation_id,
            org_id=principal.org_id,
            type=kind,
            workflow_id=workflow_id,
            status="pending",
            progress=progress or {},
            input=data,
            cluster_id=cluster_id,
            started_by=principal.user_id,
            idempotency_key=idempotency_key,
        )
    )
    await db.flush()
    if with_row is not None:
        await with_row()
    context = OperationContext(
        operation_id=str(operation_id),
        org_id=str(principal.org_id),
        user_id=str(principal.user_id),
        user_email=principal.email,
        type=kind,
    )
    typed = operation_input(workflow, context, input, **(input_extra or {}))
    start = owe_start(db, workflow, workflow_id, [typed], svc.settings.task_queue)
    await audit(
        request,
        principal,
        action="operation.start",
        resource_type="operation",
        resource_id=str(operation_id),
        resource_name=kind,
        cluster_id=cluster_id,
        changes={"input": data, **(audit_changes or {})},
        db=db,
    )
    return workflow_id, start


async def start_operation(
    request: Request, db: Db, svc: Svc, principal: Principal, **owed: Any
) -> tuple[uuid.UUID, str, str]:
    """``owe_operation``, then deliver the start: (operation id, workflow id, status). When the
    same key's operation was added at the same moment, that one's, as it stands."""
    operation_id = owed["operation_id"]
    try:
        workflow_id, start = await owe_operation(request, db, svc, principal, **owed)
    except IntegrityError:  # the same key, at the same moment: the other request made it
        await db.rollback()
        row = await get_operation(db, principal.org_id, operation_id)
        if row is None:
            raise
        return row.id, row.workflow_id, row.status
    await deliver_now(svc, start)
    return operation_id, workflow_id, "pending"
