"""Role-based access: the built-in roles of the source design (section 5.2) as pure data, and
the check ``allows(granted, needed)`` over permissions of the form ``resource:action:scope``."""

from __future__ import annotations

RESOURCES = (
    "clusters", "streams", "consumers", "kv_stores", "object_stores", "messages", "users",
    "teams", "roles", "api_keys", "alerts", "dashboards", "audit_logs", "operations",
)
ACTIONS = ("read", "create", "update", "delete", "publish", "purge", "pause", "manage")


def _expand(spec: str) -> list[str]:
    """'streams:read,create:*' -> ['streams:read:*', 'streams:create:*']."""
    resource, actions, scope = spec.split(":", 2)
    return [f"{resource}:{action}:{scope}" for action in actions.split(",")]


def _role(*specs: str) -> frozenset[str]:
    return frozenset(p for spec in specs for p in _expand(spec))


BUILTIN_ROLES: dict[str, frozenset[str]] = {
    "admin": _role("*:*:*"),
    "editor": _role(
        "clusters:read:*", "streams:read,create,update:*", "consumers:read,create,update,delete:*",
        "messages:read,publish:*", "kv_stores:read,create,update:*",
        "object_stores:read,create,update:*", "dashboards:*:own", "alerts:read,create,update:*",
        "operations:read:*",
    ),
    "viewer": _role(
        "clusters:read:*", "streams:read:*", "consumers:read:*", "messages:read:*",
        "kv_stores:read:*", "object_stores:read:*", "dashboards:read:*", "alerts:read:*",
        "operations:read:*",
    ),
    "operator": _role(
        "clusters:read:*", "streams:read:*", "consumers:read,pause:*", "messages:read,publish:*",
        "kv_stores:read,update:*", "object_stores:read:*", "alerts:read:*", "operations:read:*",
    ),
}


def _matches(granted: str, wanted: str) -> bool:
    return granted == "*" or granted == wanted


def allows(granted: frozenset[str] | set[str], needed: str, scope: str = "*") -> bool:
    """Whether any granted permission covers ``needed`` (``resource:action``) in ``scope``.

    A granted ``manage`` action covers every action of its resource; a granted scope ``*`` covers
    every scope.
    """
    resource, action = needed.split(":")
    for perm in granted:
        g_res, g_act, g_scope = perm.split(":", 2)
        if not _matches(g_res, resource):
            continue
        if not (_matches(g_act, action) or g_act == "manage"):
            continue
        if g_scope == "*" or g_scope == scope:
            return True
    return False


def permissions_for_role(role: str) -> frozenset[str]:
    return BUILTIN_ROLES.get(role, frozenset())
