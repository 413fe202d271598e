"""The typed records of an export operation: what is exported (``MessageExport``, ``AuditExport``),
the workflow's one input (``ExportJob``: the operation's context and the request), and what a chunk
activity is given (``ExportChunk``) and answers (``ChunkWritten``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from core.operations import OperationContext

Format = Literal["jsonl", "csv"]


class MessageExport(BaseModel):
    """Messages ``first_seq``..``last_seq`` (included) of a stream, on ``subject`` (None: every
    subject), up to ``until``: the range as the API resolved it when the export was asked."""

    kind: Literal["messages"] = "messages"
    cluster_id: uuid.UUID
    stream: str
    format: Format = "jsonl"
    subject: str | None = None
    first_seq: int = Field(ge=1)
    last_seq: int = Field(ge=0)
    until: datetime | None = None
    estimated: int = Field(ge=0, description="the range's sequence span: at most this many")

    def filename(self) -> str:
        return (
            f"{self.stream}-{self.first_seq}-{max(self.last_seq, self.first_seq - 1)}.{self.format}"
        )


class AuditFilters(BaseModel):
    """The filters of ``GET /api/v1/audit/logs`` (``until`` always set: the export's moment)."""

    action: str | None = None
    resource_type: str | None = None
    resource_name: str | None = None
    user_email: str | None = None
    user_id: uuid.UUID | None = None
    cluster_id: uuid.UUID | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime


class AuditExport(BaseModel):
    """The organization's audit rows matching ``filters``, newest first."""

    kind: Literal["audit"] = "audit"
    format: Format = "jsonl"
    filters: AuditFilters
    estimated: int = Field(ge=0, description="the rows counted when the export was asked")

    def filename(self) -> str:
        return f"audit.{self.format}"


ExportRequest = Annotated[MessageExport | AuditExport, Field(discriminator="kind")]


class ExportJob(BaseModel):
    """ExportWorkflow's one input."""

    context: OperationContext
    request: ExportRequest
    chunk_records: int = Field(default=10_000, ge=1)


class AuditCursor(BaseModel):
    """The last row written: the next chunk starts after it (timestamp, then id)."""

    timestamp: datetime
    id: str


class ExportChunk(BaseModel):
    """Write chunk ``n``, starting at ``next_seq`` (messages) or after ``after`` (audit)."""

    job: ExportJob
    n: int = Field(ge=0)
    next_seq: int | None = None
    after: AuditCursor | None = None


class ChunkWritten(BaseModel):
    n: int
    records: int
    bytes: int
    sha256: str
    next_seq: int | None = None
    after: AuditCursor | None = None
    exhausted: bool


class ExportDiscard(BaseModel):
    org_id: str
    operation_id: str
