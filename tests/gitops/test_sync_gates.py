"""GitOps syncs and the change gate, from outside: what never happens without a person's
approval (a replace, even in development), what a policy or an approver refuses (nothing
applied, the sync says so), and what the webhook refuses or ignores before any work (replays of
every provider, bodies over 1 MiB, a repository without a secret). Buckets, object stores and
NACK's push consumer example are synced like streams. Checked against the hub with nats-py."""

from __future__ import annotations

import shutil
import socket

import pytest
from nats.js.errors import NotFoundError

from tests.approvals.setup import production_org
from tests.fixtures import unique
from tests.gitops.api_helpers import (
    SECRET,
    generic_push,
    github_push,
    gitlab_push,
    register_repo,
    stream_manifest,
    wait_sync,
)
from tests.waiting import wait_until

SETTLED = ("succeeded", "failed", "partially_applied", "rejected")


@pytest.fixture
def dev(api, stack):
    return production_org(api, stack.env["JSC_HUB_URL"], environment="development")


def _name(prefix: str) -> str:
    return unique(prefix).upper().replace("-", "_")


async def _stream(nc, name: str):
    try:
        return await nc.jetstream().stream_info(name)
    except NotFoundError:
        return None


async def test_a_replace_waits_for_approval_even_in_development(dev, git_remote, hub_nc):
    name = _name("REPL")
    repo = register_repo(dev, git_remote)
    git_remote.write("environments/dev/s.yaml", stream_manifest(name))
    first = wait_sync(
        dev,
        repo["id"],
        github_push(dev.api, repo["id"], git_remote.commit("a file stream")).json()["sync_id"],
    )
    assert first["status"] == "succeeded", first
    await hub_nc.jetstream().publish(f"{name.lower()}.x", b"kept until the replace")

    git_remote.write(
        "environments/dev/s.yaml", stream_manifest(name).replace("storage: file", "storage: memory")
    )
    pushed = github_push(dev.api, repo["id"], git_remote.commit("memory storage"))
    sync = wait_sync(dev, repo["id"], pushed.json()["sync_id"])
    assert sync["status"] == "waiting_approval", sync
    [change] = sync["plan"]["environments"]["dev"]["changes"]
    assert change["action"] == "replace" and "storage" in change["reason"]
    assert [f["field"] for f in change["fields"]] == ["storage"]
    request = dev.request(sync["request_id"])
    assert request["kind"] == "gitops_sync" and "1 to replace" in request["title"]
    info = await _stream(hub_nc, name)
    assert str(info.config.storage).endswith("file") and info.state.messages == 1  # untouched

    # a viewer cannot approve; the admin may (a push is the repository's, not the admin's)
    viewer = dev.member("viewer")
    assert dev.act(viewer, sync["request_id"], "approve").status_code == 403
    assert dev.act(dev.admin, sync["request_id"], "approve").status_code == 200
    done = wait_sync(dev, repo["id"], sync["id"], *SETTLED)
    assert done["status"] == "succeeded", (done["results"], done["error"])
    assert [(r["resource"], r["action"], r["status"]) for r in done["results"]] == [
        (f"stream {name}", "replace", "applied")
    ]
    info = await _stream(hub_nc, name)
    assert str(info.config.storage).endswith("memory") and info.state.messages == 0
    await hub_nc.jetstream().delete_stream(name)


async def test_an_approver_rejecting_the_request_applies_nothing(api, stack, git_remote, hub_nc):
    prod = production_org(api, stack.env["JSC_HUB_URL"])
    stream = _name("REJ")
    await hub_nc.jetstream().add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
    try:
        repo = register_repo(prod, git_remote, env="production")
        git_remote.write(
            "environments/production/c.yaml",
            "apiVersion: nats.io/v1\nkind: Consumer\nmetadata:\n  name: c1\nspec:\n"
            f"  streamName: {stream}\n  durableName: c1\n  ackPolicy: explicit\n",
        )
        started = gitlab_push(api, repo["id"], git_remote.commit("a consumer"))
        assert started.status_code == 202, started.text
        sync = wait_sync(prod, repo["id"], started.json()["sync_id"], "waiting_approval")
        rejected = prod.act(prod.admin, sync["request_id"], "reject", "not this week")
        assert rejected.status_code == 200, rejected.text
        done = wait_sync(prod, repo["id"], sync["id"], "rejected")
        assert done["results"] == []
        with pytest.raises(NotFoundError):
            await hub_nc.jetstream().consumer_info(stream, "c1")
        view = api.get(f"/api/v1/gitops/repos/{repo['id']}", headers=prod.admin.headers).json()
        assert view["last_sync"]["status"] == "rejected" and view["last_commit"] is None
    finally:
        await hub_nc.jetstream().delete_stream(stream)


async def test_a_policy_rejection_is_the_syncs_status(api, stack, git_remote, hub_nc):
    """The seeded production policy refuses a stream with fewer than 3 replicas."""
    prod = production_org(api, stack.env["JSC_HUB_URL"])
    name = _name("ONE")
    repo = register_repo(prod, git_remote, env="production")
    git_remote.write("environments/production/s.yaml", stream_manifest(name))
    sync = wait_sync(
        prod,
        repo["id"],
        generic_push(api, repo["id"], git_remote.commit("one replica")).json()["sync_id"],
    )
    assert sync["status"] == "rejected", sync
    assert "at least 3 replicas" in sync["error"] and sync["request_id"] is None
    assert sync["results"] == [] and await _stream(hub_nc, name) is None


def test_replays_of_every_provider_and_oversized_or_unsigned_bodies(dev, git_remote):
    repo = register_repo(dev, git_remote)
    git_remote.write("environments/dev/a.yaml", stream_manifest(_name("RPL")))
    sha = git_remote.commit("a")
    first = gitlab_push(dev.api, repo["id"], sha, delivery="gl-1")
    assert first.status_code == 202, first.text
    for again in (
        gitlab_push(dev.api, repo["id"], sha, delivery="gl-1"),
        generic_push(dev.api, repo["id"], sha, delivery="gen-1"),
        generic_push(dev.api, repo["id"], sha, delivery="gen-1"),
    ):
        assert again.status_code == 200 and again.json()["status"] == "ignored", again.text
    replayed = generic_push(dev.api, repo["id"], sha, delivery="gen-1")
    assert replayed.json()["reason"] == "replayed delivery gen-1"
    assert (
        len(
            dev.api.get(
                f"/api/v1/gitops/repos/{repo['id']}/syncs", headers=dev.admin.headers
            ).json()["items"]
        )
        == 1
    )
    wait_sync(dev, repo["id"], first.json()["sync_id"])

    huge = dev.api.post(
        f"/api/v1/gitops/webhook/{repo['id']}",
        content=b"x" * (1024 * 1024 + 1),
        headers={"X-JSC-Delivery": "big", "X-JSC-Signature": "sha256=00"},
    )
    assert huge.status_code == 413, huge.text

    # a repository without a webhook secret answers a correctly signed call as any other 401
    quiet = dev.api.post(
        "/api/v1/gitops/repos",
        headers=dev.admin.headers,
        json={
            "name": unique("quiet"),
            "url": git_remote.url,
            "environments": {"dev": dev.cluster_id},
        },
    )
    assert quiet.status_code == 201, quiet.text
    unsigned = github_push(dev.api, quiet.json()["id"], sha, secret=SECRET)
    unknown = github_push(dev.api, "11111111-1111-4111-8111-111111111111", sha)
    assert unsigned.status_code == unknown.status_code == 401
    assert unsigned.json()["detail"] == unknown.json()["detail"]
    assert (
        dev.api.get(
            f"/api/v1/gitops/repos/{quiet.json()['id']}/syncs", headers=dev.admin.headers
        ).json()["items"]
        == []
    )


# NACK's deploy/examples/consumer_push.yml (stream renamed), and KeyValue / ObjectStore as
# NACK's v1beta2 types spell them (spec.bucket, history, ttl, maxBytes, ...).
NACK_PUSH = """---
apiVersion: jetstream.nats.io/v1beta2
kind: Consumer
metadata:
  name: my-push-consumer
spec:
  streamName: {stream}
  durableName: my-push-consumer
  deliverSubject: my-push-consumer.{subject}
  deliverPolicy: last
  ackPolicy: none
  replayPolicy: instant
  description: my consumer description
  flowControl: true
  heartbeatInterval: 1s
"""
NACK_BUCKETS = """---
apiVersion: jetstream.nats.io/v1beta2
kind: KeyValue
metadata:
  name: settings
spec:
  bucket: {kv}
  description: settings of the team
  history: 5
  ttl: 1h
  maxBytes: 1048576
---
apiVersion: jetstream.nats.io/v1beta2
kind: ObjectStore
metadata:
  name: files
spec:
  bucket: {obj}
  description: the team's files
  maxBytes: 4194304
"""


async def test_buckets_stores_and_a_nack_push_consumer_are_synced(dev, git_remote, hub_nc):
    stream, kv, obj = _name("PUSH"), _name("kv").lower(), _name("obj").lower()
    repo = register_repo(dev, git_remote)
    git_remote.write("environments/dev/stream.yaml", stream_manifest(stream))
    git_remote.write(
        "environments/dev/push.yaml", NACK_PUSH.format(stream=stream, subject=stream.lower())
    )
    git_remote.write("environments/dev/buckets.yaml", NACK_BUCKETS.format(kv=kv, obj=obj))
    sync = wait_sync(
        dev,
        repo["id"],
        github_push(dev.api, repo["id"], git_remote.commit("buckets")).json()["sync_id"],
    )
    assert sync["status"] == "succeeded", (sync["results"], sync["error"])
    order = [r["resource"] for r in sync["results"]]
    assert order == [
        f"stream {stream}",
        f"kv {kv}",
        f"object_store {obj}",
        f"consumer {stream}/my-push-consumer",
    ]
    js = hub_nc.jetstream()
    bucket = await js.stream_info(f"KV_{kv}")
    assert (bucket.config.max_msgs_per_subject, bucket.config.max_age) == (5, 3600)
    assert (await js.stream_info(f"OBJ_{obj}")).config.max_bytes == 4194304
    push = await js.consumer_info(stream, "my-push-consumer")
    assert (
        push.config.deliver_subject == f"my-push-consumer.{stream.lower()}"
        and push.config.flow_control
    )

    # the same tree again: nothing to do
    again = dev.api.post(f"/api/v1/gitops/repos/{repo['id']}/sync", headers=dev.admin.headers)
    assert again.status_code == 202, again.text
    assert wait_sync(dev, repo["id"], again.json()["sync_id"])["status"] == "no_changes"
    for name in (stream, f"KV_{kv}", f"OBJ_{obj}"):
        await js.delete_stream(name)


async def test_a_cluster_down_through_every_retry_fails_the_sync_and_says_so(
    api, stack, git_remote
):
    """The plan step gives up on an unreachable cluster: the sync's row is closed as failed,
    with the reason (not left running), like its operation. The cluster is registered on a
    loopback port nothing listens on, so no server the other tests use is stopped."""
    org = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    with socket.socket() as sock:  # a port that was free a moment ago, and is not listened on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = api.post(
        "/api/v1/clusters",
        headers=org.admin.headers,
        json={
            "name": unique("down"),
            "environment": "development",
            "server_urls": [f"nats://127.0.0.1:{port}"],
        },
    )
    assert down.status_code == 201, down.text
    repo = org.api.post(
        "/api/v1/gitops/repos",
        headers=org.admin.headers,
        json={
            "url": git_remote.url,
            "environments": {"down": down.json()["id"]},
            "webhook_secret": SECRET,
        },
    )
    assert repo.status_code == 201, repo.text
    repo_id = repo.json()["id"]
    git_remote.write("environments/down/s.yaml", stream_manifest(_name("DOWN")))
    started = github_push(api, repo_id, git_remote.commit("to a cluster that is down"))
    assert started.status_code == 202, started.text
    sync = wait_sync(org, repo_id, started.json()["sync_id"], "failed", timeout=400)
    assert sync["finished_at"] and sync["results"] == [] and sync["error"], sync

    # the operation's own record follows the sync row's (another activity of the workflow)
    def operation_ended():
        reply = api.get(f"/api/v1/operations/{sync['operation_id']}", headers=org.admin.headers)
        return reply.json() if reply.json()["status"] != "running" else None

    operation = wait_until(operation_ended, "the sync's operation to end", 120)
    assert operation["status"] == "failed" and operation["error"] == sync["error"]


def test_a_plan_of_an_unreachable_remote_is_503_naming_it(dev, git_remote):
    repo = register_repo(dev, git_remote)
    git_remote.write("environments/dev/a.yaml", stream_manifest(_name("GONE")))
    git_remote.commit("a")
    shutil.rmtree(git_remote.bare)
    reply = dev.api.get(f"/api/v1/gitops/repos/{repo['id']}/plan", headers=dev.admin.headers)
    assert reply.status_code == 503, reply.text
    assert reply.json()["service"] == "git" and git_remote.bare.name in reply.json()["detail"]
    assert SECRET not in reply.text
