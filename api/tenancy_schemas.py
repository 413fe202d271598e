"""Request and response bodies of sign-up, MFA, organizations, users, teams, roles and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.schemas import EMAIL, LoginRequest, Me, OrganizationRef, TokenPair
from core.labels import Description, Label
from core.rbac import validate_permission
from core.schema_rules import not_both, rules

ROLE_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
# A password a person chooses (sign-up, an invitation accepted, a reset).
NewPassword = Annotated[str, Field(min_length=8, max_length=1024)]


def _permissions(values: list[str]) -> list[str]:
    return sorted({validate_permission(v) for v in values})


class LoginBody(LoginRequest):
    code: str | None = Field(default=None, max_length=16, description="TOTP code, when MFA is on")
    organization_id: uuid.UUID | None = Field(
        default=None, description="which of your organizations to sign in to (default: the first)"
    )


class RegisterRequest(BaseModel):
    """Either a new organization (``email``, ``password``, ``organization_name``) or an
    invitation's acceptance (``token``, ``password``)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=rules(not_both("token", "organization_name"))
    )
    password: NewPassword
    email: str | None = Field(default=None, min_length=3, max_length=320)
    organization_name: Label | None = Field(default=None, min_length=1, max_length=255)
    token: str | None = Field(default=None, min_length=10, max_length=512)
    code: str | None = Field(
        default=None,
        max_length=16,
        description="TOTP code of an existing account with MFA on that accepts an invitation",
    )
    first_name: Label = Field(default="", max_length=100)
    last_name: Label = Field(default="", max_length=100)

    @model_validator(mode="after")
    def _one_way(self) -> RegisterRequest:
        if self.token is None and not (self.email and self.organization_name):
            raise ValueError(
                "give 'token' (an invitation), or 'email' and 'organization_name' "
                "(a new organization)"
            )
        if self.token is not None and self.organization_name is not None:
            raise ValueError("give 'token' or 'organization_name', not both")
        return self


class ForgotPasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(
        min_length=3,
        max_length=320,
        pattern=EMAIL,
        description="the account's address: a reset link is mailed to it",
    )


class ResetRequested(BaseModel):
    """The same answer whether or not an account uses the address."""

    detail: str


class ResetPasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=10, max_length=512, description="the token of the mailed link")
    password: NewPassword


class RegisterResult(TokenPair):
    user_id: uuid.UUID
    role: str
    organization: OrganizationRef


class MeOut(Me):
    mfa_enabled: bool
    api_key_id: uuid.UUID | None = None
    teams: list[dict] = []


class SessionOut(BaseModel):
    """One live sign-in session of the caller."""

    id: uuid.UUID
    organization_id: uuid.UUID | None = Field(description="the organization it is signed in to")
    device: str = Field(description="a short name for the client, from its User-Agent")
    user_agent: str
    ip_address: str = Field(description="the address it signed in from")
    last_ip: str = Field(description="the address it was last used from")
    created_at: datetime
    last_used_at: datetime = Field(description="recorded at most every 30 seconds")
    expires_at: datetime | None
    current: bool = Field(description="the session of this request")


class SessionsRevoked(BaseModel):
    revoked: int = Field(description="how many sessions ended")


class MfaCode(BaseModel):
    code: str = Field(min_length=6, max_length=16)


class MfaSetup(BaseModel):
    secret: str
    provisioning_uri: str
    mfa_enabled: bool = False


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label = Field(min_length=1, max_length=255)


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label | None = Field(default=None, min_length=1, max_length=255)
    rate_limit_per_minute: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="requests per minute per user; 0: back to the console's default",
    )


class OrganizationOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    plan: str
    role: str | None = None
    rate_limit_per_minute: int | None = None
    created_at: datetime


class InviteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320)
    role: str = Field(min_length=1, max_length=64)
    team_id: uuid.UUID | None = None


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    role: str
    team_id: uuid.UUID | None
    expires_at: datetime
    accepted_at: datetime | None = None
    created_at: datetime | None = None


class InvitationCreated(InvitationOut):
    token: str = Field(description="shown once: POST /auth/register {token, password} accepts it")
    mailed: bool = False


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    status: str
    role: str
    mfa_enabled: bool
    last_login_at: datetime | None
    joined_at: datetime
    teams: list[dict] = []


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str | None = Field(default=None, min_length=1, max_length=64)
    first_name: Label | None = Field(default=None, max_length=100)
    last_name: Label | None = Field(default=None, max_length=100)


class NamespaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cluster_id: uuid.UUID
    prefix: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,200}$",
        description="stream names starting with it, e.g. 'payments-'",
    )


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label = Field(min_length=1, max_length=255)
    description: Description = Field(default="", max_length=2000)
    namespaces: list[NamespaceIn] = Field(default_factory=list, max_length=100)


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label | None = Field(default=None, min_length=1, max_length=255)
    description: Description | None = Field(default=None, max_length=2000)
    namespaces: list[NamespaceIn] | None = Field(default=None, max_length=100)


class TeamMemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID
    role: Literal["owner", "member"] = "member"


class TeamMemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    role: str
    added_at: datetime


class TeamOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    namespaces: list[NamespaceIn]
    members: list[TeamMemberOut] | None = None
    created_at: datetime
    updated_at: datetime


class RoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=ROLE_NAME, description="lowercase letters, digits, '-', '_'")
    description: Description = Field(default="", max_length=2000)
    permissions: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="resource:action:scope, e.g. streams:create:team",
    )

    _valid = field_validator("permissions")(_permissions)


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, pattern=ROLE_NAME)
    description: Description | None = Field(default=None, max_length=2000)
    permissions: list[str] | None = Field(default=None, max_length=500)

    @field_validator("permissions")
    @classmethod
    def _valid(cls, values: list[str] | None) -> list[str] | None:
        return _permissions(values) if values is not None else None


class RoleOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    is_system: bool
    permissions: list[str]
    members: int


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label = Field(min_length=1, max_length=255)
    scopes: list[str] = Field(
        default_factory=lambda: ["*:*:*"],
        max_length=200,
        description="resource:action:scope; '*:*:*' is everything the "
        "owner's role allows, now and later",
    )
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    rate_limit_per_minute: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="requests per minute of this key; at most the organization's limit (a larger "
        "value is refused, and a lower organization limit applies at once)",
    )

    @field_validator("scopes")
    @classmethod
    def _valid(cls, values: list[str]) -> list[str]:
        if not values:
            raise ValueError("give at least one scope, e.g. streams:read:*")
        return _permissions(values)


class ApiKeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label | None = Field(default=None, min_length=1, max_length=255)
    scopes: list[str] | None = Field(default=None, min_length=1, max_length=200)
    rate_limit_per_minute: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="requests per minute of this key; at most the organization's limit (a larger "
        "value is refused, and a lower organization limit applies at once)",
    )

    @field_validator("scopes")
    @classmethod
    def _valid(cls, values: list[str] | None) -> list[str] | None:
        return _permissions(values) if values is not None else None


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    user_id: uuid.UUID
    scopes: list[str]
    rate_limit_per_minute: int | None
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="shown once; send it as 'X-API-Key' or 'Authorization: Bearer'")
