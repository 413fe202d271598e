"""The file of an export that ran as an operation (``api.export_start``):
``GET /api/v1/operations/{operation_id}/download``, once it has completed, streamed chunk by chunk
from the export store, each chunk checked against the SHA-256 the operation recorded.

Only who may read the source downloads it: ``messages:read`` on the stream (a team-scoped grant:
the streams of the caller's team namespaces), or ``audit_logs:read``. Another organization's
operation is a 404. Every download is audited (``export.download``)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter

from api.deps import Db, Principal, Svc, audit, authorize_stream, deny, require, streamed
from api.errors import ProblemError, problem_responses
from api.export_start import KIND
from core.backups.targets import ChunkCorrupted
from core.exports.formats import AUDIT_MEDIA, MEDIA
from core.exports.models import AuditExport, ExportRequest, MessageExport
from core.exports.store import chunk_key, export_prefix, export_store
from core.operations import get_operation

router = APIRouter(prefix="/api/v1/operations", tags=["operations"])
REQUEST = TypeAdapter(ExportRequest)


async def may_read(
    request: Request, principal: Principal, export: MessageExport | AuditExport
) -> None:
    """403 (audited) unless the caller may read what was exported, as the export route checks."""
    if export.kind == "audit":
        if not principal.can("audit_logs:read"):
            await deny(
                request,
                principal,
                "audit_logs:read",
                f"Your role '{principal.role}' does not allow read on audit_logs.",
            )
        return
    if not principal.scopes("messages:read"):
        await deny(
            request,
            principal,
            "messages:read",
            f"Your role '{principal.role}' does not allow read on messages.",
        )
    await authorize_stream(request, principal, "messages:read", export.cluster_id, export.stream)


@router.get(
    "/{operation_id}/download",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {}, "text/csv": {}},
            "description": "the exported file, streamed",
        },
        **problem_responses(
            **{
                "403": "You may not read what was exported (the stream, or the audit log).",
                "404": "No export operation with this id in your organization.",
                "409": "The export has not completed (running, failed or cancelled), or its "
                "file is no longer complete in the export store.",
                "429": "Too many requests (Retry-After).",
                "503": "A backing service cannot be reached.",
            }
        ),
    },
)
async def download_export(
    operation_id: uuid.UUID,
    request: Request,
    db: Db,
    svc: Svc,
    principal: Principal = Depends(require("operations:read")),
):
    """The file of a completed export, as the inline export would have streamed it."""
    row = await get_operation(db, principal.org_id, operation_id)
    if row is None or row.type != KIND:
        raise ProblemError(404, f"No export operation with id {operation_id} in your organization.")
    export = REQUEST.validate_python(row.input)
    await may_read(request, principal, export)
    if row.status != "completed":
        raise ProblemError(
            409,
            f"The export is {row.status}: only a completed export can be downloaded.",
            status_of_operation=row.status,
        )
    digests: list[str] = list((row.result or {}).get("chunks") or [])
    store = export_store(svc.settings.backups_root, principal.org_id)
    present = set(await store.keys(export_prefix(str(row.id))))
    missing = [n for n in range(len(digests)) if chunk_key(str(row.id), n) not in present]
    if missing:
        raise ProblemError(
            409,
            f"The export's file is incomplete in the export store: "
            f"{len(missing)} of its {len(digests)} chunks are missing.",
        )

    async def content() -> AsyncIterator[bytes]:
        for n, digest in enumerate(digests):
            key = chunk_key(str(row.id), n)
            data = await store.get(key)
            if hashlib.sha256(data).hexdigest() != digest:
                raise ChunkCorrupted(
                    f"chunk {n} of export {row.id} is damaged",
                    key=key,
                    expected=digest,
                    found=hashlib.sha256(data).hexdigest(),
                )
            yield data

    await audit(
        request,
        principal,
        action="export.download",
        resource_type="operation",
        resource_id=str(row.id),
        resource_name=export.filename(),
        cluster_id=row.cluster_id,
        changes={
            "kind": export.kind,
            "records": (row.result or {}).get("records"),
            "bytes": (row.result or {}).get("bytes"),
        },
    )
    media = (AUDIT_MEDIA if export.kind == "audit" else MEDIA)[export.format]
    return await streamed(
        db,
        content(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{export.filename()}"'},
    )
