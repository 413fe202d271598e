"""Drift from outside: changes made behind the platform's back with nats-py (and one through the
console, which is attributed to its author) are found by a scan, per field, and remediated each
of the three ways; production reverts wait for an approval; a repository whose policy is revert
reverts on its own."""

from __future__ import annotations

from sqlalchemy import update

from core.db.gitops_models import GitDrift
from tests.api.orgs import invite
from tests.approvals.setup import consumer_exists, production_org
from tests.fixtures import unique
from tests.gitops.api_helpers import (
    consumer_item,
    github_push,
    register_repo,
    stream_manifest,
    wait_sync,
)
from tests.waiting import wait_until


def scan(org, repo_id: str) -> dict:
    before = org.api.get(f"/api/v1/gitops/repos/{repo_id}", headers=org.admin.headers).json()
    started = org.api.post(f"/api/v1/gitops/repos/{repo_id}/drift/scan", headers=org.admin.headers)
    assert started.status_code == 202, started.text

    def scanned():
        repo = org.api.get(f"/api/v1/gitops/repos/{repo_id}", headers=org.admin.headers).json()
        last = repo["last_scan"] or {}
        return last if last.get("at") != (before["last_scan"] or {}).get("at") else None

    last = wait_until(scanned, "a drift scan", timeout=120)
    assert last["error"] is None, last
    return drift(org, repo_id)


def drift(org, repo_id: str, **params) -> dict:
    reply = org.api.get(
        f"/api/v1/gitops/repos/{repo_id}/drift", headers=org.admin.headers, params=params
    )
    assert reply.status_code == 200, reply.text
    return {item["resource"]: item for item in reply.json()["items"]}


def remediate(org, repo_id: str, who=None, **body):
    return org.api.post(
        f"/api/v1/gitops/repos/{repo_id}/drift/remediate",
        headers=(who or org.admin).headers,
        json=body,
    )


async def test_drift_found_explained_and_remediated_three_ways(
    api, stack, git_remote, hub_nc, db_sessions
):
    dev = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    other = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    prefix = unique("DR").upper().replace("-", "_")
    a, b, extra = f"{prefix}_A", f"{prefix}_B", f"{prefix}_EXTRA"
    repo = register_repo(dev, git_remote, namespaces=[prefix])
    git_remote.write(
        "environments/dev/a.yaml",
        stream_manifest(a, consumers=consumer_item("w", f"{a.lower()}.x")),
    )
    git_remote.write("environments/dev/b.yaml", stream_manifest(b, extra="  description: bee\n"))
    synced = wait_sync(
        dev,
        repo["id"],
        github_push(dev.api, repo["id"], git_remote.commit("a and b")).json()["sync_id"],
    )
    assert synced["status"] == "succeeded", synced
    assert scan(dev, repo["id"]) == {}

    js = hub_nc.jetstream()
    info = await js.stream_info(a)
    info.config.max_age = 7200
    await js.update_stream(info.config)  # behind the platform's back
    await js.delete_consumer(a, "w")
    await js.add_stream(name=extra, subjects=[f"{extra.lower()}.>"])
    editor = invite(api, dev.admin, "editor")
    changed = api.patch(
        f"/api/v1/clusters/{dev.cluster_id}/streams/{b}",
        headers=editor.headers,
        json={"description": "changed in the console"},
    )
    assert changed.status_code == 200, changed.text

    items = scan(dev, repo["id"])
    assert set(items) == {f"stream {a}", f"consumer {a}/w", f"stream {b}", f"stream {extra}"}
    assert items[f"stream {a}"]["drift_type"] == "changed"
    assert items[f"stream {a}"]["fields"] == [
        {"field": "max_age", "git": 3600 * 10**9, "live": 7200 * 10**9}
    ]
    assert items[f"stream {a}"]["source"] == "environments/dev/a.yaml:1"
    assert items[f"stream {a}"]["changed_by"]["source"] == "outside"
    assert items[f"consumer {a}/w"]["drift_type"] == "missing"
    assert items[f"stream {extra}"]["drift_type"] == "unmanaged"

    def attributed():
        now = drift(dev, repo["id"])[f"stream {b}"]["changed_by"]
        return now if now["source"] == "console" else None

    who = wait_until(attributed, "the console change to be attributed", timeout=60)
    assert who["actor"] == editor.email and who["action"] == "stream.update" and who["at"]

    # roles and tenancy: a viewer reads drift but cannot act; another organization sees nothing
    viewer = invite(api, dev.admin, "viewer")
    assert (
        api.get(f"/api/v1/gitops/repos/{repo['id']}/drift", headers=viewer.headers).status_code
        == 200
    )
    ids = {r: i["id"] for r, i in items.items()}
    assert (
        remediate(
            dev, repo["id"], viewer, action="ignore", items=[ids[f"stream {extra}"]]
        ).status_code
        == 403
    )
    assert (
        api.get(f"/api/v1/gitops/repos/{repo['id']}/drift", headers=other.admin.headers).status_code
        == 404
    )
    assert (
        remediate(other, repo["id"], action="ignore", items=[ids[f"stream {extra}"]]).status_code
        == 404
    )

    # 1. ignore, with an expiry: an expired ignore opens again at the next scan
    ignored = remediate(
        dev, repo["id"], action="ignore", items=[ids[f"stream {extra}"]], ignore_for="7d"
    )
    assert ignored.status_code == 200, ignored.text
    assert ignored.json()["items"][0]["status"] == "ignored"
    assert f"stream {extra}" not in drift(dev, repo["id"], status="open")

    # 2. update git from the cluster: a new branch with the live value; the branch is untouched
    pushed = remediate(dev, repo["id"], action="update_git", items=[ids[f"stream {b}"]])
    assert pushed.status_code == 201, pushed.text
    branch = pushed.json()["branch"]
    assert git_remote.branches()[branch] == pushed.json()["commit"]
    assert 'description: "changed in the console"' in git_remote.show(
        branch, "environments/dev/b.yaml"
    )
    assert "description: bee" in git_remote.show("main", "environments/dev/b.yaml")

    # 3. revert to git: a sync of those items (development: applied at once)
    reverted = remediate(
        dev, repo["id"], action="revert", items=[ids[f"stream {a}"], ids[f"consumer {a}/w"]]
    )
    assert reverted.status_code == 202, reverted.text
    assert drift(dev, repo["id"])[f"stream {a}"]["status"] == "reverting"
    again = remediate(dev, repo["id"], action="revert", items=[ids[f"stream {a}"]])
    assert again.status_code == 409
    done = wait_sync(dev, repo["id"], reverted.json()["sync_id"])
    assert done["status"] == "succeeded" and done["trigger"] == "drift_revert", done
    assert sorted(r["resource"] for r in done["results"]) == [f"consumer {a}/w", f"stream {a}"]
    assert (await js.stream_info(a)).config.max_age == 3600
    assert await consumer_exists(hub_nc, a, "w")

    async with db_sessions() as db, db.begin():
        await db.execute(
            update(GitDrift)
            .where(GitDrift.id == ids[f"stream {extra}"])
            .values(ignored_until=GitDrift.first_seen)
        )  # the ignore has expired
    after = scan(dev, repo["id"])
    assert f"stream {a}" not in after and f"consumer {a}/w" not in after  # resolved
    assert after[f"stream {extra}"]["status"] == "open"
    assert after[f"stream {b}"]["remediation"]["branch"] == branch  # still drifted until merged
    for name in (a, b, extra):
        await js.delete_stream(name)


async def test_a_production_revert_waits_for_approval(api, stack, git_remote, hub_nc):
    prod = production_org(api, stack.env["JSC_HUB_URL"])
    stream = unique("PRODDRIFT").upper().replace("-", "_")
    js = hub_nc.jetstream()
    await js.add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
    try:
        repo = register_repo(prod, git_remote, env="production")
        git_remote.write(
            "environments/production/c.yaml",
            f"apiVersion: nats.io/v1\nkind: Consumer\nmetadata:\n  name: c\nspec:\n"
            f"  streamName: {stream}\n  durableName: c\n  ackPolicy: explicit\n",
        )
        first = wait_sync(
            prod, repo["id"], github_push(api, repo["id"], git_remote.commit("c")).json()["sync_id"]
        )
        assert first["status"] == "waiting_approval"
        assert prod.act(prod.admin, first["request_id"], "approve").status_code == 200
        wait_sync(prod, repo["id"], first["id"], "succeeded")
        await js.delete_consumer(stream, "c")
        items = scan(prod, repo["id"])
        assert items[f"consumer {stream}/c"]["drift_type"] == "missing"
        reverted = remediate(
            prod, repo["id"], action="revert", items=[items[f"consumer {stream}/c"]["id"]]
        )
        assert reverted.status_code == 202, reverted.text
        waiting = wait_sync(prod, repo["id"], reverted.json()["sync_id"])
        assert waiting["status"] == "waiting_approval", waiting
        assert not await consumer_exists(hub_nc, stream, "c")
        # the admin who asked for the revert cannot approve it: another one does
        second = prod.member("admin", "second")
        assert prod.act(prod.admin, waiting["request_id"], "approve").status_code == 403
        assert prod.act(second, waiting["request_id"], "approve").status_code == 200
        wait_sync(prod, repo["id"], waiting["id"], "succeeded")
        assert await consumer_exists(hub_nc, stream, "c")
    finally:
        await js.delete_stream(stream)


async def test_a_repository_whose_policy_is_revert_reverts_on_its_own(
    api, stack, git_remote, hub_nc
):
    dev = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    name = unique("AUTOREV").upper().replace("-", "_")
    repo = register_repo(dev, git_remote, on_drift="revert")
    git_remote.write("environments/dev/s.yaml", stream_manifest(name))
    wait_sync(
        dev,
        repo["id"],
        github_push(dev.api, repo["id"], git_remote.commit("s")).json()["sync_id"],
        "succeeded",
    )
    js = hub_nc.jetstream()
    info = await js.stream_info(name)
    info.config.max_age = 600
    await js.update_stream(info.config)
    assert scan(dev, repo["id"])[f"stream {name}"]["drift_type"] == "changed"

    # the scan records the drift, then opens the revert: wait for the second step too
    def reverting():
        found = drift(dev, repo["id"])
        return found if found.get(f"stream {name}", {}).get("status") == "reverting" else None

    items = wait_until(reverting, "the drift item to be reverting", timeout=120)
    sync_id = items[f"stream {name}"]["remediation"]["sync_id"]
    done = wait_sync(dev, repo["id"], sync_id)
    assert done["status"] == "succeeded" and done["trigger"] == "drift_revert", done
    assert (await js.stream_info(name)).config.max_age == 3600
    assert scan(dev, repo["id"]) == {}
    # removed first: its schedule would otherwise revert the stream's deletion
    assert (
        api.delete(f"/api/v1/gitops/repos/{repo['id']}", headers=dev.admin.headers).status_code
        == 204
    )
    await js.delete_stream(name)
