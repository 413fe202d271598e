"""GitOps state (issue 13): repositories kept in sync with clusters, their syncs, the webhook
deliveries already seen, and the drift found between git and the clusters.

Imported by ``core.db.models`` so every model sits on the same metadata.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, IdMixin, TimestampMixin
from core.db.models import _enum, _fk

GITOPS_SYNC_MODES = ("auto", "manual")
GITOPS_PRUNE_MODES = ("never", "with_approval")
GITOPS_DRIFT_MODES = ("report", "revert")
GITOPS_AUTH_TYPES = ("none", "token", "ssh_key")
GITOPS_TRIGGERS = ("webhook", "manual", "poll", "drift_revert")
GITOPS_SYNC_STATES = (
    "pending",
    "running",
    "waiting_approval",
    "applying",
    "succeeded",
    "no_changes",
    "partially_applied",
    "failed",
    "rejected",
)
GITOPS_DRIFT_TYPES = ("changed", "missing", "unmanaged")
GITOPS_DRIFT_STATES = ("open", "ignored", "reverting", "resolved")


class GitRepository(IdMixin, TimestampMixin, Base):
    """A git repository whose ``environments/<env>/`` directories (under ``path``) are the desired
    configuration of the clusters ``environments`` maps them to (``{env: cluster_id}``).

    ``credentials`` is an AES-256-GCM envelope (``core.security.Cipher``, context
    ``gitops-repo:<id>``) of ``{"token": ...}`` or ``{"ssh_key": ..., "known_hosts": ...}`` as
    ``auth_type`` says; ``webhook_secret`` one of the webhook's shared secret. Neither is ever
    returned. ``sync`` says whether a push is applied on its own (``auto``) or only on "Sync
    now"; ``prune`` whether deleting what git no longer has is allowed (always through approval);
    ``on_drift`` what the drift schedule does with what it finds; ``interval_seconds`` its period.
    ``namespaces`` are the stream-name prefixes the repository manages: a resource there that git
    does not have is reported as ``unmanaged`` drift (empty: only what git has, or had)."""

    __tablename__ = "gitops_repos"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(2048))
    branch: Mapped[str] = mapped_column(String(255), default="main")
    path: Mapped[str] = mapped_column(String(1024), default="")
    environments: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    sync: Mapped[str] = mapped_column(_enum("gitops_sync_mode", *GITOPS_SYNC_MODES), default="auto")
    prune: Mapped[str] = mapped_column(
        _enum("gitops_prune_mode", *GITOPS_PRUNE_MODES), default="never"
    )
    on_drift: Mapped[str] = mapped_column(
        _enum("gitops_drift_mode", *GITOPS_DRIFT_MODES), default="report"
    )
    interval_seconds: Mapped[int] = mapped_column(Integer, default=300)
    namespaces: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    auth_type: Mapped[str] = mapped_column(
        _enum("gitops_auth_type", *GITOPS_AUTH_TYPES), default="none"
    )
    credentials: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    webhook_secret: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    last_commit: Mapped[str | None] = mapped_column(String(64))
    # {at, commit, drift, resources, error}
    last_scan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)


class GitSync(IdMixin, TimestampMixin, Base):
    """One sync of a repository at one commit: what git said (``errors``/``warnings`` of the
    loader, ``path:line: message``), the ``plan`` (per environment, each change with its fields),
    the change request it waited on, and ``results`` per resource (``applied``, ``failed`` with
    the server's error, or ``skipped``). ``dedupe`` is the commit for a pushed or polled sync, so
    each commit is synced once; a manual sync has a key of its own."""

    __tablename__ = "gitops_syncs"
    __table_args__ = (UniqueConstraint("repo_id", "dedupe"),)
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    repo_id: Mapped[uuid.UUID] = _fk("gitops_repos.id")
    dedupe: Mapped[str] = mapped_column(String(128))
    trigger: Mapped[str] = mapped_column(_enum("gitops_trigger", *GITOPS_TRIGGERS))
    ref: Mapped[str] = mapped_column(String(255), default="")
    commit: Mapped[str | None] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(512), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(
        _enum("gitops_sync_state", *GITOPS_SYNC_STATES), default="pending", index=True
    )
    plan: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    results: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    errors: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    warnings: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[uuid.UUID | None] = _fk(
        "change_requests.id", ondelete="SET NULL", nullable=True
    )
    operation_id: Mapped[uuid.UUID | None] = _fk(
        "operations.id", ondelete="SET NULL", nullable=True
    )
    requested_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GitWebhookDelivery(Base):
    """A webhook delivery already accepted for a repository: a replay of its id is ignored."""

    __tablename__ = "gitops_webhook_deliveries"
    repo_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("gitops_repos.id", ondelete="CASCADE"), primary_key=True
    )
    delivery_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    commit: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class GitDrift(IdMixin, TimestampMixin, Base):
    """One resource of one environment that differs from git, as the last scan found it.

    ``resource`` is ``kind:name`` or ``consumer:stream/name``; ``drift_type`` is ``changed``
    (``fields``: ``[{field, git, live}]`` in JetStream's field names), ``missing`` (in git, not on
    the cluster) or ``unmanaged`` (on the cluster in a managed namespace, not in git).
    ``changed_by`` is ``{source: "console" | "outside", actor, at, audit_id}``: the console's last
    audited change of the resource when there is one after the last sync, otherwise a change made
    outside the console. ``status`` is ``open``, ``ignored`` (until ``ignored_until``),
    ``reverting`` (a revert waits on ``remediation``) or ``resolved`` (no longer seen)."""

    __tablename__ = "gitops_drift"
    __table_args__ = (UniqueConstraint("repo_id", "environment", "resource"),)
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    repo_id: Mapped[uuid.UUID] = _fk("gitops_repos.id")
    environment: Mapped[str] = mapped_column(String(255))
    cluster_id: Mapped[uuid.UUID | None] = _fk(
        "nats_clusters.id", ondelete="SET NULL", nullable=True
    )
    resource: Mapped[str] = mapped_column(String(600))
    kind: Mapped[str] = mapped_column(String(32))
    stream: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    drift_type: Mapped[str] = mapped_column(_enum("gitops_drift_type", *GITOPS_DRIFT_TYPES))
    fields: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    source: Mapped[str] = mapped_column(String(1024), default="")  # path:line in git
    changed_by: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(
        _enum("gitops_drift_state", *GITOPS_DRIFT_STATES), default="open", index=True
    )
    ignored_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # {action, by, at, sync_id, branch}
    remediation: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
