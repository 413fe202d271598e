"""Request and response bodies of the API that are not JetStream's own JSON."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.labels import Description

Environment = Literal["production", "staging", "development"]
CLUSTER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


EMAIL = r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+$"


class LoginRequest(BaseModel):
    email: str = Field(min_length=3, max_length=320, pattern=EMAIL)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=512)


class LogoutRequest(BaseModel):
    refresh_token: str | None = None


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class OrganizationRef(BaseModel):
    id: uuid.UUID
    name: str
    slug: str


class Me(BaseModel):
    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    role: str
    permissions: list[str]
    organization: OrganizationRef


class Credentials(BaseModel):
    """How the console authenticates to a cluster. Write-only: never returned."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["none", "user_password", "token", "creds"] = "none"
    username: str | None = None
    password: str | None = None
    token: str | None = None
    creds: str | None = Field(default=None, description="content of a .creds file")

    @model_validator(mode="after")
    def _complete(self) -> Credentials:
        needed = {
            "user_password": ("username", "password"),
            "token": ("token",),
            "creds": ("creds",),
        }.get(self.type, ())
        missing = [f for f in needed if not getattr(self, f)]
        if missing:
            raise ValueError(f"credentials of type '{self.type}' need {', '.join(missing)}")
        return self


class TlsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ca_pem: str | None = None
    cert_pem: str | None = None
    key_pem: str | None = None
    insecure_skip_verify: bool = False


def _check_urls(urls: list[str]) -> list[str]:
    for url in urls:
        if "@" in url.split("://", 1)[-1].split("/", 1)[0]:  # userinfo: not echoed back
            raise ValueError(
                "a server URL must not carry credentials (user:password@ or "
                "token@): give them in the credentials field (type user_password "
                "or token), where they are kept encrypted and never shown"
            )
        if not re.match(r"^(nats|tls|ws|wss)://[^\s/]+(:\d+)?/?$", url):
            raise ValueError(f"'{url}' is not a NATS server URL such as nats://host:4222")
    return urls


class ClusterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=CLUSTER_NAME, description="letters, digits, '-', '_', '.'")
    description: Description = Field(default="", max_length=2000)
    environment: Environment
    server_urls: list[str] = Field(min_length=1, max_length=32)
    jetstream_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    monitoring_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    credentials: Credentials = Field(default_factory=Credentials)
    tls: TlsOptions | None = None

    _urls = field_validator("server_urls")(_check_urls)


class ClusterUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, pattern=CLUSTER_NAME)
    description: Description | None = Field(default=None, max_length=2000)
    environment: Environment | None = None
    server_urls: list[str] | None = Field(default=None, min_length=1, max_length=32)
    jetstream_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    monitoring_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    credentials: Credentials | None = None
    tls: TlsOptions | None = None

    @field_validator("server_urls")
    @classmethod
    def _urls(cls, urls: list[str] | None) -> list[str] | None:
        return _check_urls(urls) if urls is not None else None


class ClusterOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    environment: Environment
    server_urls: list[str]
    jetstream_domain: str | None
    monitoring_url: str | None
    credentials_type: str
    tls_enabled: bool
    status: str
    version: str | None
    created_at: datetime
    updated_at: datetime


class ClusterHealth(BaseModel):
    status: Literal["healthy", "degraded", "unreachable"]
    connected: bool
    jetstream: bool
    rtt_ms: float | None = None
    version: str | None = None
    error: str | None = None
    checked_at: datetime


class PurgeResult(BaseModel):
    purged: int
    dry_run: bool = False
    would_purge: dict | None = Field(default=None, description="{messages, bytes, bytes_estimated}")
