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


class SyncFailure(_Model):
    """A sync whose step gave up (a cluster unreachable through every retry): closed with
    ``error``, as partially applied when its results say some resources were."""

    ref: SyncRef
    error: str


class Applied(_Model):
    status: str  # succeeded | partially_applied | failed
    applied: int = 0
    failed: int = 0
    skipped: int = 0
    error: str | None = None


class DriftScan(_Model):
    """What a drift scan is started with (by the repository's schedule, or a person)."""

    repo_id: str
    org_id: str


class DriftInput(_Model):
    """``GitOpsDriftWorkflow``'s input: the scan, and, when a person asked for it, the operation
    it is (a schedule's routine scan has none). As every workflow input (``workflows.inputs``),
    a field it does not know yet is ignored."""

    model_config = ConfigDict(extra="ignore")

    scan: DriftScan
    context: OperationContext | None = None


class DriftFound(_Model):
    """A scan's outcome: the open items, and the revert to start when the repository's policy
    says to revert (``revert``: ``"<env>:<resource>"`` refs; empty: nothing to start)."""

    open: int = 0
    error: str | None = None
    revert: list[str] = Field(default_factory=list)


class RevertStart(_Model):
    """A drift revert opened as a sync: how to start its workflow."""

    sync_id: str
    workflow_id: str
    context: OperationContext
    data: GitSyncInput
