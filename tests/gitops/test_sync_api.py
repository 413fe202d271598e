"""GitOps syncs from outside, against the real stack: a local bare repository is the remote, the
tests commit and push to it, call the webhook as GitHub, GitLab or a generic sender would, and
check the clusters themselves with nats-py."""

from __future__ import annotations

import pytest

from tests.approvals.setup import consumer_exists, production_org
from tests.fixtures import unique, wait_for_audit
from tests.gitops.api_helpers import (
    consumer_item,
    generic_push,
    github_push,
    gitlab_push,
    register_repo,
    stream_manifest,
    wait_sync,
)
from tests.replication.failover_setup import stream_exists

# As NACK's deploy/examples write them (stream.yml and consumer_pull.yml), names made unique.
NACK_STREAM = """---
apiVersion: jetstream.nats.io/v1beta2
kind: Stream
metadata:
  name: {meta}
spec:
  name: {name}
  subjects: ["{subject}.*"]
  storage: file
  maxAge: 1h
  replicas: 1
"""
NACK_CONSUMER = """---
apiVersion: jetstream.nats.io/v1beta2
kind: Consumer
metadata:
  name: my-pull-consumer
spec:
  streamName: {name}
  durableName: my-pull-consumer
  deliverPolicy: all
  filterSubject: {subject}.received
  maxDeliver: 20
  ackPolicy: explicit
"""


@pytest.fixture
def dev(api, stack):
    return production_org(api, stack.env["JSC_HUB_URL"], environment="development")


async def test_a_push_syncs_the_cluster_once_per_commit(dev, git_remote, hub_nc):
    repo = register_repo(dev, git_remote)
    tag = unique("GO").replace("-", "_").upper()
    orders, nack = f"{tag}_ORDERS", f"{tag}_NACK"
    git_remote.write(
        "environments/dev/orders.yaml",
        stream_manifest(orders, consumers=consumer_item("worker", f"{orders.lower()}.created")),
    )
    git_remote.write(
        "environments/dev/nack.yaml",
        NACK_STREAM.format(meta="mystream", name=nack, subject=nack.lower())
        + NACK_CONSUMER.format(name=nack, subject=nack.lower()),
    )
    sha = git_remote.commit("Add the orders and nack streams", author="Jane", email="jane@x.io")

    started = github_push(dev.api, repo["id"], sha, delivery="d-1")
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "started" and started.json()["commit"] == sha
    sync = wait_sync(dev, repo["id"], started.json()["sync_id"])
    assert sync["status"] == "succeeded", sync
    assert (sync["commit"], sync["author"], sync["message"]) == (
        sha,
        "Jane <jane@x.io>",
        "Add the orders and nack streams",
    )
    assert sorted((r["resource"], r["status"]) for r in sync["results"]) == sorted(
        [
            (f"stream {orders}", "applied"),
            (f"consumer {orders}/worker", "applied"),
            (f"stream {nack}", "applied"),
            (f"consumer {nack}/my-pull-consumer", "applied"),
        ]
    )
    info = await hub_nc.jetstream().stream_info(orders)
    assert info.config.subjects == [f"{orders.lower()}.>"] and info.config.max_age == 3600
    consumer = await hub_nc.jetstream().consumer_info(nack, "my-pull-consumer")
    assert consumer.config.max_deliver == 20
    # streams before their consumers
    order = [r["resource"] for r in sync["results"]]
    assert order.index(f"stream {orders}") < order.index(f"consumer {orders}/worker")
    wait_for_audit(
        dev.api,
        dev.admin.headers,
        action="stream.create",
        resource_name=orders,
        user_email=f"gitops:{repo['name']}",
    )
    wait_for_audit(
        dev.api,
        dev.admin.headers,
        action="gitops.webhook",
        user_email="gitops webhook",
        resource_id=repo["id"],
    )

    # the same delivery again, and another delivery of the same commit: nothing new runs
    replay = github_push(dev.api, repo["id"], sha, delivery="d-1")
    assert replay.status_code == 200 and replay.json()["status"] == "ignored"
    assert "replayed delivery" in replay.json()["reason"]
    again = gitlab_push(dev.api, repo["id"], sha)
    assert again.status_code == 200 and "already synced" in again.json()["reason"]
    assert again.json()["sync_id"] == sync["id"]

    # a change of a field, pushed as GitLab would: only that field is updated
    git_remote.write(
        "environments/dev/orders.yaml",
        stream_manifest(
            orders,
            consumers=consumer_item("worker", f"{orders.lower()}.created"),
            extra="  maxMsgsPerSubject: 7\n",
        ),
    )
    second = git_remote.commit("Keep 7 per subject")
    pushed = gitlab_push(dev.api, repo["id"], second)
    assert pushed.status_code == 202, pushed.text
    done = wait_sync(dev, repo["id"], pushed.json()["sync_id"])
    assert done["status"] == "succeeded", done
    [change] = done["plan"]["environments"]["dev"]["changes"]
    assert change["action"] == "update" and [f["field"] for f in change["fields"]] == [
        "max_msgs_per_subject"
    ]
    assert (await hub_nc.jetstream().stream_info(orders)).config.max_msgs_per_subject == 7
    view = dev.api.get(f"/api/v1/gitops/repos/{repo['id']}", headers=dev.admin.headers).json()
    assert view["last_commit"] == second and view["status"]["dev"]["synced"] is True
    assert view["status"]["dev"]["resources"] == 4
    for name in (orders, nack):
        await hub_nc.jetstream().delete_stream(name)


def test_bad_missing_or_replayed_signatures_start_nothing(dev, git_remote):
    repo = register_repo(dev, git_remote)
    git_remote.write("environments/dev/a.yaml", stream_manifest(unique("SIG").upper()))
    sha = git_remote.commit("a")
    unknown = github_push(dev.api, "00000000-0000-4000-8000-000000000000", sha)
    bad = github_push(dev.api, repo["id"], sha, secret="not-the-secret-at-all")
    wrong_token = gitlab_push(dev.api, repo["id"], sha, token="nope-nope-nope-nope")
    bad_generic = generic_push(dev.api, repo["id"], sha, secret="not-the-secret-either")
    missing = dev.api.post(
        f"/api/v1/gitops/webhook/{repo['id']}", json={"ref": "refs/heads/main", "after": sha}
    )
    for reply in (unknown, bad, wrong_token, bad_generic, missing):
        assert reply.status_code == 401, reply.text
        assert reply.headers["content-type"].startswith("application/problem+json")
    assert len({r.json()["detail"] for r in (unknown, bad, missing)}) == 1  # no enumeration
    syncs = dev.api.get(f"/api/v1/gitops/repos/{repo['id']}/syncs", headers=dev.admin.headers)
    assert syncs.json()["items"] == []
    # another branch and a ping are verified but ignored; a manual repository ignores pushes
    other = github_push(dev.api, repo["id"], sha, branch="feature")
    assert other.status_code == 200 and "not to the repository's branch" in other.json()["reason"]
    patched = dev.api.patch(
        f"/api/v1/gitops/repos/{repo['id']}", headers=dev.admin.headers, json={"sync": "manual"}
    )
    assert patched.status_code == 200, patched.text
    manual = generic_push(dev.api, repo["id"], sha)
    assert manual.status_code == 200 and "manually" in manual.json()["reason"]
    assert (
        dev.api.get(f"/api/v1/gitops/repos/{repo['id']}/syncs", headers=dev.admin.headers).json()[
            "items"
        ]
        == []
    )


async def test_a_broken_file_fails_the_sync_before_anything_is_applied(dev, git_remote, hub_nc):
    repo = register_repo(dev, git_remote)
    good = unique("GOOD").upper().replace("-", "_")
    git_remote.write("environments/dev/good.yaml", stream_manifest(good))
    git_remote.write(
        "environments/dev/bad.yaml",
        "apiVersion: nats.io/v1\nkind: Stream\nmetadata:\n  name: BAD\nspec:\n"
        '  subjects: ["bad.>"]\n  maxAge: forever\n',
    )
    git_remote.write("environments/dev/tagged.yaml", "a: !!python/object:os.system x\n")
    sha = git_remote.commit("broken")
    started = generic_push(dev.api, repo["id"], sha)
    assert started.status_code == 202, started.text
    sync = wait_sync(dev, repo["id"], started.json()["sync_id"])
    assert sync["status"] == "failed" and sync["results"] == []
    assert any(e.startswith("environments/dev/bad.yaml:7:") for e in sync["errors"]), sync["errors"]
    assert any(e.startswith("environments/dev/tagged.yaml:1:") for e in sync["errors"])
    assert "nothing was applied" in sync["error"]
    assert not await stream_exists(hub_nc, good)
    view = dev.api.get(f"/api/v1/gitops/repos/{repo['id']}", headers=dev.admin.headers).json()
    assert view["last_sync"]["errors"] == sync["errors"] and view["last_commit"] is None


async def test_a_production_sync_waits_for_one_approval_then_applies(
    api, stack, git_remote, hub_nc
):
    prod = production_org(api, stack.env["JSC_HUB_URL"])
    stream = unique("PRODGIT").upper().replace("-", "_")
    await hub_nc.jetstream().add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
    try:
        repo = register_repo(prod, git_remote, env="production")
        git_remote.write(
            "environments/production/consumers.yaml",
            "".join(
                f"---\napiVersion: nats.io/v1\nkind: Consumer\nmetadata:\n  name: {c}\nspec:\n"
                f"  streamName: {stream}\n  durableName: {c}\n  ackPolicy: explicit\n"
                for c in ("c1", "c2")
            ),
        )
        sha = git_remote.commit("Two consumers")
        started = github_push(api, repo["id"], sha)
        assert started.status_code == 202, started.text
        sync = wait_sync(prod, repo["id"], started.json()["sync_id"], "waiting_approval")
        request = prod.request(sync["request_id"])
        assert request["kind"] == "gitops_sync" and "2 to create" in request["title"]
        assert not await consumer_exists(hub_nc, stream, "c1")
        # one approval covers the whole commit; the repository is no person, so its admin may
        approved = prod.act(prod.admin, sync["request_id"], "approve")
        assert approved.status_code == 200, approved.text
        done = wait_sync(prod, repo["id"], sync["id"], "succeeded", "failed", "partially_applied")
        assert done["status"] == "succeeded", done
        assert await consumer_exists(hub_nc, stream, "c1") and await consumer_exists(
            hub_nc, stream, "c2"
        )
        approvals = api.get("/api/v1/approvals", headers=prod.admin.headers).json()["items"]
        assert [a["id"] for a in approvals if a["kind"] == "gitops_sync"] == [sync["request_id"]]
    finally:
        await hub_nc.jetstream().delete_stream(stream)


async def test_prune_never_deletes_without_approval(dev, git_remote, hub_nc):
    prefix = unique("PRUNE").upper().replace("-", "_")
    keep, drop = f"{prefix}_KEEP", f"{prefix}_DROP"
    repo = register_repo(dev, git_remote, namespaces=[prefix])
    git_remote.write("environments/dev/keep.yaml", stream_manifest(keep))
    git_remote.write("environments/dev/drop.yaml", stream_manifest(drop))
    first = wait_sync(
        dev,
        repo["id"],
        github_push(dev.api, repo["id"], git_remote.commit("two")).json()["sync_id"],
    )
    assert first["status"] == "succeeded", first
    git_remote.remove("environments/dev/drop.yaml")
    removed = git_remote.commit("drop one")
    skipped = wait_sync(
        dev, repo["id"], github_push(dev.api, repo["id"], removed).json()["sync_id"]
    )
    assert skipped["status"] == "no_changes"
    assert [c["resource"] for c in skipped["plan"]["environments"]["dev"]["skipped_deletions"]] == [
        f"stream {drop}"
    ]
    assert await stream_exists(hub_nc, drop)
    # with prune allowed, the deletion still waits for an approval, even in development
    assert (
        dev.api.patch(
            f"/api/v1/gitops/repos/{repo['id']}",
            headers=dev.admin.headers,
            json={"prune": "with_approval"},
        ).status_code
        == 200
    )
    now = dev.api.post(f"/api/v1/gitops/repos/{repo['id']}/sync", headers=dev.admin.headers)
    assert now.status_code == 202, now.text
    waiting = wait_sync(dev, repo["id"], now.json()["sync_id"])
    assert waiting["status"] == "waiting_approval", waiting
    assert await stream_exists(hub_nc, drop)
    # the admin pressed "Sync now": the request is theirs, a second admin approves it
    second = dev.member("admin", "second")
    assert dev.act(dev.admin, waiting["request_id"], "approve").status_code == 403
    assert dev.act(second, waiting["request_id"], "approve").status_code == 200
    done = wait_sync(dev, repo["id"], waiting["id"], "succeeded", "failed", "partially_applied")
    assert done["status"] == "succeeded", done
    assert not await stream_exists(hub_nc, drop) and await stream_exists(hub_nc, keep)
    await hub_nc.jetstream().delete_stream(keep)


async def test_a_partial_failure_records_exactly_what_was_applied(dev, git_remote, hub_nc):
    tag = unique("PART").upper().replace("-", "_")
    taken = f"{tag}_TAKEN"
    await hub_nc.jetstream().add_stream(name=taken, subjects=[f"{tag.lower()}.taken.>"])
    repo = register_repo(dev, git_remote)
    git_remote.write(
        "environments/dev/ok.yaml",
        stream_manifest(f"{tag}_OK", consumers=consumer_item("c", f"{tag.lower()}_ok.x")),
    )
    git_remote.write(
        "environments/dev/clash.yaml",
        stream_manifest(
            f"{tag}_CLASH",
            subjects=[f"{tag.lower()}.taken.>"],
            consumers=consumer_item("c", f"{tag.lower()}.taken.x"),
        ),
    )
    sync = wait_sync(
        dev,
        repo["id"],
        github_push(dev.api, repo["id"], git_remote.commit("one clashes")).json()["sync_id"],
    )
    assert sync["status"] == "partially_applied", sync
    results = {r["resource"]: r for r in sync["results"]}
    assert results[f"stream {tag}_OK"]["status"] == "applied"
    assert results[f"consumer {tag}_OK/c"]["status"] == "applied"
    assert results[f"stream {tag}_CLASH"]["status"] == "failed"
    assert "overlap" in results[f"stream {tag}_CLASH"]["error"]
    assert results[f"consumer {tag}_CLASH/c"]["status"] == "skipped"
    assert f"stream {tag}_CLASH" in sync["error"]
    assert not await stream_exists(hub_nc, f"{tag}_CLASH")
    for name in (taken, f"{tag}_OK"):
        await hub_nc.jetstream().delete_stream(name)


def test_a_plan_is_shown_without_applying(dev, git_remote):
    repo = register_repo(dev, git_remote)
    name = unique("PLAN").upper().replace("-", "_")
    git_remote.write("environments/dev/p.yaml", stream_manifest(name))
    sha = git_remote.commit("plan me")
    reply = dev.api.get(f"/api/v1/gitops/repos/{repo['id']}/plan", headers=dev.admin.headers)
    assert reply.status_code == 200, reply.text
    plan = reply.json()
    assert plan["commit"] == sha and plan["errors"] == []
    [change] = plan["environments"]["dev"]["changes"]
    assert (change["action"], change["resource"], change["source"]) == (
        "create",
        f"stream {name}",
        "environments/dev/p.yaml:1",
    )
    assert "1 to create" in plan["summary"] and f"+ create stream {name}" in plan["diff"]
    again = dev.api.get(f"/api/v1/gitops/repos/{repo['id']}/plan", headers=dev.admin.headers)
    assert again.json()["environments"]["dev"]["changes"][0]["action"] == "create"  # not applied
    bad = dev.api.get(
        f"/api/v1/gitops/repos/{repo['id']}/plan",
        params={"ref": "--upload-pack=x"},
        headers=dev.admin.headers,
    )
    assert bad.status_code == 422
    assert (
        dev.api.get(f"/api/v1/gitops/repos/{repo['id']}/syncs", headers=dev.admin.headers).json()[
            "items"
        ]
        == []
    )
