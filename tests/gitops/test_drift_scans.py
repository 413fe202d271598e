"""Drift scans from outside, beyond the main path of test_drift_api.py:

- a scan asked for is an operation (``gitops_drift``) followed at /api/v1/operations; a broken tree
  or a remote that is gone fails it, with ``last_scan.error`` saying why and no drift row changed;
- a resource the repository's sync applied and git no longer has is unmanaged (a revert deletes
  it only when the repository prunes, with an approval); one created outside the console in a
  managed namespace is dated by the cluster's own creation time; "update git" writes both the
  missing and the unmanaged back as git must say them (the branch plans nothing);
- a change approved through the console's change gate is attributed to its requester and
  approvers; a revert an approver refuses leaves the item open again, saying so;
- the drift schedule follows its repository (interval, deletion) and its runs scan;
- an environment whose cluster cannot be read keeps its rows while the others are scanned.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.service import RPCError

from tests.api.orgs import invite
from tests.approvals.setup import production_org
from tests.backups.api_helpers import temporal_client
from tests.fixtures import register, unique
from tests.gitops.api_helpers import (
    consumer_item,
    github_push,
    register_repo,
    stream_manifest,
    wait_sync,
)
from tests.gitops.test_drift_api import drift, remediate
from tests.gitops.test_gitops_history import replays
from tests.waiting import wait_until

FINISHED = ("completed", "failed", "cancelled")


def name_of(prefix: str) -> str:
    return unique(prefix).upper().replace("-", "_")


def as_time(value) -> datetime:
    """nats-py leaves a stream info's ``created`` as the server's RFC 3339 text (nanoseconds)."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def operation(org, operation_id: str) -> dict:
    reply = org.api.get(f"/api/v1/operations/{operation_id}", headers=org.admin.headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def scan_op(org, repo_id: str, key: str | None = None) -> dict:
    """Ask for a scan and wait for its operation to finish: the operation."""
    headers = {**org.admin.headers, **({"Idempotency-Key": key} if key else {})}
    started = org.api.post(f"/api/v1/gitops/repos/{repo_id}/drift/scan", headers=headers)
    assert started.status_code == 202, started.text
    body = started.json()
    assert set(body) == {"operation_id", "workflow_id", "status"}, body

    def finished():
        op = operation(org, body["operation_id"])
        return op if op["status"] in FINISHED else None

    return wait_until(finished, f"drift scan operation {body['operation_id']}", timeout=120)


def drift_list(org, repo_id: str) -> dict:
    reply = org.api.get(f"/api/v1/gitops/repos/{repo_id}/drift", headers=org.admin.headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def approve(org, who, request_id: str) -> None:
    """Approve once the request takes votes (its approval workflow may still be starting)."""
    wait_until(
        lambda: org.act(who, request_id, "approve").status_code == 200,
        f"request {request_id} to take the approval",
        timeout=60,
        every=0.5,
    )


async def test_a_scan_is_an_operation_and_what_cannot_be_read_changes_nothing(
    api, stack, git_remote
):
    dev = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    name = name_of("NEVERSYNCED")
    repo = register_repo(dev, git_remote, sync="manual")  # scans the branch: never synced
    git_remote.write("environments/dev/s.yaml", stream_manifest(name))
    git_remote.commit("s")

    op = scan_op(dev, repo["id"], key="first")
    assert op["type"] == "gitops_drift" and op["status"] == "completed", op
    assert op["result"]["open"] == 1 and op["result"]["error"] is None
    await replays(stack, op["workflow_id"], "gitops_drift_operation.json")
    again = api.post(
        f"/api/v1/gitops/repos/{repo['id']}/drift/scan",
        headers={**dev.admin.headers, "Idempotency-Key": "first"},
    )
    assert again.status_code == 202 and again.json()["operation_id"] == op["id"]
    before = drift_list(dev, repo["id"])
    [item] = before["items"]
    assert (item["resource"], item["drift_type"], item["status"]) == (
        f"stream {name}",
        "missing",
        "open",
    )
    assert item["source"] == "environments/dev/s.yaml:1"
    assert item["changed_by"]["source"] == "outside" and "at" not in item["changed_by"]

    # every role reads drift; only those with gitops:sync scan or remediate
    base = f"/api/v1/gitops/repos/{repo['id']}/drift"
    for role in ("viewer", "member", "operator"):
        who = invite(api, dev.admin, role)
        assert api.get(base, headers=who.headers).status_code == 200, role
        assert api.post(f"{base}/scan", headers=who.headers).status_code == 403, role
        assert (
            remediate(dev, repo["id"], who, action="ignore", items=[item["id"]]).status_code == 403
        ), role
    editor = invite(api, dev.admin, "editor")
    ignored = remediate(
        dev, repo["id"], editor, action="ignore", items=[item["id"]], ignore_for="1h"
    )
    assert ignored.status_code == 200, ignored.text
    [view] = ignored.json()["items"]
    assert view["status"] == "ignored" and view["remediation"]["by"] == editor.email
    assert view["changed_by"]["source"] == "outside"
    by_editor = api.post(f"{base}/scan", headers=editor.headers)
    assert by_editor.status_code == 202, by_editor.text
    wait_until(
        lambda: operation(dev, by_editor.json()["operation_id"])["status"] == "completed",
        "the editor's scan",
        timeout=120,
    )
    before = drift_list(dev, repo["id"])
    assert before["items"][0]["status"] == "ignored"  # a scan leaves an ignore until it expires

    # a broken file: the scan fails saying where, and no row changes
    git_remote.write("environments/dev/broken.yaml", "apiVersion: nats.io/v1\nkind: [\n")
    git_remote.commit("broken")
    op = scan_op(dev, repo["id"])
    assert op["status"] == "failed" and "environments/dev/broken.yaml:" in op["error"], op
    after = drift_list(dev, repo["id"])
    assert "broken.yaml" in after["error"] and after["items"] == before["items"]

    # the remote is gone: the same
    moved = git_remote.bare.with_name(git_remote.bare.name + ".away")
    git_remote.bare.rename(moved)
    try:
        op = scan_op(dev, repo["id"])
        assert op["status"] == "failed" and "cannot be read" in op["error"], op
        after = drift_list(dev, repo["id"])
        assert "cannot be read" in after["error"] and after["items"] == before["items"]
        assert "token" not in after["error"].lower()
    finally:
        moved.rename(git_remote.bare)

    # ids of another repository of the same organization are refused; expiries are checked
    other = register_repo(dev, git_remote, name=unique("other-repo"), sync="manual")
    refused = remediate(dev, other["id"], action="ignore", items=[item["id"]])
    assert refused.status_code == 404, refused.text
    for body, where in (
        ({"ignore_for": "91d"}, "ignore_for"),
        ({"ignore_for": "soon"}, "ignore_for"),
        ({"ignore_until": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}, "ignore_until"),
        (
            {
                "ignore_for": "1d",
                "ignore_until": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            },
            "not both",
        ),
    ):
        reply = remediate(dev, repo["id"], action="ignore", items=[item["id"]], **body)
        assert reply.status_code == 422 and where in reply.text, (body, reply.text)
    assert drift(dev, repo["id"])[f"stream {name}"]["status"] == "ignored"


async def test_removed_from_git_or_created_outside_is_unmanaged_and_git_takes_it_back(
    api, stack, git_remote, hub_nc
):
    dev = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    prefix = name_of("NS")
    kept, gone, extra = f"{prefix}_KEPT", f"{prefix}_GONE", f"{prefix}_EXTRA"
    applied = name_of("APPLIED")  # outside the namespace: managed because a sync applied it
    repo = register_repo(dev, git_remote, namespaces=[prefix])
    git_remote.write(
        "environments/dev/kept.yaml",
        stream_manifest(kept, consumers=consumer_item("w", f"{kept.lower()}.x")),
    )
    git_remote.write("environments/dev/gone.yaml", stream_manifest(gone))
    git_remote.write("environments/dev/applied.yaml", stream_manifest(applied))
    synced = wait_sync(
        dev, repo["id"], github_push(api, repo["id"], git_remote.commit("three")).json()["sync_id"]
    )
    assert synced["status"] == "succeeded", synced
    js = hub_nc.jetstream()
    try:
        git_remote.remove("environments/dev/applied.yaml")
        removed = wait_sync(
            dev,
            repo["id"],
            github_push(api, repo["id"], git_remote.commit("no more applied")).json()["sync_id"],
        )
        assert removed["status"] == "no_changes", removed  # prune never: nothing deleted
        assert [
            c["resource"] for c in removed["plan"]["environments"]["dev"]["skipped_deletions"]
        ] == [f"stream {applied}"]
        await js.delete_stream(gone)  # behind the platform's back
        await js.add_stream(name=extra, subjects=[f"{extra.lower()}.>"])
        created = as_time((await js.stream_info(extra)).created)

        assert scan_op(dev, repo["id"])["status"] == "completed"
        items = drift(dev, repo["id"])
        assert {r: i["drift_type"] for r, i in items.items()} == {
            f"stream {gone}": "missing",
            f"stream {extra}": "unmanaged",
            f"stream {applied}": "unmanaged",
        }
        who = items[f"stream {extra}"]["changed_by"]
        assert who["source"] == "outside" and "created" in who["note"]
        assert abs(datetime.fromisoformat(who["at"]) - created) < timedelta(seconds=1)
        assert "at" not in items[f"stream {gone}"]["changed_by"]

        # a revert would delete it: refused while the repository never prunes
        refused = remediate(
            dev, repo["id"], action="revert", items=[items[f"stream {applied}"]["id"]]
        )
        assert refused.status_code == 422 and "prune" in refused.text, refused.text

        # update git: the missing one leaves git, the unmanaged one enters it
        pushed = remediate(
            dev,
            repo["id"],
            action="update_git",
            items=[items[f"stream {gone}"]["id"], items[f"stream {extra}"]["id"]],
        )
        assert pushed.status_code == 201, pushed.text
        branch = pushed.json()["branch"]
        assert branch.startswith("jsc/drift-")
        assert f"name: {gone}" not in git_remote.show(branch, "environments/dev/gone.yaml")
        assert f"name: {extra}" in git_remote.show(branch, f"environments/dev/{extra}.yaml")
        assert f"name: {gone}" in git_remote.show("main", "environments/dev/gone.yaml")
        planned = api.get(
            f"/api/v1/gitops/repos/{repo['id']}/plan",
            headers=dev.admin.headers,
            params={"ref": branch},
        )
        assert planned.status_code == 200, planned.text
        assert (
            planned.json()["errors"] == []
            and planned.json()["environments"]["dev"]["changes"] == []
        ), planned.json()
        assert drift(dev, repo["id"])[f"stream {gone}"]["remediation"]["branch"] == branch

        # with prune allowed, the revert deletes it once an approver agrees (even in development)
        assert (
            api.patch(
                f"/api/v1/gitops/repos/{repo['id']}",
                headers=dev.admin.headers,
                json={"prune": "with_approval"},
            ).status_code
            == 200
        )
        reverted = remediate(
            dev, repo["id"], action="revert", items=[items[f"stream {applied}"]["id"]]
        )
        assert reverted.status_code == 202, reverted.text
        waiting = wait_sync(dev, repo["id"], reverted.json()["sync_id"])
        assert waiting["status"] == "waiting_approval", waiting
        assert [c["action"] for c in waiting["plan"]["environments"]["dev"]["changes"]] == [
            "delete"
        ]
        approve(dev, dev.member("admin", "second"), waiting["request_id"])
        wait_sync(dev, repo["id"], waiting["id"], "succeeded")
        assert scan_op(dev, repo["id"])["status"] == "completed"
        assert f"stream {applied}" not in drift(dev, repo["id"])
    finally:
        for name in (kept, gone, extra, applied):
            try:
                await js.delete_stream(name)
            except Exception:  # noqa: BLE001 - already gone
                pass


async def test_an_approved_console_change_is_attributed_and_a_refused_revert_reopens(
    api, stack, git_remote, hub_nc
):
    prod = production_org(api, stack.env["JSC_HUB_URL"])
    stream = name_of("PRODATTR")
    second = prod.member("admin", "second")
    js = hub_nc.jetstream()
    await js.add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
    try:
        repo = register_repo(prod, git_remote, env="production")
        git_remote.write(
            "environments/production/c.yaml",
            f"apiVersion: nats.io/v1\nkind: Consumer\nmetadata:\n  name: c\nspec:\n"
            f"  streamName: {stream}\n  durableName: c\n  ackPolicy: explicit\n"
            f"  maxAckPending: 100\n",
        )
        first = wait_sync(
            prod, repo["id"], github_push(api, repo["id"], git_remote.commit("c")).json()["sync_id"]
        )
        assert first["status"] == "waiting_approval", first
        approve(prod, prod.admin, first["request_id"])
        wait_sync(prod, repo["id"], first["id"], "succeeded")

        editor = invite(api, prod.admin, "editor")
        asked = api.patch(
            f"/api/v1/clusters/{prod.cluster_id}/streams/{stream}/consumers/c",
            headers=editor.headers,
            json={"max_ack_pending": 5000},
        )
        assert asked.status_code == 202, asked.text
        approve(prod, prod.admin, asked.json()["request_id"])
        wait_until(
            lambda: prod.request(asked.json()["request_id"])["status"] == "executed",
            "the change to be executed",
            timeout=60,
        )

        assert scan_op(prod, repo["id"])["status"] == "completed"
        item = drift(prod, repo["id"])[f"consumer {stream}/c"]
        assert item["fields"] == [{"field": "max_ack_pending", "git": 100, "live": 5000}]
        who = item["changed_by"]
        assert who["source"] == "console" and who["actor"] == editor.email, who
        assert who["request_id"] == asked.json()["request_id"]
        assert who["approved_by"] == [prod.admin.email] and who["at"]

        # the revert waits for an approval; refused, the item is open again and says so
        reverted = remediate(prod, repo["id"], action="revert", items=[item["id"]])
        assert reverted.status_code == 202, reverted.text
        waiting = wait_sync(prod, repo["id"], reverted.json()["sync_id"])
        assert waiting["status"] == "waiting_approval", waiting
        wait_until(
            lambda: prod.act(second, waiting["request_id"], "reject", "not now").status_code == 200,
            "the revert's request to take the rejection",
            timeout=60,
            every=0.5,
        )
        wait_sync(prod, repo["id"], waiting["id"], "rejected")
        assert scan_op(prod, repo["id"])["status"] == "completed"
        again = drift(prod, repo["id"])[f"consumer {stream}/c"]
        assert again["status"] == "open" and again["remediation"]["action"] == "revert"
        assert "not fixed" in again["remediation"]["outcome"]
        assert (await js.consumer_info(stream, "c")).config.max_ack_pending == 5000
    finally:
        await js.delete_stream(stream)


async def test_the_drift_schedule_follows_its_repository_and_scans(api, stack, git_remote):
    dev = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    name = name_of("SCHEDULED")
    repo = register_repo(dev, git_remote, sync="manual", interval="45s")
    git_remote.write("environments/dev/s.yaml", stream_manifest(name))
    git_remote.commit("s")
    client = await temporal_client(stack)
    handle = client.get_schedule_handle(f"gitops-drift-{repo['id']}")
    described = await handle.describe()
    assert described.schedule.spec.intervals[0].every == timedelta(seconds=45)

    await handle.trigger()  # a routine run, as the schedule starts it
    last = wait_until(
        lambda: drift_list(dev, repo["id"])["scanned_at"], "the scheduled scan", timeout=120
    )
    assert last and drift(dev, repo["id"])[f"stream {name}"]["drift_type"] == "missing"
    runs = api.get("/api/v1/operations", headers=dev.admin.headers, params={"type": "gitops_drift"})
    assert runs.status_code == 200 and runs.json()["items"] == []  # routine: no operation

    assert (
        api.patch(
            f"/api/v1/gitops/repos/{repo['id']}", headers=dev.admin.headers, json={"interval": "2m"}
        ).status_code
        == 200
    )
    described = await handle.describe()
    assert described.schedule.spec.intervals[0].every == timedelta(minutes=2)
    assert (
        api.delete(f"/api/v1/gitops/repos/{repo['id']}", headers=dev.admin.headers).status_code
        == 204
    )
    with pytest.raises(RPCError):
        await handle.describe()


async def test_an_unreadable_cluster_keeps_its_rows_while_the_others_are_scanned(
    api, stack, git_remote, hub_nc, dr_nc
):
    dev = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    dr = register(api, dev.admin.headers, stack.env["JSC_DR_URL"], domain="dr")
    hub_name, dr_name = name_of("ONHUB"), name_of("ONDR")
    body = {
        "url": git_remote.url,
        "environments": {"dev": dev.cluster_id, "dr": dr["id"]},
        "sync": "manual",
    }
    created = api.post("/api/v1/gitops/repos", headers=dev.admin.headers, json=body)
    assert created.status_code == 201, created.text
    repo = created.json()
    git_remote.write("environments/dev/h.yaml", stream_manifest(hub_name))
    git_remote.write("environments/dr/d.yaml", stream_manifest(dr_name))
    git_remote.commit("one per cluster")
    assert scan_op(dev, repo["id"])["status"] == "completed"
    before = drift(dev, repo["id"])
    assert {i["environment"] for i in before.values()} == {"dev", "dr"}

    stack.stop_service("dr")
    try:
        await hub_nc.jetstream().add_stream(
            name=hub_name, subjects=[f"{hub_name.lower()}.>"], max_age=3600
        )  # as git says it
        op = scan_op(dev, repo["id"])
        assert op["status"] == "failed" and "environment dr" in op["error"], op
        after = drift(dev, repo["id"])
        assert f"stream {hub_name}" not in after  # dev scanned: created, so resolved
        assert after[f"stream {dr_name}"] == before[f"stream {dr_name}"]  # dr kept as it was
        assert "environment dr" in drift_list(dev, repo["id"])["error"]
    finally:
        stack.start_service("dr")
        await hub_nc.jetstream().delete_stream(hub_name)
