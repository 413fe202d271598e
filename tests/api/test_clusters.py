"""Clusters: CRUD, write-only credentials encrypted at rest, tenancy, health and info."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from core.db.models import ClusterConnection
from core.security import Cipher
from tests.fixtures import register, unique, wait_for_audit

SECRET = "s3cr3t-" + uuid.uuid4().hex


def test_create_read_update_delete(api, admin_headers, stack):
    created = register(
        api, admin_headers, stack.env["JSC_HUB_URL"], domain="hub", description="hub for CRUD"
    )
    cid = created["id"]
    assert created["environment"] == "development"
    assert created["server_urls"] == [stack.env["JSC_HUB_URL"]]
    assert created["credentials_type"] == "none"
    assert any(
        c["id"] == cid for c in api.get("/api/v1/clusters", headers=admin_headers).json()["items"]
    )

    patched = api.patch(
        f"/api/v1/clusters/{cid}",
        headers=admin_headers,
        json={"description": "renamed", "environment": "staging"},
    )
    assert patched.status_code == 200
    assert patched.json()["description"] == "renamed"
    assert patched.json()["environment"] == "staging"
    assert (
        api.get(f"/api/v1/clusters/{cid}", headers=admin_headers).json()["description"] == "renamed"
    )

    assert api.delete(f"/api/v1/clusters/{cid}", headers=admin_headers).status_code == 204
    gone = api.get(f"/api/v1/clusters/{cid}", headers=admin_headers)
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")


async def test_credentials_are_never_returned_and_encrypted_at_rest(
    api, admin_headers, stack, db_sessions
):
    created = register(
        api,
        admin_headers,
        stack.env["JSC_HUB_URL"],
        credentials={"type": "user_password", "username": "ops", "password": SECRET},
        tls={"ca_pem": None, "insecure_skip_verify": False, "key_pem": f"KEY-{SECRET}"},
    )
    cid = created["id"]
    responses = [
        created,
        api.get("/api/v1/clusters", headers=admin_headers).json(),
        api.get(f"/api/v1/clusters/{cid}", headers=admin_headers).json(),
        api.patch(
            f"/api/v1/clusters/{cid}",
            headers=admin_headers,
            json={"credentials": {"type": "token", "token": SECRET}},
        ).json(),
        api.get(f"/api/v1/clusters/{cid}/health", headers=admin_headers).json(),
        api.get(
            "/api/v1/audit/logs?resource_type=cluster&limit=1000", headers=admin_headers
        ).json(),
    ]
    for body in responses:
        assert SECRET not in json.dumps(body)
    assert created["credentials_type"] == "user_password"
    assert responses[3]["credentials_type"] == "token"

    async with db_sessions() as db:
        rows = (
            await db.scalars(
                select(ClusterConnection).where(ClusterConnection.cluster_id == uuid.UUID(cid))
            )
        ).all()
    assert rows
    cipher = Cipher(stack.env["JSC_ENCRYPTION_KEY"])
    for row in rows:
        assert SECRET not in json.dumps(row.credentials)
        assert row.credentials["alg"] == "AES-256-GCM"
        assert cipher.decrypt(row.credentials, context=f"cluster:{cid}") == {
            "type": "token",
            "username": None,
            "password": None,
            "token": SECRET,
            "creds": None,
        }
        assert SECRET not in json.dumps(row.tls_config)
    assert api.delete(f"/api/v1/clusters/{cid}", headers=admin_headers).status_code == 204


def test_validation_names_the_field(api, admin_headers):
    reply = api.post(
        "/api/v1/clusters",
        headers=admin_headers,
        json={"name": "bad name!", "environment": "prod", "server_urls": ["http://x:1"]},
    )
    assert reply.status_code == 422
    fields = {e["field"] for e in reply.json()["errors"]}
    assert {"name", "environment", "server_urls"} <= fields
    missing = api.post(
        "/api/v1/clusters",
        headers=admin_headers,
        json={
            "name": "x",
            "environment": "development",
            "server_urls": ["nats://a:1"],
            "credentials": {"type": "token"},
        },
    )
    assert missing.status_code == 422
    assert "need token" in missing.json()["detail"]


def test_duplicate_name_is_a_conflict(api, admin_headers, stack):
    name = unique("dup")
    register(api, admin_headers, stack.env["JSC_HUB_URL"], name=name)
    again = api.post(
        "/api/v1/clusters",
        headers=admin_headers,
        json={
            "name": name,
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
        },
    )
    assert again.status_code == 409
    assert name in again.json()["detail"]


def test_unknown_cluster_is_404(api, admin_headers):
    cid = uuid.uuid4()
    for path in ("", "/health", "/info", "/streams"):
        assert api.get(f"/api/v1/clusters/{cid}{path}", headers=admin_headers).status_code == 404
    assert api.get("/api/v1/clusters/not-a-uuid", headers=admin_headers).status_code == 422


def test_health_and_info_of_a_live_cluster(api, admin_headers, hub_cluster):
    cid = hub_cluster["id"]
    health = api.get(f"/api/v1/clusters/{cid}/health", headers=admin_headers).json()
    assert health["status"] == "healthy" and health["connected"] and health["jetstream"]
    assert health["rtt_ms"] is not None
    info = api.get(f"/api/v1/clusters/{cid}/info", headers=admin_headers).json()
    assert info["server"]["version"].startswith("2.")
    assert info["server"]["jetstream_domain"] == "hub"
    assert "storage" in info["account"] and "limits" in info["account"]
    listed = api.get(f"/api/v1/clusters/{cid}", headers=admin_headers).json()
    assert listed["status"] == "healthy" and listed["version"] == info["server"]["version"]


def test_health_of_an_unreachable_cluster(api, admin_headers):
    created = register(api, admin_headers, "nats://127.0.0.1:1")
    health = api.get(f"/api/v1/clusters/{created['id']}/health", headers=admin_headers).json()
    assert health["status"] == "unreachable" and not health["connected"] and health["error"]
    streams = api.get(f"/api/v1/clusters/{created['id']}/streams", headers=admin_headers)
    assert streams.status_code == 503
    assert created["name"] in streams.json()["detail"]
    # Leave no unreachable cluster behind: every later health probe would wait on it.
    assert api.delete(f"/api/v1/clusters/{created['id']}", headers=admin_headers).status_code == 204


async def test_another_organizations_cluster_is_404_not_403(api, make_member, hub_cluster):
    stranger, _, _ = await make_member("admin", org="new")
    cid = hub_cluster["id"]
    assert all(
        c["id"] != cid for c in api.get("/api/v1/clusters", headers=stranger).json()["items"]
    )
    for method, path in (
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("GET", "/health"),
        ("GET", "/streams"),
        ("GET", "/streams/any"),
    ):
        reply = api.request(
            method,
            f"/api/v1/clusters/{cid}{path}",
            headers=stranger,
            json={} if method == "PATCH" else None,
        )
        assert reply.status_code == 404, (method, path, reply.text)


async def test_roles_are_enforced_and_denials_audited(api, admin_headers, make_member, stack):
    viewer, viewer_id, _ = await make_member("viewer")
    assert api.get("/api/v1/clusters", headers=viewer).status_code == 200
    denied = api.post(
        "/api/v1/clusters",
        headers=viewer,
        json={
            "name": unique("nope"),
            "environment": "development",
            "server_urls": [stack.env["JSC_HUB_URL"]],
        },
    )
    assert denied.status_code == 403
    assert "viewer" in denied.json()["detail"]
    event = wait_for_audit(api, admin_headers, status="denied", user_id=str(viewer_id))
    assert event["action"] == "clusters.create" and event["resource_type"] == "clusters"
    assert api.get("/api/v1/audit/logs", headers=viewer).status_code == 403
