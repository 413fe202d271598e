"""The GitOps workflows' determinism: real runs' histories replay with the current code (the
committed ``gitops_sync.json``, ``gitops_sync_approval.json``, ``gitops_apply.json`` and
``gitops_drift_revert.json``, and the one-typed-input versions ``gitops_sync_single_input.json``,
``gitops_drift_single_input.json``, ``gitops_apply_single_input.json``, are replayed by
``tests/workflows``; set JSC_RECORD_HISTORIES=1 to record a new version under a new name: the runs
named ``None`` record no new version)."""

from __future__ import annotations

from core.operations import request_operation_id, workflow_id_for
from tests.approvals.setup import production_org
from tests.backups.api_helpers import temporal_client
from tests.fixtures import unique
from tests.gitops.api_helpers import github_push, register_repo, stream_manifest, wait_sync
from tests.gitops.test_drift_api import drift
from tests.workflows.recorded import record_new, replay_failure
from workflows.worker import WORKFLOWS


async def replays(stack, workflow_id: str, name: str | None) -> None:
    client = await temporal_client(stack)
    handle = client.get_workflow_handle(workflow_id)
    await handle.result()
    history = await handle.fetch_history()
    assert await replay_failure(history, WORKFLOWS) is None
    if name is not None:
        record_new(history, name)


async def test_sync_apply_and_drift_runs_replay(api, stack, git_remote, hub_nc):
    dev = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    name = unique("HIST").upper().replace("-", "_")
    repo = register_repo(
        dev, git_remote, on_drift="revert", prune="with_approval", namespaces=[name]
    )
    git_remote.write("environments/dev/s.yaml", stream_manifest(name))
    applied = wait_sync(
        dev,
        repo["id"],
        github_push(api, repo["id"], git_remote.commit("s")).json()["sync_id"],
        "succeeded",
    )
    await replays(stack, workflow_id_for("gitops_sync", applied["id"]), None)

    js = hub_nc.jetstream()
    info = await js.stream_info(name)
    info.config.max_age = 600
    await js.update_stream(info.config)
    started = api.post(f"/api/v1/gitops/repos/{repo['id']}/drift/scan", headers=dev.admin.headers)
    assert started.status_code == 202, started.text
    await replays(stack, started.json()["workflow_id"], "gitops_drift_single_input.json")
    items = drift(dev, repo["id"])
    revert = wait_sync(
        dev, repo["id"], items[f"stream {name}"]["remediation"]["sync_id"], "succeeded"
    )
    assert revert["trigger"] == "drift_revert"

    git_remote.remove("environments/dev/s.yaml")  # a deletion: approval even in development
    waiting = wait_sync(
        dev,
        repo["id"],
        github_push(api, repo["id"], git_remote.commit("prune s")).json()["sync_id"],
        "waiting_approval",
    )
    await replays(
        stack, workflow_id_for("gitops_sync", waiting["id"]), "gitops_sync_single_input.json"
    )
    assert dev.act(dev.admin, waiting["request_id"], "approve").status_code == 200
    wait_sync(dev, repo["id"], waiting["id"], "succeeded")
    apply_op = request_operation_id(waiting["request_id"], "gitops_sync")
    await replays(stack, workflow_id_for("gitops_sync", apply_op), "gitops_apply_single_input.json")
    assert (
        api.delete(f"/api/v1/gitops/repos/{repo['id']}", headers=dev.admin.headers).status_code
        == 204
    )
