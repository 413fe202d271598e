"""Each operation workflow reads one typed input (``workflows.inputs``), and still reads the
positional shapes released versions started it with: as Temporal hands them to ``run(*args)``
(plain JSON values), whichever way the run was started."""

from __future__ import annotations

import uuid

import pytest

from core.backups.jobs import BackupJob
from core.operations import OperationContext
from core.replay.models import ReplayCarry
from gitops.jobs import DriftScan
from workflows.inputs import (
    OPERATION_INPUTS,
    BackupInput,
    DriftInput,
    FailoverInput,
    GitOpsApplyInput,
    InputNotUnderstood,
    MirrorInput,
    ReplayInput,
    from_args,
    operation_input,
)
from workflows.replay import RELEASED_SHAPES
from workflows.worker import WORKFLOWS

CONTEXT = OperationContext(
    operation_id=str(uuid.uuid4()),
    org_id=str(uuid.uuid4()),
    user_id=str(uuid.uuid4()),
    user_email="a@example.com",
    type="replay",
)
REQUEST = {
    "cluster_id": str(uuid.uuid4()),
    "stream": "ORDERS",
    "destination": {"stream": "ORDERS_COPY", "subject_prefix": "copy"},
}


def as_sent(value) -> object:
    """What a workflow's ``run(*args)`` receives: the JSON of what was sent."""
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def test_the_typed_input_is_read_as_it_was_sent():
    sent = ReplayInput(context=CONTEXT, request=REQUEST, carry=ReplayCarry(chunks_per_run=3))
    read = from_args(ReplayInput, [as_sent(sent)], *RELEASED_SHAPES)
    assert read == sent and read.carry.chunks_per_run == 3
    assert from_args(ReplayInput, [sent], *RELEASED_SHAPES) == sent  # a model in-process


def test_a_replay_started_positionally_by_a_release_is_read_field_by_field():
    two = from_args(ReplayInput, [as_sent(CONTEXT), REQUEST], *RELEASED_SHAPES)
    assert two.context == CONTEXT and two.request.stream == "ORDERS" and two.carry is None
    carried = ReplayCarry(chunks_per_run=1, runs=2).model_dump(mode="json")
    three = from_args(ReplayInput, [as_sent(CONTEXT), REQUEST, carried], *RELEASED_SHAPES)
    assert three.carry == ReplayCarry(chunks_per_run=1, runs=2)


def test_a_field_an_older_worker_does_not_know_is_ignored():
    newer = {
        **as_sent(BackupInput(context=CONTEXT, job=BackupJob(backup_id="b1"))),
        "priority": "high",
    }
    read = from_args(BackupInput, [newer], ("context", "job"))
    assert read.job.backup_id == "b1" and not hasattr(read, "priority")


def test_a_drift_scan_tells_a_schedules_old_start_from_its_new_input():
    scan = DriftScan(repo_id="r1", org_id="o1")
    shapes = (("scan",), ("context", "scan"))
    old_schedule = from_args(DriftInput, [as_sent(scan)], *shapes)
    assert old_schedule == DriftInput(scan=scan) and old_schedule.context is None
    old_operation = from_args(DriftInput, [as_sent(CONTEXT), as_sent(scan)], *shapes)
    assert old_operation.context == CONTEXT and old_operation.scan == scan
    new_schedule = from_args(DriftInput, [as_sent(DriftInput(scan=scan))], *shapes)
    assert new_schedule == DriftInput(scan=scan)


def test_arguments_of_no_known_shape_are_refused_with_the_input_named():
    with pytest.raises(InputNotUnderstood, match="BackupInput"):
        from_args(BackupInput, [as_sent(CONTEXT), {"backup_id": "b"}, {}], ("context", "job"))
    with pytest.raises(InputNotUnderstood, match="BackupInput"):
        from_args(BackupInput, [{"job": {"backup_id": "b"}}], ("context", "job"))


def test_an_approved_changes_config_reaches_the_workflow_as_it_was_approved():
    """The approval workflow starts an operation with the change's config (a plain dict): an
    invalid one is left for the workflow to refuse with the reason, not dropped on the way."""
    mirror = operation_input("MirrorWorkflow", CONTEXT, {"mirrors": "not a list"})
    assert isinstance(mirror, MirrorInput) and mirror.job == {"mirrors": "not a list"}
    failover = operation_input("FailoverWorkflow", CONTEXT, {"pair_id": "p"})
    assert isinstance(failover, FailoverInput) and failover.plan == {"pair_id": "p"}
    apply = operation_input("GitOpsApplyWorkflow", CONTEXT, {"sync_id": "s"})
    assert isinstance(apply, GitOpsApplyInput) and apply.config == {"sync_id": "s"}


def test_every_operation_input_names_a_registered_workflow():
    registered = {w.__temporal_workflow_definition.name for w in WORKFLOWS}
    assert set(OPERATION_INPUTS) <= registered
