"""Role-based access: the built-in roles of the source design (section 5.2) as pure data, and
the check ``allows(granted, needed)`` over permissions of the form ``resource:action:scope``.

Scopes:
- ``*``: everything of the organization.
- ``own``: what the caller owns (their API keys, their dashboards).
- ``team``: the namespaces of the caller's teams (stream-name prefixes per cluster); honoured by
  the stream and consumer routes, which check the stream's name.
- ``team:{team_id}``, ``cluster:{cluster_id}``: one team's namespaces, every stream of one cluster.

The four roles of section 5.2 keep scope ``*`` exactly as specified, plus the console's own
``operations:read``, ``approvals:vote`` (deciding on a change request: approve, reject, request
changes, withdraw; whether a person's vote counts is the policy's approval groups' call, this only
says that the caller, or an API key, may vote at all) and ``replication`` (mirrors and DR pairs:
everyone reads them, editors create and change them, operators pause and resume them;
``replication:failover``, a failover or a drill, is held by no built-in role but ``admin``) and
``backups`` (everyone reads them, operators and editors take them, editors restore them
(``backups:restore``), only admins manage schedules (``backups:manage``) and delete backups) and
``gitops`` (everyone reads repositories, their syncs and drift; editors sync them and remediate
drift (``gitops:sync``, every change still through the change gate); only admins register, change
and remove repositories, since a repository's sync acts organization-wide).
``member`` is one more built-in role for self-service teams: it reads everything a viewer reads and
changes streams, consumers and messages only inside its teams' namespaces.
"""

from __future__ import annotations

import re

RESOURCES = (
    "clusters",
    "streams",
    "consumers",
    "kv_stores",
    "object_stores",
    "messages",
    "users",
    "teams",
    "roles",
    "api_keys",
    "alerts",
    "dashboards",
    "audit_logs",
    "operations",
    "organizations",
    "approval_policies",
    "approvals",
    "replication",
    "backups",
    "gitops",
)
ACTIONS = (
    "read",
    "create",
    "update",
    "delete",
    "publish",
    "purge",
    "pause",
    "manage",
    "vote",
    "failover",
    "restore",
    "sync",
)
SCOPES = ("*", "own", "team", "team:{team_id}", "cluster:{cluster_id}")
_SCOPE = re.compile(r"^(\*|own|team|team:[0-9a-f-]{36}|cluster:[0-9a-f-]{36})$")


def _expand(spec: str) -> list[str]:
    """'streams:read,create:*' -> ['streams:read:*', 'streams:create:*']."""
    resource, actions, scope = spec.split(":", 2)
    return [f"{resource}:{action}:{scope}" for action in actions.split(",")]


def _role(*specs: str) -> frozenset[str]:
    return frozenset(p for spec in specs for p in _expand(spec))


BUILTIN_ROLES: dict[str, frozenset[str]] = {
    "admin": _role("*:*:*"),
    "editor": _role(
        "clusters:read:*",
        "streams:read,create,update:*",
        "consumers:read,create,update,delete:*",
        "messages:read,publish:*",
        "kv_stores:read,create,update:*",
        "object_stores:read,create,update:*",
        "dashboards:*:own",
        "alerts:read,create,update:*",
        "operations:read:*",
        "approvals:vote:*",
        "replication:read,create,update:*",
        "backups:read,create,restore:*",
        "gitops:read,sync:*",
    ),
    "viewer": _role(
        "clusters:read:*",
        "streams:read:*",
        "consumers:read:*",
        "messages:read:*",
        "kv_stores:read:*",
        "object_stores:read:*",
        "dashboards:read:*",
        "alerts:read:*",
        "operations:read:*",
        "approvals:vote:*",
        "replication:read:*",
        "backups:read:*",
        "gitops:read:*",
    ),
    "operator": _role(
        "clusters:read:*",
        "streams:read:*",
        "consumers:read,pause:*",
        "messages:read,publish:*",
        "kv_stores:read,update:*",
        "object_stores:read:*",
        "alerts:read:*",
        "operations:read:*",
        "approvals:vote:*",
        "replication:read,update:*",
        "backups:read,create:*",
        "gitops:read:*",
    ),
    "member": _role(
        "clusters:read:*",
        "streams:read:*",
        "streams:create,update,delete,purge:team",
        "consumers:read:*",
        "consumers:create,update,delete,pause:team",
        "messages:read:*",
        "messages:publish:team",
        "kv_stores:read:*",
        "object_stores:read:*",
        "alerts:read:*",
        "dashboards:*:own",
        "operations:read:*",
        "approvals:vote:*",
        "teams:read:*",
        "replication:read:*",
        "backups:read:*",
        "gitops:read:*",
        "api_keys:read,create,update,delete:own",
    ),
}
# The roles of the source design, section 5.2 (``member`` is this console's addition).
DESIGN_ROLES = ("admin", "editor", "viewer", "operator")


def _matches(granted: str, wanted: str) -> bool:
    return granted == "*" or granted == wanted


def allows(granted: frozenset[str] | set[str], needed: str, scope: str = "*") -> bool:
    """Whether any granted permission covers ``needed`` (``resource:action``) in ``scope``.

    A granted ``manage`` action covers every action of its resource; a granted scope ``*`` covers
    every scope.
    """
    return any(g_scope == "*" or g_scope == scope for g_scope in granted_scopes(granted, needed))


def granted_scopes(granted: frozenset[str] | set[str], needed: str) -> set[str]:
    """The scopes in which ``needed`` (``resource:action``) is granted, e.g. ``{"team"}``."""
    resource, action = needed.split(":")[:2]
    scopes = set()
    for perm in granted:
        g_res, g_act, g_scope = perm.split(":", 2)
        if _matches(g_res, resource) and (_matches(g_act, action) or g_act == "manage"):
            scopes.add(g_scope)
    return scopes


def permissions_for_role(role: str) -> frozenset[str]:
    return BUILTIN_ROLES.get(role, frozenset())


def _meet(a: str, b: str, *, action: bool = False) -> str | None:
    """The part both grant: ``*`` (and ``manage`` for actions) is the top of each component."""
    tops = ("*", "manage") if action else ("*",)
    if a == b:
        return a
    if a == "*" or (a in tops and b != "*"):
        return b
    if b == "*" or b in tops:
        return a
    return None


def intersect(first: frozenset[str], second: frozenset[str]) -> frozenset[str]:
    """Permissions granted by both sets (an API key's scopes within its owner's role)."""
    out = set()
    for a in first:
        a_res, a_act, a_scope = a.split(":", 2)
        for b in second:
            b_res, b_act, b_scope = b.split(":", 2)
            parts = (_meet(a_res, b_res), _meet(a_act, b_act, action=True), _meet(a_scope, b_scope))
            if None not in parts:
                out.add(":".join(parts))  # type: ignore[arg-type]
    return frozenset(out)


def validate_permission(permission: str) -> str:
    """Check ``resource:action:scope`` (each part may be ``*``); answer it normalised or raise
    ValueError with a sentence."""
    parts = permission.strip().split(":", 2)
    if len(parts) != 3:
        raise ValueError(f"'{permission}' is not of the form resource:action:scope")
    resource, action, scope = (p.strip() for p in parts)
    if resource != "*" and resource not in RESOURCES:
        raise ValueError(f"'{resource}' is not a resource; one of: *, {', '.join(RESOURCES)}")
    if action != "*" and action not in ACTIONS:
        raise ValueError(f"'{action}' is not an action; one of: *, {', '.join(ACTIONS)}")
    if not _SCOPE.match(scope):
        raise ValueError(f"'{scope}' is not a scope; one of: {', '.join(SCOPES)}")
    return f"{resource}:{action}:{scope}"


def uncovered(requested: frozenset[str] | set[str], granted: frozenset[str]) -> list[str]:
    """The requested permissions that ``granted`` does not cover entirely: a key or a role may
    not exceed what its creator holds."""
    return sorted(p for p in requested if not _covers(granted, p))


def _covers(granted: frozenset[str], permission: str) -> bool:
    res, act, scope = permission.split(":", 2)
    for g in granted:
        g_res, g_act, g_scope = g.split(":", 2)
        if (
            g_res in ("*", res)
            and (g_act in ("*", "manage") or g_act == act)
            and g_scope in ("*", scope)
        ):
            return True
    return False
