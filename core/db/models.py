"""The application state in PostgreSQL, after the source design's schema (section 2.1), plus
``operations`` (the listing mirror of Temporal workflows).

Enumerations are stored as strings with CHECK constraints, so adding a value is a small migration.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base, IdMixin, TimestampMixin

ENVIRONMENTS = ("production", "staging", "development")
ORG_ROLES = ("admin", "editor", "viewer", "operator", "member")  # or a custom role's name
OPERATION_STATUSES = (
    "pending",
    "running",
    "paused",
    "waiting_approval",
    "completed",
    "failed",
    "cancelled",
)


def _enum(name: str, *values: str) -> Enum:
    return Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _fk(target: str, ondelete: str = "CASCADE", nullable: bool = False) -> Any:
    return mapped_column(ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True)


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    plan: Mapped[str] = mapped_column(
        _enum("org_plan", "free", "team", "enterprise"), default="free"
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    avatar_url: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(
        _enum("user_status", "active", "invited", "disabled"), default="active"
    )
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_secret: Mapped[str | None] = mapped_column(String(255))  # encrypted at rest
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OrganizationMember(IdMixin, Base):
    __tablename__ = "organization_members"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    user_id: Mapped[uuid.UUID] = _fk("users.id")
    role: Mapped[str] = mapped_column(String(64))  # a built-in role name or a custom role's name
    invited_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    organization: Mapped[Organization] = relationship(lazy="joined")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class Team(IdMixin, TimestampMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")


class TeamMember(IdMixin, Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)
    team_id: Mapped[uuid.UUID] = _fk("teams.id")
    user_id: Mapped[uuid.UUID] = _fk("users.id")
    role: Mapped[str] = mapped_column(_enum("team_role", "owner", "member"), default="member")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TeamNamespace(IdMixin, Base):
    """A stream-name prefix a team owns on one cluster: its members manage the streams (and their
    consumers) whose names start with it, when their role grants a permission with scope
    ``team``."""

    __tablename__ = "team_namespaces"
    __table_args__ = (UniqueConstraint("team_id", "cluster_id", "prefix"),)
    team_id: Mapped[uuid.UUID] = _fk("teams.id")
    cluster_id: Mapped[uuid.UUID] = _fk("nats_clusters.id")
    prefix: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Invitation(IdMixin, Base):
    """An invitation to join an organization with a role (and a team): only a digest of its token
    is kept; the token itself is answered once and accepted by ``POST /auth/register``."""

    __tablename__ = "invitations"
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[uuid.UUID | None] = _fk("teams.id", ondelete="SET NULL", nullable=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    invited_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NatsCluster(IdMixin, TimestampMixin, Base):
    __tablename__ = "nats_clusters"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    environment: Mapped[str] = mapped_column(_enum("environment", *ENVIRONMENTS))
    status: Mapped[str] = mapped_column(
        _enum("cluster_status", "unknown", "healthy", "degraded", "unreachable"), default="unknown"
    )
    version: Mapped[str | None] = mapped_column(String(64))
    jetstream_domain: Mapped[str | None] = mapped_column(String(255))
    monitoring_url: Mapped[str | None] = mapped_column(String(1024))
    # Who the server is by its own INFO (cluster or server name, JetStream domain), recorded when
    # the console first reaches it: two registrations of one server are judged as one.
    server_identity: Mapped[str | None] = mapped_column(String(512), index=True)

    connections: Mapped[list[ClusterConnection]] = relationship(
        back_populates="cluster",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ClusterConnection.position",
    )


class ClusterConnection(IdMixin, Base):
    """One server URL of a cluster. ``credentials`` and ``tls_config`` hold AES-256-GCM
    envelopes."""

    __tablename__ = "cluster_connections"
    cluster_id: Mapped[uuid.UUID] = _fk("nats_clusters.id")
    server_url: Mapped[str] = mapped_column(String(1024))
    position: Mapped[int] = mapped_column(Integer, default=0)
    credentials: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    tls_config: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    health_status: Mapped[str] = mapped_column(
        _enum("connection_health", "unknown", "healthy", "unreachable"), default="unknown"
    )
    last_health_check: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    cluster: Mapped[NatsCluster] = relationship(back_populates="connections")


class StreamConfig(IdMixin, TimestampMixin, Base):
    __tablename__ = "stream_configs"
    __table_args__ = (UniqueConstraint("cluster_id", "stream_name"),)
    cluster_id: Mapped[uuid.UUID] = _fk("nats_clusters.id")
    stream_name: Mapped[str] = mapped_column(String(255))
    config_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)
    is_managed: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class ConsumerConfig(IdMixin, TimestampMixin, Base):
    __tablename__ = "consumer_configs"
    __table_args__ = (UniqueConstraint("stream_config_id", "consumer_name"),)
    stream_config_id: Mapped[uuid.UUID] = _fk("stream_configs.id")
    consumer_name: Mapped[str] = mapped_column(String(255))
    config_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)
    is_managed: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Role(IdMixin, TimestampMixin, Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    org_id: Mapped[uuid.UUID | None] = _fk("organizations.id", nullable=True)  # None: built-in
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    is_system: Mapped[bool] = mapped_column(Boolean, default=False)


class Permission(IdMixin, Base):
    __tablename__ = "permissions"
    role_id: Mapped[uuid.UUID] = _fk("roles.id")
    resource: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)  # {"scope": "*"} etc.


class ApiKey(IdMixin, Base):
    __tablename__ = "api_keys"
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    user_id: Mapped[uuid.UUID] = _fk("users.id")
    name: Mapped[str] = mapped_column(String(255))
    key_hash: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    permissions: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)  # None: the setting


class Session(IdMixin, Base):
    """A login session: the family of its rotating refresh tokens (whose state lives in Redis)."""

    __tablename__ = "sessions"
    user_id: Mapped[uuid.UUID] = _fk("users.id")
    token_hash: Mapped[str] = mapped_column(String(128))  # hash of the current refresh token
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SavedQuery(IdMixin, TimestampMixin, Base):
    __tablename__ = "saved_queries"
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    user_id: Mapped[uuid.UUID] = _fk("users.id")
    name: Mapped[str] = mapped_column(String(255))
    query: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False)


class Dashboard(IdMixin, TimestampMixin, Base):
    __tablename__ = "dashboards"
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    user_id: Mapped[uuid.UUID] = _fk("users.id")
    name: Mapped[str] = mapped_column(String(255))
    layout: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    widgets: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False)


class AlertRule(IdMixin, TimestampMixin, Base):
    __tablename__ = "alert_rules"
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    cluster_id: Mapped[uuid.UUID | None] = _fk("nats_clusters.id", nullable=True)
    name: Mapped[str] = mapped_column(String(255))
    condition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    threshold: Mapped[dict[str, Any]] = mapped_column(JSONB)
    severity: Mapped[str] = mapped_column(_enum("alert_severity", "info", "warning", "critical"))
    channels: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cooldown_mins: Mapped[int] = mapped_column(Integer, default=15)


class Operation(IdMixin, TimestampMixin, Base):
    """The listing mirror of one Temporal workflow (Temporal holds the running state)."""

    __tablename__ = "operations"
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    type: Mapped[str] = mapped_column(String(64), index=True)
    workflow_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(_enum("operation_status", *OPERATION_STATUSES), index=True)
    progress: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    input: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    cluster_id: Mapped[uuid.UUID | None] = _fk(
        "nats_clusters.id", ondelete="SET NULL", nullable=True
    )
    started_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApprovalPolicyVersion(IdMixin, Base):
    """One version of an organization's approval policy (``core.policy.ApprovalPolicy`` dumped in
    ``definition``). A change adds a version and moves ``is_current``; nothing is overwritten. The
    versions of one policy share its ``name``; the id of the policy is that of its first version."""

    __tablename__ = "approval_policies"
    __table_args__ = (
        UniqueConstraint("org_id", "name", "version"),
        Index(
            "uq_approval_policies_current",
            "policy_id",
            unique=True,
            postgresql_where=text("is_current"),
        ),
    )
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    policy_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


CHANGE_STATUSES = (
    "waiting_approval",
    "approved",
    "executing",
    "executed",
    "failed",
    "rejected",
    "withdrawn",
    "changes_requested",
    "auto_approved",
    "auto_rejected",
)


class ChangeRequestRow(IdMixin, TimestampMixin, Base):
    """One typed change request (``core.changes.ChangeSpec`` in ``spec``) and where it stands.
    ``votes`` mirrors the approval workflow's decisions; the workflow is the source of truth while
    it waits, this row is what the API lists and keeps afterwards."""

    __tablename__ = "change_requests"
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    kind: Mapped[str] = mapped_column(String(32), index=True)
    operation: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(_enum("change_status", *CHANGE_STATUSES), index=True)
    cluster_id: Mapped[uuid.UUID | None] = _fk(
        "nats_clusters.id", ondelete="SET NULL", nullable=True
    )
    team_id: Mapped[uuid.UUID | None] = _fk("teams.id", ondelete="SET NULL", nullable=True)
    environment: Mapped[str | None] = mapped_column(String(32))
    requester_id: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)
    requester_email: Mapped[str] = mapped_column(String(320), default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSONB)
    diff: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    justification: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[dict[str, Any]] = mapped_column(JSONB)  # core.policy.Decision
    risk_notes: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    # The assistant's written risk summary, when a model is configured: {text, model, at}.
    risk_summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    votes: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    operation_id: Mapped[uuid.UUID | None] = _fk(
        "operations.id", ondelete="SET NULL", nullable=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


QUOTA_RESOURCES = (
    "streams",
    "consumers",
    "storage_bytes",
    "messages",
    "max_msg_size",
    "max_replicas",
    "inbound_rate",
    "outbound_rate",
)


class TeamQuota(IdMixin, Base):
    """One limit of a team; a quota without a row is unlimited."""

    __tablename__ = "team_quotas"
    __table_args__ = (UniqueConstraint("team_id", "resource"),)
    team_id: Mapped[uuid.UUID] = _fk("teams.id")
    resource: Mapped[str] = mapped_column(_enum("quota_resource", *QUOTA_RESOURCES))
    limit: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class QuotaHistory(IdMixin, Base):
    """A change of one team limit. ``request_id`` (the natural key of an applied request) makes
    applying a request twice write one row."""

    __tablename__ = "quota_history"
    __table_args__ = (UniqueConstraint("request_id", "resource"),)
    team_id: Mapped[uuid.UUID] = _fk("teams.id")
    resource: Mapped[str] = mapped_column(String(32))
    before: Mapped[int | None] = mapped_column(BigInteger)
    after: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))  # requested, set_by_admin
    request_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    changed_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)
    changed_by_email: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Webhook(IdMixin, TimestampMixin, Base):
    """An outgoing webhook of an organization for request events; ``secret`` is an AES-256-GCM
    envelope of the HMAC-SHA256 signing secret. After a rotation, ``previous_secret`` (sealed the
    same way) is the secret it replaced, which also signs deliveries until
    ``previous_valid_until`` (``core.notify.delivery.rotate_secret``)."""

    __tablename__ = "webhooks"
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[dict[str, Any]] = mapped_column(JSONB)
    previous_secret: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    previous_valid_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    events: Mapped[list[Any]] = mapped_column(JSONB, default=list)  # empty: every event
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)


MIRROR_STATES = ("creating", "active", "paused", "promoted", "removed", "failed")


class Mirror(IdMixin, TimestampMixin, Base):
    """A mirror the console created: ``target_stream`` on ``target_cluster_id`` copies
    ``source_stream`` of ``source_cluster_id`` through the durable consumer ``consumer_name`` on
    the source (so replication can be paused and resumed where it stood). ``spec`` is the
    request it was made from (``core.replication.models.MirrorRequest``). Mirrors found on the
    clusters but made elsewhere have no row: the replication map finds them there."""

    __tablename__ = "mirrors"
    __table_args__ = (UniqueConstraint("target_cluster_id", "target_stream"),)
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    source_cluster_id: Mapped[uuid.UUID] = _fk("nats_clusters.id")
    source_stream: Mapped[str] = mapped_column(String(255))
    target_cluster_id: Mapped[uuid.UUID] = _fk("nats_clusters.id")
    target_stream: Mapped[str] = mapped_column(String(255))
    consumer_name: Mapped[str | None] = mapped_column(String(255))
    deliver_subject: Mapped[str | None] = mapped_column(String(255))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    state: Mapped[str] = mapped_column(_enum("mirror_state", *MIRROR_STATES), default="creating")
    pair_id: Mapped[uuid.UUID | None] = _fk("dr_pairs.id", ondelete="SET NULL", nullable=True)
    operation_id: Mapped[uuid.UUID | None] = _fk(
        "operations.id", ondelete="SET NULL", nullable=True
    )
    created_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)


class DrPair(IdMixin, TimestampMixin, Base):
    """A disaster-recovery pair: ``streams`` (``[{stream, mirror_stream}]``) of
    ``primary_cluster_id`` are protected by mirrors on ``standby_cluster_id``, with the team's
    objectives. ``active_cluster_id`` is the side clients write to now (the primary until a
    failover); ``last_drill`` and ``last_failover`` are the results of the latest of each."""

    __tablename__ = "dr_pairs"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    primary_cluster_id: Mapped[uuid.UUID] = _fk("nats_clusters.id")
    standby_cluster_id: Mapped[uuid.UUID] = _fk("nats_clusters.id")
    active_cluster_id: Mapped[uuid.UUID] = _fk("nats_clusters.id")
    streams: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    rpo_seconds: Mapped[float] = mapped_column(Float, default=5)
    rto_seconds: Mapped[float] = mapped_column(Float, default=30)
    last_drill: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    last_failover: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)


BACKUP_KINDS = ("full", "incremental")
BACKUP_STATES = ("running", "completed", "failed")
BACKUP_ITEM_STATES = ("pending", "running", "done", "failed")


class BackupSchedule(IdMixin, TimestampMixin, Base):
    """Backups taken on a Temporal schedule: the ``streams`` of ``cluster_id`` (every stream when
    empty, or the streams of ``team_id``'s namespaces) to ``target``, a full backup on ``full``
    (``{cron | every, retention_days}``) and, optionally, incremental ones on ``incremental``.
    The Temporal schedules are named after the row (``core.backups.schedules``)."""

    __tablename__ = "backup_schedules"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    name: Mapped[str] = mapped_column(String(255))
    cluster_id: Mapped[uuid.UUID] = _fk("nats_clusters.id")
    team_id: Mapped[uuid.UUID | None] = _fk("teams.id", nullable=True)
    streams: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    target: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    full: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    incremental: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_run: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)


class Backup(IdMixin, TimestampMixin, Base):
    """One backup of some streams of ``cluster_id``, stored at ``target`` (``{"type":
    "object_store", "cluster_id", "bucket"}`` or ``{"type": "directory", "directory"}``), one
    ``BackupItem`` per stream. ``verification`` is ``{status: pending | verified | failed,
    checked_at, details}``: the result of restoring it into a temporary stream."""

    __tablename__ = "backups"
    org_id: Mapped[uuid.UUID] = _fk("organizations.id")
    cluster_id: Mapped[uuid.UUID] = _fk("nats_clusters.id")
    team_id: Mapped[uuid.UUID | None] = _fk("teams.id", ondelete="SET NULL", nullable=True)
    schedule_id: Mapped[uuid.UUID | None] = _fk(
        "backup_schedules.id", ondelete="SET NULL", nullable=True
    )
    kind: Mapped[str] = mapped_column(_enum("backup_kind", *BACKUP_KINDS))
    reason: Mapped[str] = mapped_column(String(32), default="manual")
    target: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(_enum("backup_state", *BACKUP_STATES), default="running")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    source_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    message_count: Mapped[int] = mapped_column(BigInteger, default=0)
    stream_count: Mapped[int] = mapped_column(Integer, default=0)
    verification: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    operation_id: Mapped[uuid.UUID | None] = _fk(
        "operations.id", ondelete="SET NULL", nullable=True
    )
    created_by: Mapped[uuid.UUID | None] = _fk("users.id", ondelete="SET NULL", nullable=True)


class BackupItem(IdMixin, TimestampMixin, Base):
    """One stream of a backup. A ``full`` item is the server's snapshot of the stream; an
    ``incremental`` one holds the messages after ``base_item_id``'s ``last_seq`` up to its own.
    ``config``/``state``/``consumers`` are the stream's as they were at backup time; ``attempt``
    counts the snapshots taken (a server snapshot cannot be continued, only taken again)."""

    __tablename__ = "backup_items"
    __table_args__ = (UniqueConstraint("backup_id", "stream"),)
    backup_id: Mapped[uuid.UUID] = _fk("backups.id")
    stream: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(_enum("backup_item_kind", *BACKUP_KINDS))
    base_item_id: Mapped[uuid.UUID | None] = _fk(
        "backup_items.id", ondelete="SET NULL", nullable=True
    )
    status: Mapped[str] = mapped_column(
        _enum("backup_item_state", *BACKUP_ITEM_STATES), default="pending"
    )
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    first_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)
    source_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    state: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    consumers: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    checksum: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BackupChunk(Base):
    """A stored chunk of a backup item (``key`` at the backup's target), its size and SHA-256,
    written once the target holds it; ``last_seq`` is the last message sequence it carries
    (incremental items resume after it)."""

    __tablename__ = "backup_chunks"
    item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("backup_items.id", ondelete="CASCADE"), primary_key=True
    )
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


# GitOps models live in a module of their own; importing it registers them on the same metadata.
# Alert rules' evaluation state, likewise.
from core.db import (  # noqa: E402
    ai_models,  # noqa: F401
    alert_models,  # noqa: F401
    gitops_models,  # noqa: F401
)
