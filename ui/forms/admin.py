"""Administration forms: inviting a user, a team and its namespaces, a custom role, an API key.
Permissions are ``resource:action:scope``; the resources and actions come from the API's
``/permissions`` (passed in), each part may also be ``*``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ui.client import ApiKeySpec, InviteSpec, NamespaceSpec, RoleSpec, TeamSpec
from ui.forms.common import split_list

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROLE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NAMESPACE_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
SCOPE = re.compile(r"^(\*|own|team|team:[0-9a-f-]{36}|cluster:[0-9a-f-]{36})$")
SCOPE_HINT = "*, own, team, team:<team id> or cluster:<cluster id>"
MAX_KEY_DAYS = 3650


def email_problem(email: str) -> str | None:
    if not email:
        return "Give the email address of the person to invite."
    if len(email) > 320 or not EMAIL.match(email):
        return f'"{email}" is not an email address.'
    return None


def check_invite_form(
    *, email: str, role: str, team_id: str | None = None, roles: Iterable[str] = ()
) -> tuple[InviteSpec | None, list[str]]:
    email = (email or "").strip()
    problems = [p for p in (email_problem(email),) if p]
    known = list(roles)
    if not role:
        problems.append("Choose the role the person will have.")
    elif known and role not in known:
        problems.append(f'There is no role named "{role}".')
    if problems:
        return None, problems
    spec: InviteSpec = {"email": email, "role": role}
    if team_id:
        spec["team_id"] = team_id
    return spec, []


def check_team_form(
    *, name: str, description: str = "", cluster_id: str | None = None, prefixes: str = ""
) -> tuple[TeamSpec | None, list[str]]:
    """A new team; ``prefixes`` (one per line or comma separated) are its stream-name
    namespaces on ``cluster_id``."""
    name, problems = (name or "").strip(), []
    if not name:
        problems.append("Give the team a name.")
    elif len(name) > 255:
        problems.append("A team name has at most 255 characters.")
    if len(description or "") > 2000:
        problems.append("A description has at most 2000 characters.")
    namespaces, found = namespaces_of(cluster_id, prefixes)
    problems += found
    if problems:
        return None, problems
    return {"name": name, "description": (description or "").strip(), "namespaces": namespaces}, []


def namespaces_of(cluster_id: str | None, prefixes: str) -> tuple[list[NamespaceSpec], list[str]]:
    wanted = split_list(prefixes)
    if not wanted:
        return [], []
    if not cluster_id:
        return [], ["Choose the cluster the stream-name prefixes are on."]
    problems = [
        f"The prefix \"{p}\" may only contain letters, digits, '-' and '_' (at most 200)."
        for p in wanted
        if not NAMESPACE_PREFIX.match(p)
    ]
    if len(set(wanted)) != len(wanted):
        problems.append("A prefix is given twice; give each once.")
    return [{"cluster_id": cluster_id, "prefix": p} for p in wanted], problems


def permission_problem(
    permission: str, resources: Sequence[str], actions: Sequence[str]
) -> str | None:
    """Why ``resource:action:scope`` is not a permission, or None."""
    parts = [p.strip() for p in permission.split(":", 2)]
    if len(parts) != 3:
        return f'"{permission}" is not of the form resource:action:scope (e.g. streams:read:*).'
    resource, action, scope = parts
    if resource != "*" and resources and resource not in resources:
        return (
            f'In "{permission}", "{resource}" is not a resource; one of: *, {", ".join(resources)}.'
        )
    if action != "*" and actions and action not in actions:
        return f'In "{permission}", "{action}" is not an action; one of: *, {", ".join(actions)}.'
    if not SCOPE.match(scope):
        return f'In "{permission}", "{scope}" is not a scope; one of: {SCOPE_HINT}.'
    return None


def check_permissions(
    text: str, resources: Sequence[str] = (), actions: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """Permissions typed one per line (or comma separated): (sorted, without repeats; problems)."""
    wanted = [":".join(p.strip() for p in item.split(":", 2)) for item in split_list(text)]
    problems = [p for p in (permission_problem(w, resources, actions) for w in wanted) if p]
    return sorted(set(wanted)), problems


def check_role_form(
    *,
    name: str,
    description: str = "",
    permissions: str = "",
    resources: Sequence[str] = (),
    actions: Sequence[str] = (),
    taken: Iterable[str] = (),
) -> tuple[RoleSpec | None, list[str]]:
    name, problems = (name or "").strip(), []
    if not name:
        problems.append("Give the role a name.")
    elif not ROLE_NAME.match(name):
        problems.append(
            "A role name is lowercase letters, digits, '-' and '_' (starting with a "
            "letter or digit, at most 64)."
        )
    elif name in set(taken):
        problems.append(f'A role named "{name}" already exists; choose another name.')
    if len(description or "") > 2000:
        problems.append("A description has at most 2000 characters.")
    perms, found = check_permissions(permissions, resources, actions)
    problems += found
    if not perms and not found:
        problems.append("Give the role at least one permission, e.g. streams:read:*.")
    if problems:
        return None, problems
    return {"name": name, "description": (description or "").strip(), "permissions": perms}, []


def check_api_key_form(
    *,
    name: str,
    scopes: str = "",
    expires_in_days: int | None = None,
    resources: Sequence[str] = (),
    actions: Sequence[str] = (),
) -> tuple[ApiKeySpec | None, list[str]]:
    """A new API key; no scope means everything the owner's role allows (``*:*:*``), no expiry
    (0 or empty) means it does not expire."""
    name, problems = (name or "").strip(), []
    if not name:
        problems.append("Give the key a name, e.g. what will use it.")
    elif len(name) > 255:
        problems.append("A key name has at most 255 characters.")
    perms, found = check_permissions(scopes, resources, actions)
    problems += found
    days = int(expires_in_days or 0)
    if days < 0 or days > MAX_KEY_DAYS:
        problems.append(f"A key expires after 1 to {MAX_KEY_DAYS} days (0: never).")
    if problems:
        return None, problems
    spec: ApiKeySpec = {"name": name}
    if perms:
        spec["scopes"] = perms
    if days:
        spec["expires_in_days"] = days
    return spec, []
