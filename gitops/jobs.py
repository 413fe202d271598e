"""The typed inputs and outputs shared by the GitOps workflows and their activities."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.changes.models import ApprovalTicket
from core.operations import OperationContext


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GitSyncInput(_Model):
    """What a sync workflow is started with: the sync row, and optionally the resources to
    restrict its plan to (``"<env>:<resource>"``, a drift revert)."""

    sync_id: str
    repo_id: str
    only: list[str] = Field(default_factory=list)


class SyncRef(_Model):
    org_id: str
    sync_id: str
    only: list[str] = Field(default_factory=list)
    user_email: str = ""


Outcome = Literal["failed", "no_changes", "rejected", "apply", "approval", "done"]


class Planned(_Model):
    """Where a sync stands after planning: applied at once, waiting for one approval, or over."""

    outcome: Outcome
    summary: str = ""
    error: str | None = None


class OpenedRequest(_Model):
    """The change request a sync waits on, and how to start its approval workflow."""

    request_id: str
    context: OperationContext
    ticket: ApprovalTicket
    workflow_id: str


class Applied(_Model):
    status: str  # succeeded | partially_applied | failed
    applied: int = 0
    failed: int = 0
    skipped: int = 0
    error: str | None = None
