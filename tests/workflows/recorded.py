"""Committed workflow histories: one per released version of a workflow, never rewritten.

A workflow that has run in a release is a contract: every history recorded from a released version
must keep replaying with the current code (change it with ``workflow.patched``). So a test here
never overwrites a committed file, and a missing file is a failure, not a skip.

``record_new`` keeps the history of a run under a *new* name, and only when asked
(``JSC_RECORD_HISTORIES=1``): that is how a new version's history is added, then committed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

DIR = Path(__file__).with_name("histories")

# file -> (workflow type, which released version it was recorded from)
COMMITTED = {
    "approval_before_9e0499f.json": (
        "ApprovalWorkflow",
        "up to 9e0499f^: a vote records, then announces (recovered from git)",
    ),
    "approval.json": ("ApprovalWorkflow", "9e0499f: a vote announces, then records (no marker)"),
    "approval_outcome_first_patched.json": (
        "ApprovalWorkflow",
        "a vote announces, then records, behind the 'vote-announces-outcome-first' marker",
    ),
    "cluster_health.json": ("ClusterHealthWorkflow", "first release"),
    "cluster_health_sweep.json": (
        "ClusterHealthSweepWorkflow",
        "first release: every cluster "
        "listed, probed in batches (recorded by "
        "tests/workflows/test_cluster_health_sweep.py)",
    ),
    "mirror.json": ("MirrorWorkflow", "first release: prepare, create, wait until caught up"),
    "failover_planned.json": ("FailoverWorkflow", "first release: a planned failover of a pair"),
    "failover_reverse_only.json": (
        "FailoverWorkflow",
        "a reverse alone (plan.reverse_only): measure, approve, reverse",
    ),
    "quota_request.json": ("QuotaRequestWorkflow", "an approved request, with the marker"),
    "backup.json": ("BackupWorkflow", "first release: prepare, an item per stream, finish, verify"),
    "backup_verify_only.json": ("BackupWorkflow", "first release: verify_only (backup_verify)"),
    "restore.json": ("RestoreWorkflow", "first release: a restore into a new stream"),
    "restore_replace.json": (
        "RestoreWorkflow",
        "first release: over an existing stream (its "
        "set-aside backup taken and verified, the stream removed, restore)",
    ),
    "scheduled_backup.json": (
        "ScheduledBackupWorkflow",
        "first release: a run asked for (tick, BackupWorkflow as a child, retention)",
    ),
    "gitops_sync.json": ("GitOpsSyncWorkflow", "first release: plan, auto-approved, apply"),
    "gitops_sync_approval.json": (
        "GitOpsSyncWorkflow",
        "first release: plan, one change request opened, its ApprovalWorkflow started as a child",
    ),
    "gitops_apply.json": ("GitOpsApplyWorkflow", "first release: an approved sync applied"),
    "gitops_drift_revert.json": (
        "GitOpsDriftWorkflow",
        "first release: a scan whose repository "
        "reverts, the revert's GitOpsSyncWorkflow started as a child",
    ),
    "alert_evaluation.json": (
        "AlertEvaluationWorkflow",
        "first release: a pass whose rule fires (evaluate, publish, one webhook, delivered)",
    ),
    "gitops_drift_operation.json": (
        "GitOpsDriftWorkflow",
        "a scan asked for, as an operation "
        "([OperationContext, DriftScan]): running, scan, completed",
    ),
    "risk_summary.json": (
        "RiskSummaryWorkflow",
        "first release: one write_risk_summary, "
        "written (recorded by tests/ai/test_risk_summary.py)",
    ),
    # Started with one typed input (workflows/inputs.py); the positional versions above still
    # replay (the runs a release started keep their shape).
    "replay_single_input.json": (
        "ReplayWorkflow",
        "one ReplayInput: paused and resumed (tests/operations/test_replay_history.py)",
    ),
    "approval_single_input.json": (
        "ApprovalWorkflow",
        "one ApprovalInput: waits across a "
        "restart, approved (tests/approvals/test_approval_durability.py)",
    ),
    "quota_request_single_input.json": (
        "QuotaRequestWorkflow",
        "one ApprovalInput: an approved request",
    ),
    "backup_single_input.json": (
        "BackupWorkflow",
        "one BackupInput: prepare, items, finish, verify",
    ),
    "restore_single_input.json": ("RestoreWorkflow", "one RestoreWorkflowInput: into a new stream"),
    "scheduled_backup_single_input.json": (
        "ScheduledBackupWorkflow",
        "its BackupWorkflow child started with one BackupInput",
    ),
    "mirror_single_input.json": ("MirrorWorkflow", "one MirrorInput: prepare, create, wait"),
    "failover_single_input.json": ("FailoverWorkflow", "one FailoverInput: a planned failover"),
    "gitops_sync_single_input.json": (
        "GitOpsSyncWorkflow",
        "one GitOpsSyncInput: a change "
        "request opened, its ApprovalWorkflow child started with "
        "one ApprovalInput",
    ),
    "gitops_apply_single_input.json": (
        "GitOpsApplyWorkflow",
        "one GitOpsApplyInput: an approved sync applied",
    ),
    "gitops_drift_single_input.json": (
        "GitOpsDriftWorkflow",
        "one DriftInput (an operation): "
        "the revert's GitOpsSyncWorkflow started with one "
        "GitOpsSyncInput",
    ),
    "export_messages.json": (
        "ExportWorkflow",
        "first release: a message export in chunks, "
        "completed (recorded by tests/api/test_exports.py)",
    ),
    "export_audit.json": (
        "ExportWorkflow",
        "first release: an audit export in chunks on the "
        "analytics queue, completed (recorded by tests/api/test_exports.py)",
    ),
}


def load(name: str) -> WorkflowHistory:
    path = DIR / name
    assert path.exists(), (
        f"the committed history {path} is missing: restore it from git; a "
        "history of a released version is never re-recorded"
    )
    return WorkflowHistory.from_json(name, json.loads(path.read_text()))


async def replay_failure(history: WorkflowHistory, workflows: list) -> Exception | None:
    replayer = Replayer(workflows=workflows, data_converter=pydantic_data_converter)
    return (await replayer.replay_workflow(history, raise_on_replay_failure=False)).replay_failure


def record_new(history: WorkflowHistory, name: str) -> None:
    """Write ``history`` as ``histories/<name>`` when JSC_RECORD_HISTORIES is set and no such file
    exists; an existing history is never replaced."""
    if not os.environ.get("JSC_RECORD_HISTORIES"):
        return
    path = DIR / name
    assert not path.exists(), f"{path} is committed already: record a new version under a new name"
    path.write_text(json.dumps(json.loads(history.to_json()), indent=1))
