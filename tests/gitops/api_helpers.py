"""Helpers of the GitOps API tests: a repository registered through the API for an organization,
webhook deliveries signed as GitHub, GitLab or a generic sender would, and waiting on a sync."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import httpx

from tests.approvals.setup import Org
from tests.waiting import wait_until

SECRET = "a-long-webhook-secret-for-tests"
FINAL = ("succeeded", "no_changes", "partially_applied", "failed", "rejected", "waiting_approval")


def register_repo(org: Org, remote, *, env: str = "dev", **extra) -> dict:
    body = {
        "url": remote.url,
        "branch": "main",
        "environments": {env: org.cluster_id},
        "webhook_secret": SECRET,
        **extra,
    }
    reply = org.api.post("/api/v1/gitops/repos", headers=org.admin.headers, json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()


def github_push(
    api: httpx.Client,
    repo_id: str,
    commit: str,
    *,
    branch: str = "main",
    secret: str = SECRET,
    delivery: str | None = None,
) -> httpx.Response:
    body = json.dumps(
        {"ref": f"refs/heads/{branch}", "after": commit, "head_commit": {"id": commit}}
    ).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return api.post(
        f"/api/v1/gitops/webhook/{repo_id}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": signature,
        },
    )


def gitlab_push(
    api: httpx.Client,
    repo_id: str,
    commit: str,
    *,
    token: str = SECRET,
    delivery: str | None = None,
) -> httpx.Response:
    body = json.dumps({"ref": "refs/heads/main", "checkout_sha": commit, "after": commit}).encode()
    return api.post(
        f"/api/v1/gitops/webhook/{repo_id}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Gitlab-Event": "Push Hook",
            "X-Gitlab-Event-UUID": delivery or str(uuid.uuid4()),
            "X-Gitlab-Token": token,
        },
    )


def generic_push(
    api: httpx.Client,
    repo_id: str,
    commit: str,
    *,
    secret: str = SECRET,
    delivery: str | None = None,
) -> httpx.Response:
    body = json.dumps({"ref": "main", "commit": commit}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return api.post(
        f"/api/v1/gitops/webhook/{repo_id}",
        content=body,
        headers={"X-JSC-Delivery": delivery or str(uuid.uuid4()), "X-JSC-Signature": signature},
    )


def sync_of(org: Org, repo_id: str, sync_id: str) -> dict:
    reply = org.api.get(
        f"/api/v1/gitops/repos/{repo_id}/syncs/{sync_id}", headers=org.admin.headers
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def wait_sync(org: Org, repo_id: str, sync_id: str, *statuses: str, timeout: float = 120) -> dict:
    wanted = statuses or FINAL

    def done():
        sync = sync_of(org, repo_id, sync_id)
        return sync if sync["status"] in wanted else None

    return wait_until(done, f"sync {sync_id} to be {'/'.join(wanted)}", timeout=timeout)


def stream_manifest(
    name: str, *, subjects: list[str] | None = None, consumers: str = "", extra: str = ""
) -> str:
    subjects = subjects or [f"{name.lower()}.>"]
    return (
        f"apiVersion: nats.io/v1\nkind: Stream\nmetadata:\n  name: {name}\nspec:\n"
        f"  subjects: {json.dumps(subjects)}\n  storage: file\n  maxAge: 1h\n{extra}"
        + (f"  consumers:\n{consumers}" if consumers else "")
    )


def consumer_item(name: str, filter_subject: str) -> str:
    return (
        f"    - name: {name}\n      durableName: {name}\n      ackPolicy: explicit\n"
        f'      ackWait: 30s\n      filterSubject: "{filter_subject}"\n'
    )
