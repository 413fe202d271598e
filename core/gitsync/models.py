"""Inputs and outputs of ``GitOpsSyncWorkflow`` / ``GitOpsApplyWorkflow`` and their activities."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SYNC_OPERATION = "gitops_sync"  # the operations row's type of both workflows


def sync_workflow_id(sync_id: str) -> str:
    return f"gitops-sync-{sync_id}"


class GitSyncInput(BaseModel):
    """``only``: resource refs (``stream ORDERS``, ``consumer ORDERS/proc``, ``kv:settings``,
    optionally ``<env>/`` first) restricting the plan, as a drift revert asks."""

    sync_id: str
    repo_id: str
    only: list[str] = Field(default_factory=list)


class Prepared(BaseModel):
    """What the first activity decided: ``verdict`` failed / no_changes / rejected (the sync is
    over, its row says why), apply (apply now) or approval (open the change request)."""

    verdict: Literal["failed", "no_changes", "rejected", "apply", "approval"]
    environments: list[str] = Field(default_factory=list)  # those with changes, apply order
    total: int = 0  # changes to apply
    commit: str | None = None
    error: str | None = None


class ApplyEnvironment(BaseModel):
    """``done_before``/``total``: the operation's progress so far, for heartbeats."""

    sync_id: str
    environment: str
    done_before: int = 0
    total: int = 0


class Applied(BaseModel):
    """Results of one environment: how many resources were applied, failed and skipped."""

    applied: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def done(self) -> int:
        return self.applied + self.failed + self.skipped


class SyncEnd(BaseModel):
    """Close a sync: from its results, or (``error``) as failed before anything was planned.
    ``env_errors``: environments whose apply gave up (their resources not done yet fail with
    that error); ``cancelled``: what was not applied yet is skipped."""

    sync_id: str
    error: str | None = None
    env_errors: dict[str, str] = Field(default_factory=dict)
    cancelled: bool = False


class OpenedRequest(BaseModel):
    request_id: str
    operation_id: str
