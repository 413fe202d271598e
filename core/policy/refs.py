"""Approval groups refer to roles and teams by id, shown by name (pure).

``resolve`` fills a policy's ``role_ids``/``team_ids`` from the names it is saved with (the
organization's roles and teams at that moment); a name that names nothing yet gets ``""`` and grants
nothing until the policy is saved again after the role or team exists. ``relabel`` shows a group
with the current names of its ids. ``holds`` is the eligibility test of a voter's role and teams
against a group: by id, or by name for a group decided before ids existed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.policy.models import ApprovalGroup, ApprovalPolicy


def resolve_group(
    group: ApprovalGroup, roles: Mapping[str, str], teams: Mapping[str, str]
) -> ApprovalGroup:
    """``roles``/``teams``: name -> id in the organization (built-in roles: name -> name)."""
    return group.model_copy(
        update={
            "role_ids": [roles.get(r, "") for r in group.roles],
            "team_ids": [teams.get(t, "") for t in group.teams],
        }
    )


def resolve(
    policy: ApprovalPolicy, roles: Mapping[str, str], teams: Mapping[str, str]
) -> ApprovalPolicy:
    return policy.model_copy(
        update={"groups": [resolve_group(g, roles, teams) for g in policy.groups]}
    )


def relabel(
    group: ApprovalGroup, role_names: Mapping[str, str], team_names: Mapping[str, str]
) -> ApprovalGroup:
    """The group with each id's current name (a name whose id is gone or empty stays)."""
    update = {}
    if group.role_ids is not None:
        update["roles"] = [
            role_names.get(i, n) if i else n
            for n, i in zip(group.roles, group.role_ids, strict=False)
        ]
    if group.team_ids is not None:
        update["teams"] = [
            team_names.get(i, n) if i else n
            for n, i in zip(group.teams, group.team_ids, strict=False)
        ]
    return group.model_copy(update=update) if update else group


def by_id(group: ApprovalGroup) -> bool:
    return group.role_ids is not None or group.team_ids is not None


def holds(
    group: ApprovalGroup,
    role: str,
    role_id: str | None,
    teams: Iterable[str],
    team_ids: Iterable[str],
) -> bool:
    """Whether a voter with this role and these teams is one of the group's roles or teams."""
    if not by_id(group):  # decided before ids: the names the API vouched for
        return role in group.roles or any(t in group.teams for t in teams)
    role_ok = bool(role_id) and role_id in (group.role_ids or [])
    wanted = {t for t in group.team_ids or [] if t}
    return role_ok or bool(wanted & set(team_ids))
