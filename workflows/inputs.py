"""The one typed input each operation workflow is started with, and how a workflow reads it.

A workflow takes ONE pydantic model (``ReplayInput``, ``ApprovalInput`` ...), so its input can grow
a field (with a default) without breaking the runs already going. Releases before these inputs
started the same workflows with positional arguments (``[context, request]``,
``[context, request, carry]``, ``[context, ticket]`` ...): those runs, their recorded histories,
starts still owed in the outbox and Temporal schedules made then carry that shape for good. So a
workflow's ``run`` (and ``@workflow.init``) takes ``*args``, which Temporal hands over as plain JSON
values (no type hints apply to a var-positional parameter), and :func:`from_args` reads them as
the model, or as a released positional shape, named field by field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from core.backups.jobs import BackupJob, RestoreJob
from core.changes.models import ApprovalTicket
from core.exports.models import ExportJob
from core.operations import OperationContext
from core.replay.models import ReplayCarry, ReplayRequest
from core.replication.models import MirrorJob
from core.replication.plan import FailoverPlan
from gitops.jobs import DriftInput, GitSyncInput

M = TypeVar("M", bound=BaseModel)


class InputNotUnderstood(ValueError):
    """The arguments are neither the workflow's input nor a shape a release started it with."""


def from_args(model: type[M], args: Sequence[Any], *released: tuple[str, ...]) -> M:
    """The workflow's input from the arguments it was started with: one ``model`` (a model, or
    its JSON), or one of the ``released`` positional shapes, each the names of its arguments'
    fields in order (``("context", "request")``)."""
    if len(args) == 1 and _is_input(model, args[0]):
        return model.model_validate(args[0])
    for names in released:
        if len(names) == len(args):
            return model.model_validate(dict(zip(names, args, strict=False)))
    raise InputNotUnderstood(
        f"{model.__name__}: started with {len(args)} argument(s) of an unknown shape"
    )


def _is_input(model: type[BaseModel], value: Any) -> bool:
    if isinstance(value, model):
        return True
    if not isinstance(value, dict):
        return False
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    return required <= value.keys()


class _Input(BaseModel):
    """A field added later has a default (runs started before it lack it); a field this code
    does not know yet (a newer starter, during a rolling deploy) is ignored."""

    model_config = ConfigDict(extra="ignore")


class ReplayInput(_Input):
    """``ReplayWorkflow``: what to replay, and what a continued run carries over."""

    context: OperationContext
    request: ReplayRequest
    carry: ReplayCarry | None = None


class ApprovalInput(_Input):
    """``ApprovalWorkflow`` and ``QuotaRequestWorkflow``: the change request to decide."""

    context: OperationContext
    ticket: ApprovalTicket


class BackupInput(_Input):
    """``BackupWorkflow``: the backup (its rows exist) to take, or only verify."""

    context: OperationContext
    job: BackupJob


class RestoreWorkflowInput(_Input):
    """``RestoreWorkflow``: a ``RestoreJob``, or an approved change's config (a plain dict, that
    the workflow validates: an invalid one fails the operation with the reason)."""

    context: OperationContext
    job: RestoreJob | dict[str, Any]


class MirrorInput(_Input):
    """``MirrorWorkflow``: a ``MirrorJob``, or an approved change's config (validated by the
    workflow, as for a restore)."""

    context: OperationContext
    job: MirrorJob | dict[str, Any]


class FailoverInput(_Input):
    """``FailoverWorkflow``: the measured plan, or an approved change's config (the plan as a
    plain dict, validated by the workflow)."""

    context: OperationContext
    plan: FailoverPlan | dict[str, Any]


class GitOpsSyncInput(_Input):
    """``GitOpsSyncWorkflow``: the sync (its row exists) to plan and apply."""

    context: OperationContext
    data: GitSyncInput


class GitOpsApplyInput(_Input):
    """``GitOpsApplyWorkflow``: an approved sync's change config ({sync_id, repo_id, commit})."""

    context: OperationContext
    config: dict[str, Any]


# An operation workflow (its registered name) -> its input, and the field of the job it runs:
# how the API and the approval workflow start one from a context and a job.
OPERATION_INPUTS: dict[str, tuple[type[BaseModel], str]] = {
    "ReplayWorkflow": (ReplayInput, "request"),
    "BackupWorkflow": (BackupInput, "job"),
    "RestoreWorkflow": (RestoreWorkflowInput, "job"),
    "MirrorWorkflow": (MirrorInput, "job"),
    "FailoverWorkflow": (FailoverInput, "plan"),
    "GitOpsSyncWorkflow": (GitOpsSyncInput, "data"),
    "GitOpsApplyWorkflow": (GitOpsApplyInput, "config"),
    "GitOpsDriftWorkflow": (DriftInput, "scan"),
    "ExportWorkflow": (ExportJob, "request"),
}


def operation_input(workflow: str, context: OperationContext, job: Any, **extra: Any) -> BaseModel:
    """The input ``workflow`` (a registered name) is started with, for ``context`` and its job
    (``extra``: the input's other fields, e.g. an export's chunk size)."""
    model, field = OPERATION_INPUTS[workflow]
    return model(context=context, **{field: job}, **extra)


__all__ = [
    "ApprovalInput",
    "BackupInput",
    "DriftInput",
    "FailoverInput",
    "GitOpsApplyInput",
    "GitOpsSyncInput",
    "InputNotUnderstood",
    "MirrorInput",
    "OPERATION_INPUTS",
    "ReplayInput",
    "RestoreWorkflowInput",
    "from_args",
    "operation_input",
]
