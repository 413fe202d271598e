"""Request and response bodies of the GitOps routes (``/api/v1/gitops``)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from core.labels import Label
from gitops.git import GitError, check_ref, parse_url
from gitops.planner import parse_duration

ENV_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"
MIN_INTERVAL_S, MAX_INTERVAL_S = 30, 7 * 24 * 3600
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
EnvName = Annotated[str, StringConstraints(pattern=ENV_NAME)]
Namespace = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_-]+$")
]


def interval_seconds(value: str | int) -> int:
    """A period given as seconds or as a duration ("30s", "5m", "1h", "7d")."""
    if isinstance(value, str) and value.strip().endswith("d") and value.strip()[:-1].isdigit():
        seconds = int(value.strip()[:-1]) * 86400
    elif isinstance(value, str):
        ns = parse_duration(value.strip())
        if not isinstance(ns, int):
            raise ValueError(f"'{value}' is not a duration: use seconds or e.g. 30s, 5m, 1h, 7d")
        seconds = ns // 10**9
    else:
        seconds = int(value)
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise ValueError("must be between 30s and 7d")
    return seconds


class _RepoFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("name", check_fields=False)
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():  # control characters: refused by ``Label``
            raise ValueError("must not be blank")
        return value

    @field_validator("branch", check_fields=False)
    @classmethod
    def _branch(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_ref(value, "branch name")
            except GitError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("path", check_fields=False)
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = value.strip().strip("/")
        parts = value.split("/") if value else []
        if any(p in ("", ".", "..") for p in parts) or _CONTROL.search(value) or "\\" in value:
            raise ValueError(
                "must be a relative directory inside the repository, without '..' "
                "(e.g. 'nats' or 'config/nats'), or empty for the root"
            )
        return value

    @field_validator("interval", check_fields=False)
    @classmethod
    def _interval(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            interval_seconds(value)
        return value


class RepoCreate(_RepoFields):
    """A repository to keep the clusters in sync with. Secrets (``webhook_secret``, ``token``,
    ``ssh_key``) are stored encrypted and never returned."""

    name: Label | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Default: the last part of the URL, without .git",
    )
    url: str = Field(
        min_length=1,
        max_length=2048,
        description=(
            "https://host/path, ssh://user@host/path, user@host:path, or file:///path (only under "
            "the directory the platform allows for local repositories)"
        ),
    )
    branch: str = Field(default="main", min_length=1, max_length=255)
    path: str = Field(
        default="",
        max_length=1024,
        description="The directory holding environments/<env>/, '' for the root",
    )
    environments: dict[EnvName, uuid.UUID] = Field(
        min_length=1,
        max_length=50,
        description=("environments/<env>/ of the repository → the cluster it is applied to"),
    )
    sync: Literal["auto", "manual"] = "auto"
    prune: Literal["never", "with_approval"] = "never"
    interval: str | int = Field(default="5m", description="How often drift is checked (30s..7d)")
    on_drift: Literal["report", "revert"] = "report"
    namespaces: list[Namespace] = Field(
        default_factory=list,
        max_length=100,
        description=(
            "Stream-name prefixes the repository manages: what is there and not in git is "
            "unmanaged drift, and pruned when prune allows"
        ),
    )
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=256)
    token: str | None = Field(default=None, min_length=1, max_length=4096)
    ssh_key: str | None = Field(default=None, min_length=1, max_length=16384)
    known_hosts: str | None = Field(default=None, min_length=1, max_length=16384)

    @model_validator(mode="after")
    def _credentials(self) -> RepoCreate:
        check_credentials(self.url, self.token, self.ssh_key, self.known_hosts)
        return self


def check_credentials(
    url: str, token: str | None, ssh_key: str | None, known_hosts: str | None
) -> str:
    """The auth type the URL and credentials make; ValueError when they do not go together."""
    try:
        scheme = parse_url(url.strip()).scheme
    except GitError as exc:
        raise ValueError(f"url: {exc}") from None
    if token and scheme != "https":
        raise ValueError("token: a token is for https remotes only")
    if (ssh_key or known_hosts) and scheme != "ssh":
        raise ValueError("ssh_key: a key and known_hosts are for ssh remotes only")
    if scheme == "ssh" and not known_hosts:
        raise ValueError(
            "known_hosts: an ssh remote needs the host's key line(s) "
            "(ssh-keyscan <host>), so the console knows it talks to your git host"
        )
    if ssh_key and "PRIVATE KEY" not in ssh_key:
        raise ValueError("ssh_key: give the private key in OpenSSH or PEM format")
    return "token" if token else "ssh_key" if ssh_key else "none"


class RepoChange(_RepoFields):
    """A partial change: only the fields given change; ``webhook_secret``, ``token`` or
    ``ssh_key`` set to null removes it."""

    name: Label | None = Field(default=None, min_length=1, max_length=255)
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    branch: str | None = Field(default=None, min_length=1, max_length=255)
    path: str | None = Field(default=None, max_length=1024)
    environments: dict[EnvName, uuid.UUID] | None = Field(default=None, min_length=1, max_length=50)
    sync: Literal["auto", "manual"] | None = None
    prune: Literal["never", "with_approval"] | None = None
    interval: str | int | None = None
    on_drift: Literal["report", "revert"] | None = None
    namespaces: list[Namespace] | None = Field(default=None, max_length=100)
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=256)
    token: str | None = Field(default=None, min_length=1, max_length=4096)
    ssh_key: str | None = Field(default=None, min_length=1, max_length=16384)
    known_hosts: str | None = Field(default=None, min_length=1, max_length=16384)


class EnvStatus(BaseModel):
    cluster_id: uuid.UUID
    cluster_name: str | None
    resources: int
    synced: bool
    drift: int
    last_sync_at: datetime | None


class FieldChange(BaseModel):
    field: str
    before: Any = None
    after: Any = None


class ChangeView(BaseModel):
    action: Literal["create", "update", "replace", "delete"]
    kind: Literal["stream", "consumer", "kv", "object_store"]
    name: str
    stream: str | None = None
    resource: str
    reason: str = ""
    source: str = ""
    fields: list[FieldChange] = Field(default_factory=list)


class EnvPlan(BaseModel):
    cluster_id: uuid.UUID
    resources: int = 0
    changes: list[ChangeView] = Field(default_factory=list)
    skipped_deletions: list[ChangeView] = Field(default_factory=list)
    needs_approval: bool = False


class SyncPlan(BaseModel):
    environments: dict[str, EnvPlan] = Field(default_factory=dict)
    summary: str = ""
    diff: str = ""


class SyncResult(BaseModel):
    environment: str
    resource: str
    action: str
    status: Literal["applied", "failed", "skipped"]
    error: str | None = None
    source: str = ""


class SyncView(BaseModel):
    id: uuid.UUID
    repo_id: uuid.UUID
    trigger: Literal["webhook", "manual", "poll", "drift_revert"]
    ref: str
    commit: str | None
    author: str
    message: str
    status: Literal[
        "pending",
        "running",
        "waiting_approval",
        "applying",
        "succeeded",
        "no_changes",
        "partially_applied",
        "failed",
        "rejected",
    ]
    plan: SyncPlan
    results: list[SyncResult]
    errors: list[str]
    warnings: list[str]
    error: str | None
    request_id: uuid.UUID | None
    operation_id: uuid.UUID | None
    created_at: datetime
    finished_at: datetime | None


class RepoView(BaseModel):
    id: uuid.UUID
    name: str
    url: str
    branch: str
    path: str
    environments: dict[str, uuid.UUID]
    sync: Literal["auto", "manual"]
    prune: Literal["never", "with_approval"]
    interval_seconds: int
    on_drift: Literal["report", "revert"]
    namespaces: list[str]
    auth_type: Literal["none", "token", "ssh_key"]
    has_webhook_secret: bool
    webhook_url: str
    last_commit: str | None
    status: dict[str, EnvStatus]
    last_sync: SyncView | None
    last_scan: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class SyncStarted(BaseModel):
    sync_id: uuid.UUID
    operation_id: uuid.UUID
    status: str


class SyncNow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="A branch, tag or commit; default: the repository's branch",
    )

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_ref(value)
            except GitError as exc:
                raise ValueError(str(exc)) from None
        return value


class PlanView(BaseModel):
    commit: str | None
    author: str = ""
    message: str = ""
    errors: list[str]
    warnings: list[str]
    environments: dict[str, EnvPlan]
    summary: str
    diff: str
    needs_approval: bool


class WebhookAnswer(BaseModel):
    status: Literal["started", "ignored"]
    reason: str | None = None
    sync_id: uuid.UUID | None = None
    commit: str | None = None
