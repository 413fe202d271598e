"""Administration of the organization: its users and invitations, its teams (members and
namespaces), its roles (built-in and custom, each a set of ``resource:action:scope``) and API keys.
A secret (an invitation's token, an API key) is answered once, by the call that made it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from ui.client.base import BaseClient, _items, _seg

TeamRole = Literal["owner", "member"]


# ---- users and invitations


@dataclass(frozen=True)
class User:
    id: str
    email: str
    first_name: str
    last_name: str
    role: str
    status: str
    mfa_enabled: bool
    last_login_at: str | None
    joined_at: str | None
    teams: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> User:
        return cls(
            str(data["id"]),
            str(data.get("email") or ""),
            data.get("first_name") or "",
            data.get("last_name") or "",
            str(data.get("role") or ""),
            str(data.get("status") or ""),
            bool(data.get("mfa_enabled")),
            data.get("last_login_at"),
            data.get("joined_at"),
            tuple(dict(t) for t in data.get("teams") or ()),
        )

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email


@dataclass(frozen=True)
class Invitation:
    id: str
    email: str
    role: str
    team_id: str | None
    expires_at: str | None
    created_at: str | None
    token: str | None = None  # only in the answer to the invitation itself
    mailed: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Invitation:
        team = data.get("team_id")
        return cls(
            str(data["id"]),
            str(data.get("email") or ""),
            str(data.get("role") or ""),
            None if team is None else str(team),
            data.get("expires_at"),
            data.get("created_at"),
            data.get("token"),
            bool(data.get("mailed")),
        )


class InviteSpec(TypedDict, total=False):
    email: str
    role: str
    team_id: str


class UserChanges(TypedDict, total=False):
    role: str
    first_name: str
    last_name: str


# ---- teams


@dataclass(frozen=True)
class Namespace:
    cluster_id: str
    prefix: str


@dataclass(frozen=True)
class TeamMember:
    user_id: str
    email: str
    role: str
    added_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TeamMember:
        return cls(
            str(data["user_id"]),
            str(data.get("email") or ""),
            str(data.get("role") or "member"),
            data.get("added_at"),
        )


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    description: str
    namespaces: tuple[Namespace, ...]
    members: tuple[TeamMember, ...] | None  # None when the list did not include them
    created_at: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Team:
        members = data.get("members")
        return cls(
            str(data["id"]),
            str(data.get("name") or ""),
            data.get("description") or "",
            tuple(
                Namespace(str(n["cluster_id"]), str(n["prefix"]))
                for n in data.get("namespaces") or ()
            ),
            None if members is None else tuple(TeamMember.from_json(m) for m in members),
            data.get("created_at"),
        )


class NamespaceSpec(TypedDict):
    cluster_id: str
    prefix: str


class TeamSpec(TypedDict, total=False):
    name: str
    description: str
    namespaces: list[NamespaceSpec]


# ---- roles and permissions


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    description: str
    is_system: bool
    permissions: tuple[str, ...]
    members: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Role:
        return cls(
            str(data["id"]),
            str(data.get("name") or ""),
            data.get("description") or "",
            bool(data.get("is_system")),
            tuple(data.get("permissions") or ()),
            int(data.get("members") or 0),
        )


@dataclass(frozen=True)
class PermissionCatalog:
    """What a permission ``resource:action:scope`` may name (each part may also be ``*``)."""

    resources: tuple[str, ...]
    actions: tuple[str, ...]
    scopes: tuple[str, ...]
    design_roles: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PermissionCatalog:
        return cls(
            tuple(data.get("resources") or ()),
            tuple(data.get("actions") or ()),
            tuple(data.get("scopes") or ()),
            tuple(data.get("design_roles") or ()),
        )


class RoleSpec(TypedDict, total=False):
    name: str
    description: str
    permissions: list[str]


# ---- API keys


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    user_id: str
    scopes: tuple[str, ...]
    rate_limit_per_minute: int | None
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None
    created_at: str | None
    key: str | None = None  # the secret: only in the answer to a creation or a rotation

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApiKey:
        return cls(
            str(data["id"]),
            str(data.get("name") or ""),
            str(data.get("prefix") or ""),
            str(data.get("user_id") or ""),
            tuple(data.get("scopes") or ()),
            data.get("rate_limit_per_minute"),
            data.get("expires_at"),
            data.get("last_used_at"),
            data.get("revoked_at"),
            data.get("created_at"),
            data.get("key"),
        )

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class ApiKeySpec(TypedDict, total=False):
    name: str
    scopes: list[str]
    expires_in_days: int
    rate_limit_per_minute: int


# ---- the calls


class AdminApi(BaseClient):
    # users

    def list_users(self) -> list[User]:
        return [User.from_json(u) for u in _items(self._request("GET", "/users"))]

    def update_user(self, user_id: str, changes: UserChanges) -> User:
        return User.from_json(self._request("PATCH", f"/users/{_seg(user_id)}", json=dict(changes)))

    def remove_user(self, user_id: str) -> None:
        """Remove the user from the organization (the account itself stays)."""
        self._request("DELETE", f"/users/{_seg(user_id)}")

    def unlock_user(self, user_id: str) -> None:
        self._request("POST", f"/users/{_seg(user_id)}/unlock")

    def revoke_user_sessions(self, user_id: str) -> int:
        """Sign the member out of every session they have in this organization; how many."""
        return int(self._request("DELETE", f"/users/{_seg(user_id)}/sessions")["revoked"])

    def invite_user(self, spec: InviteSpec) -> Invitation:
        """Invite someone; the answer carries the invitation's token, once."""
        return Invitation.from_json(self._request("POST", "/users/invite", json=dict(spec)))

    def list_invitations(self) -> list[Invitation]:
        return [Invitation.from_json(i) for i in _items(self._request("GET", "/users/invitations"))]

    def revoke_invitation(self, invitation_id: str) -> None:
        self._request("DELETE", f"/users/invitations/{_seg(invitation_id)}")

    # teams

    def list_teams(self) -> list[Team]:
        return [Team.from_json(t) for t in _items(self._request("GET", "/teams"))]

    def team(self, team_id: str) -> Team:
        return Team.from_json(self._request("GET", f"/teams/{_seg(team_id)}"))

    def create_team(self, spec: TeamSpec) -> Team:
        return Team.from_json(self._request("POST", "/teams", json=dict(spec)))

    def update_team(self, team_id: str, changes: TeamSpec) -> Team:
        return Team.from_json(self._request("PATCH", f"/teams/{_seg(team_id)}", json=dict(changes)))

    def delete_team(self, team_id: str) -> None:
        self._request("DELETE", f"/teams/{_seg(team_id)}")

    def add_team_member(self, team_id: str, user_id: str, role: TeamRole = "member") -> TeamMember:
        data = self._request(
            "POST", f"/teams/{_seg(team_id)}/members", json={"user_id": user_id, "role": role}
        )
        return TeamMember.from_json(data)

    def remove_team_member(self, team_id: str, user_id: str) -> None:
        self._request("DELETE", f"/teams/{_seg(team_id)}/members/{_seg(user_id)}")

    # roles

    def list_roles(self) -> list[Role]:
        return [Role.from_json(r) for r in _items(self._request("GET", "/roles"))]

    def permission_catalog(self) -> PermissionCatalog:
        return PermissionCatalog.from_json(self._request("GET", "/permissions"))

    def create_role(self, spec: RoleSpec) -> Role:
        return Role.from_json(self._request("POST", "/roles", json=dict(spec)))

    def update_role(self, role_id: str, changes: RoleSpec) -> Role:
        return Role.from_json(self._request("PATCH", f"/roles/{_seg(role_id)}", json=dict(changes)))

    def delete_role(self, role_id: str) -> None:
        self._request("DELETE", f"/roles/{_seg(role_id)}")

    # API keys

    def list_api_keys(self) -> list[ApiKey]:
        return [ApiKey.from_json(k) for k in _items(self._request("GET", "/api-keys"))]

    def create_api_key(self, spec: ApiKeySpec) -> ApiKey:
        """A new key; its ``key`` (the secret) is in this answer and never again."""
        return ApiKey.from_json(self._request("POST", "/api-keys", json=dict(spec)))

    def rotate_api_key(self, key_id: str) -> ApiKey:
        """A new secret for the key (in this answer only); the previous one stops working."""
        return ApiKey.from_json(self._request("POST", f"/api-keys/{_seg(key_id)}/rotate"))

    def revoke_api_key(self, key_id: str) -> None:
        self._request("DELETE", f"/api-keys/{_seg(key_id)}")
