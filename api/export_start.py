"""Starting an export as an operation (``workflows.export.ExportWorkflow``): the export routes
call it for a range over the inline limit (``JSC_EXPORT_INLINE_MAX_MESSAGES``,
``JSC_EXPORT_INLINE_MAX_ROWS``) or when asked (``as_operation=true``), and answer ``202`` with
``{id, workflow_id, status}``. An ``Idempotency-Key`` names the operation, as for every starter."""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import JSONResponse

from api.deps import Db, Principal, Svc
from api.operation_start import keyed_operation_id, start_operation
from api.routers.operations import OperationStarted
from core.exports.models import AuditExport, MessageExport
from core.operations import get_operation

EXPORT_WORKFLOW = "ExportWorkflow"
KIND = "export"
STARTED = {
    202: {
        "model": OperationStarted,
        "description": "a large range (or as_operation=true): the export runs as an "
        "operation; download it from /api/v1/operations/{id}/download "
        "once completed",
    }
}


async def start_export(
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal,
    export: MessageExport | AuditExport,
    *,
    cluster_id: uuid.UUID | None,
    idempotency_key: str | None,
) -> JSONResponse:
    keyed = keyed_operation_id(principal, KIND, idempotency_key)
    if keyed and (row := await get_operation(db, principal.org_id, keyed)) is not None:
        started = OperationStarted(id=row.id, workflow_id=row.workflow_id, status=row.status)
    else:
        op_id, workflow_id, status = await start_operation(
            request,
            db,
            svc,
            principal,
            kind=KIND,
            workflow=EXPORT_WORKFLOW,
            operation_id=keyed or uuid.uuid4(),
            input=export,
            cluster_id=cluster_id,
            idempotency_key=idempotency_key,
            input_extra={"chunk_records": svc.settings.export_chunk_records},
            progress={
                "done": 0,
                "total": export.estimated,
                "unit": "messages" if export.kind == "messages" else "rows",
            },
        )
        started = OperationStarted(id=op_id, workflow_id=workflow_id, status=status)
    return JSONResponse(started.model_dump(mode="json"), status_code=202)
