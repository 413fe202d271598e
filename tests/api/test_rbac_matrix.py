"""The RBAC matrix: every route of the OpenAPI schema, called by every built-in role, is allowed or
refused exactly as the role's permissions say.

A route declares its permission through ``require``/``require_stream``, which the schema shows as
the security scope ``resource:action:scope`` of the route; routes added later are covered without
touching this file. A route without a declared permission must be listed below as public or as
open to every signed-in user, or this test fails.

Each call uses placeholder path parameters (a cluster of its own for ``{cluster_id}``, a stream
name inside the ``member`` role's team namespace, random ids) and an empty JSON body, so an allowed
call ends in 2xx, 404 or 422, never 401 or 403; a refused one is exactly 403.
"""

from __future__ import annotations

import pytest

from core.rbac import ACTIONS, BUILTIN_ROLES, DESIGN_ROLES, RESOURCES, allows
from tests.api.routes import (
    ENDS_SESSION,
    PREFIX,
    PUBLIC,
    SIGNED_IN,
    STREAMING,
    declared,
    fill,
    operations,
)
from tests.fixtures import PASSWORD, login, register, unique

# Section 5.2 of the source design, literally. The console adds `operations`, `approvals`,
# `replication`, `backups` and `gitops` (its own resources).
DESIGN_5_2 = {
    "admin": {"*:*:*"},
    "editor": {
        "clusters:read:*",
        "streams:read:*",
        "streams:create:*",
        "streams:update:*",
        "consumers:read:*",
        "consumers:create:*",
        "consumers:update:*",
        "consumers:delete:*",
        "messages:read:*",
        "messages:publish:*",
        "kv_stores:read:*",
        "kv_stores:create:*",
        "kv_stores:update:*",
        "object_stores:read:*",
        "object_stores:create:*",
        "object_stores:update:*",
        "dashboards:*:own",
        "alerts:read:*",
        "alerts:create:*",
        "alerts:update:*",
    },
    "viewer": {
        "clusters:read:*",
        "streams:read:*",
        "consumers:read:*",
        "messages:read:*",
        "kv_stores:read:*",
        "object_stores:read:*",
        "dashboards:read:*",
        "alerts:read:*",
    },
    "operator": {
        "clusters:read:*",
        "streams:read:*",
        "consumers:read:*",
        "consumers:pause:*",
        "messages:read:*",
        "messages:publish:*",
        "kv_stores:read:*",
        "kv_stores:update:*",
        "object_stores:read:*",
        "alerts:read:*",
    },
}


def expected(role: str, permissions: list[str]) -> bool:
    granted = BUILTIN_ROLES[role]
    return all(allows(granted, ":".join(p.split(":")[:2]), p.split(":", 2)[2]) for p in permissions)


def test_builtin_roles_are_those_of_the_design():
    for role, permissions in DESIGN_5_2.items():
        assert permissions <= BUILTIN_ROLES[role], role
        extra = {
            p
            for p in BUILTIN_ROLES[role] - permissions
            if not p.startswith(
                ("operations:", "approvals:", "replication:", "backups:", "gitops:")
            )
        }
        assert not extra, (role, extra)
    assert set(DESIGN_ROLES) == set(DESIGN_5_2)


@pytest.fixture(scope="module")
async def members(api, admin_headers, stack, make_member):
    """One user per built-in role in the admin's organization; `member` in a team owning the
    namespace `matrix-` on the matrix's cluster."""
    cluster = register(
        api, admin_headers, stack.env["JSC_HUB_URL"], name=unique("matrix"), domain="hub"
    )
    users = {role: await make_member(role) for role in BUILTIN_ROLES}
    team = api.post(
        "/api/v1/teams",
        headers=admin_headers,
        json={
            "name": unique("matrix-team"),
            "namespaces": [{"cluster_id": cluster["id"], "prefix": PREFIX}],
        },
    )
    assert team.status_code == 201, team.text
    added = api.post(
        f"/api/v1/teams/{team.json()['id']}/members",
        headers=admin_headers,
        json={"user_id": str(users["member"][1])},
    )
    assert added.status_code == 201, added.text
    yield cluster, users
    api.delete(f"/api/v1/teams/{team.json()['id']}", headers=admin_headers)
    api.delete(f"/api/v1/clusters/{cluster['id']}", headers=admin_headers)


def test_every_route_declares_a_known_permission_or_is_listed(api):
    problems = []
    for method, path, op in operations(api.get("/openapi.json").json()):
        needed = declared(op)
        if needed is None:
            if (method, path) not in PUBLIC:
                problems.append(
                    f"{method} {path}: no authentication; list it in PUBLIC or "
                    "declare a permission with require()"
                )
        elif not needed:
            if (method, path) not in SIGNED_IN:
                problems.append(
                    f"{method} {path}: no permission declared; use require() or "
                    "list it in SIGNED_IN"
                )
        else:
            for permission in needed:
                resource, action, scope = permission.split(":", 2)
                if (
                    resource not in RESOURCES
                    or action not in ACTIONS
                    or scope not in ("*", "own", "team")
                ):
                    problems.append(f"{method} {path}: unknown permission {permission}")
    listed = PUBLIC | SIGNED_IN
    present = {(m, p) for m, p, _ in operations(api.get("/openapi.json").json())}
    problems += [f"{m} {p}: listed here but not a route any more" for m, p in listed - present]
    assert not problems, "\n".join(problems)


def test_every_route_against_every_builtin_role(api, stack, members):
    cluster, users = members
    schema = api.get("/openapi.json").json()
    wrong = []
    calls = refused = 0
    for method, path, op in operations(schema):
        needed = declared(op)
        if needed is None:
            continue
        url = fill(path, op, cluster["id"])
        for role, (headers, _user_id, _) in users.items():
            if (method, path) in ENDS_SESSION:
                headers = login(api, _email(api, headers), PASSWORD)  # a session of its own
            allowed = expected(role, needed) if needed else True
            if (method, path) in STREAMING:  # its status, not its endless body
                with api.stream(method, url, headers=headers) as reply:
                    pass
            else:
                reply = api.request(
                    method,
                    url,
                    headers=headers,
                    json={} if method in ("POST", "PUT", "PATCH", "DELETE") else None,
                )
            calls += 1
            refused += not allowed
            got = reply.status_code
            if got == 401 or (allowed and got == 403) or (not allowed and got != 403):
                wrong.append(
                    f"{role:9} {method:6} {path} needs {needed or 'sign-in'}: expected "
                    f"{'allowed' if allowed else '403'}, got {got} {reply.text[:160]}"
                )
    assert calls > 100 and refused > 50, (calls, refused)
    print(f"{calls} calls, {refused} refused as the matrix says")
    assert not wrong, f"{len(wrong)} of {calls} calls disagree with the matrix:\n" + "\n".join(
        wrong
    )


def _email(api, headers: dict) -> str:
    return api.get("/api/v1/auth/me", headers=headers).json()["email"]
