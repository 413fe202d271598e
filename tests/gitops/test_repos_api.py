"""GitOps repositories through the API, as two organizations and each role use them: who may
register, read, change and remove one; secrets stored and never returned; what URLs and
credentials are refused."""

from __future__ import annotations

import json

from tests.api.orgs import invite
from tests.approvals.setup import production_org
from tests.gitops.api_helpers import SECRET, register_repo

TOKEN = "ghp_not-a-real-token-but-secret"
KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


def test_roles_tenancy_and_secrets(api, stack, git_remote):
    org = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    other = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    repo = register_repo(org, git_remote, name="config", namespaces=["APP_"], interval="10m")
    assert repo["name"] == "config" and repo["interval_seconds"] == 600
    assert repo["has_webhook_secret"] and repo["auth_type"] == "none"
    assert repo["webhook_url"] == f"/api/v1/gitops/webhook/{repo['id']}"
    assert SECRET not in json.dumps(repo)

    for role in ("editor", "operator", "viewer", "member"):
        person = invite(api, org.admin, role)
        assert (
            api.get(f"/api/v1/gitops/repos/{repo['id']}", headers=person.headers).status_code == 200
        )
        assert (
            api.post(
                "/api/v1/gitops/repos",
                headers=person.headers,
                json={"url": git_remote.url, "environments": {"dev": org.cluster_id}},
            ).status_code
            == 403
        )
        assert (
            api.patch(
                f"/api/v1/gitops/repos/{repo['id']}", headers=person.headers, json={"branch": "x"}
            ).status_code
            == 403
        )
        assert (
            api.delete(f"/api/v1/gitops/repos/{repo['id']}", headers=person.headers).status_code
            == 403
        )
        sync = api.post(f"/api/v1/gitops/repos/{repo['id']}/sync", headers=person.headers)
        assert sync.status_code == (202 if role == "editor" else 403), (role, sync.text)

    # another organization sees nothing of it, and cannot map its environments to our cluster
    for call in (api.get, api.delete):
        assert (
            call(f"/api/v1/gitops/repos/{repo['id']}", headers=other.admin.headers).status_code
            == 404
        )
    assert api.get("/api/v1/gitops/repos", headers=other.admin.headers).json()["items"] == []
    assert (
        api.post(f"/api/v1/gitops/repos/{repo['id']}/sync", headers=other.admin.headers).status_code
        == 404
    )
    stolen = api.post(
        "/api/v1/gitops/repos",
        headers=other.admin.headers,
        json={"url": git_remote.url, "environments": {"dev": org.cluster_id}},
    )
    assert stolen.status_code == 404 and org.cluster_id in stolen.json()["detail"]

    duplicate = api.post(
        "/api/v1/gitops/repos",
        headers=org.admin.headers,
        json={"name": "config", "url": git_remote.url, "environments": {"dev": org.cluster_id}},
    )
    assert duplicate.status_code == 409

    changed = api.patch(
        f"/api/v1/gitops/repos/{repo['id']}",
        headers=org.admin.headers,
        json={"webhook_secret": None, "prune": "with_approval"},
    )
    assert changed.status_code == 200, changed.text
    assert (
        changed.json()["has_webhook_secret"] is False and changed.json()["prune"] == "with_approval"
    )
    assert (
        api.delete(f"/api/v1/gitops/repos/{repo['id']}", headers=org.admin.headers).status_code
        == 204
    )
    assert (
        api.get(f"/api/v1/gitops/repos/{repo['id']}", headers=org.admin.headers).status_code == 404
    )


def test_urls_and_credentials_refused_with_a_reason(api, stack, git_remote):
    org = production_org(api, stack.env["JSC_HUB_URL"], environment="development")
    base = {"environments": {"dev": org.cluster_id}}
    cases = [
        ({"url": "ext::sh -c id"}, "url"),
        ({"url": "http://example.com/x.git"}, "url"),
        ({"url": "https://127.0.0.1/x.git"}, "loopback"),
        ({"url": "https://169.254.169.254/x.git"}, "metadata"),
        ({"url": "file:///etc"}, "must be under"),
        ({"url": git_remote.url, "token": TOKEN}, "https remotes only"),
        ({"url": "git@github.com:acme/config.git", "ssh_key": KEY}, "known_hosts"),
        ({"url": git_remote.url, "branch": "--upload-pack=id"}, "branch"),
        ({"url": git_remote.url, "path": "../../etc"}, "path"),
        ({"url": git_remote.url, "interval": "1s"}, "interval"),
        ({"url": git_remote.url, "environments": {"Prod!": org.cluster_id}}, "environments"),
        ({"url": git_remote.url, "name": "bad\x85name"}, "name"),
        ({"url": git_remote.url, "webhook_secret": "short"}, "webhook_secret"),
    ]
    for body, words in cases:
        reply = api.post("/api/v1/gitops/repos", headers=org.admin.headers, json={**base, **body})
        assert reply.status_code == 422, (body, reply.text)
        assert words in reply.text, (body, reply.text)
    https = api.post(
        "/api/v1/gitops/repos",
        headers=org.admin.headers,
        json={**base, "url": "https://git.example.com/acme/config.git", "token": TOKEN},
    )
    assert https.status_code == 201, https.text
    assert https.json()["auth_type"] == "token" and TOKEN not in https.text
    ssh = api.post(
        "/api/v1/gitops/repos",
        headers=org.admin.headers,
        json={
            **base,
            "name": "config-over-ssh",
            "url": "git@git.example.com:acme/config.git",
            "ssh_key": KEY,
            "known_hosts": "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA",
        },
    )
    assert ssh.status_code == 201, ssh.text
    assert ssh.json()["auth_type"] == "ssh_key" and "PRIVATE KEY" not in ssh.text
    listed = api.get("/api/v1/gitops/repos", headers=org.admin.headers).text
    assert TOKEN not in listed and "PRIVATE KEY" not in listed
