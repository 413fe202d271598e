"""The routes of the API as its OpenAPI schema lists them, and the permission each declares (the
security scope ``resource:action:scope`` that ``require`` puts on a route): shared by the RBAC
matrix and the audit completeness tests."""

from __future__ import annotations

import uuid

# Routes that declare no permission must be listed: answered without signing in,
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/forgot-password"),
    ("POST", "/api/v1/auth/reset-password"),
    ("POST", "/api/v1/gitops/webhook/{repo_id}"),  # signed with the repository's secret instead
}
# or open to every signed-in member of the organization, whatever their role.
SIGNED_IN = {
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    # one's own sessions (another user's session id is a 404)
    ("GET", "/api/v1/auth/sessions"),
    ("DELETE", "/api/v1/auth/sessions/{session_id}"),
    ("POST", "/api/v1/auth/mfa/enable"),
    ("POST", "/api/v1/auth/mfa/verify"),
    ("DELETE", "/api/v1/auth/mfa/disable"),
    ("GET", "/api/v1/organizations"),
    ("POST", "/api/v1/organizations"),
    ("GET", "/api/v1/organizations/{org_id}"),
    # real time: each channel is checked against the caller's permissions (api.realtime_access)
    ("POST", "/api/v1/stream/token"),
    ("GET", "/api/v1/stream/metrics"),
    # the assistant: its tools read through this API as the caller, with the caller's rights;
    # a proposal checks the permission of the change it files (api.routers.ai_proposals)
    ("POST", "/api/v1/ai/chat"),
    ("GET", "/api/v1/ai/conversations"),
    ("GET", "/api/v1/ai/conversations/{conversation_id}"),
    ("DELETE", "/api/v1/ai/conversations/{conversation_id}"),
    ("POST", "/api/v1/ai/proposals"),
    ("POST", "/api/v1/ai/configure"),
    ("GET", "/api/v1/ai/diagnose"),
}
# Routes that answer an endless stream: a test reads their status and headers only.
STREAMING = {("GET", "/api/v1/stream/metrics")}
ENDS_SESSION = {("POST", "/api/v1/auth/logout")}
PREFIX = "matrix-"
STREAM = f"{PREFIX}stream"


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, op)
        for path, ops in sorted(schema["paths"].items())
        for method, op in ops.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def declared(op: dict) -> list[str] | None:
    """The permissions a route declares (None: no security at all, i.e. public)."""
    security = op.get("security")
    if not security:
        return None
    return sorted(
        {scope for requirement in security for scopes in requirement.values() for scope in scopes}
    )


def fill(path: str, op: dict, cluster_id: str) -> str:
    for param in op.get("parameters", []):
        if param["in"] != "path":
            continue
        name, schema = param["name"], param.get("schema", {})
        if name == "cluster_id" and not path.endswith("{cluster_id}"):
            value = cluster_id  # the matrix's own cluster; the cluster itself is never addressed
        elif schema.get("format") == "uuid":
            value = str(uuid.uuid4())
        elif schema.get("type") == "integer":
            value = "1"
        else:
            value = STREAM
        path = path.replace("{" + name + "}", value)
    return path
