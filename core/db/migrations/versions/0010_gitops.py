"""gitops: repositories, their syncs, accepted webhook deliveries and drift

Revision ID: 0010_gitops
Revises: 0009_backups
Create Date: 2026-11-28 16:00:00
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_gitops"
down_revision = "0009_backups"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def _fk(
    name: str, target: str, ondelete: str = "CASCADE", nullable: bool = False
) -> sa.Column[Any]:
    return sa.Column(name, sa.Uuid(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    op.create_table(
        "gitops_repos",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("org_id", "organizations.id"),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("branch", sa.String(255), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("environments", postgresql.JSONB(), nullable=False),
        sa.Column("sync", _enum("gitops_sync_mode", "auto", "manual"), nullable=False),
        sa.Column("prune", _enum("gitops_prune_mode", "never", "with_approval"), nullable=False),
        sa.Column("on_drift", _enum("gitops_drift_mode", "report", "revert"), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("namespaces", postgresql.JSONB(), nullable=False),
        sa.Column(
            "auth_type", _enum("gitops_auth_type", "none", "token", "ssh_key"), nullable=False
        ),
        sa.Column("credentials", postgresql.JSONB(), nullable=True),
        sa.Column("webhook_secret", postgresql.JSONB(), nullable=True),
        sa.Column("last_commit", sa.String(64), nullable=True),
        sa.Column("last_scan", postgresql.JSONB(), nullable=True),
        _fk("created_by", "users.id", "SET NULL", True),
        *_timestamps(),
        sa.UniqueConstraint("org_id", "name", name="uq_gitops_repos_org_id"),
    )
    _indexes("gitops_repos", "org_id", "created_by")
    op.create_table(
        "gitops_syncs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("org_id", "organizations.id"),
        _fk("repo_id", "gitops_repos.id"),
        sa.Column("dedupe", sa.String(128), nullable=False),
        sa.Column(
            "trigger",
            _enum("gitops_trigger", "webhook", "manual", "poll", "drift_revert"),
            nullable=False,
        ),
        sa.Column("ref", sa.String(255), nullable=False),
        sa.Column("commit", sa.String(64), nullable=True),
        sa.Column("author", sa.String(512), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "status",
            _enum(
                "gitops_sync_state",
                "pending",
                "running",
                "waiting_approval",
                "applying",
                "succeeded",
                "no_changes",
                "partially_applied",
                "failed",
                "rejected",
            ),
            nullable=False,
        ),
        sa.Column("plan", postgresql.JSONB(), nullable=False),
        sa.Column("results", postgresql.JSONB(), nullable=False),
        sa.Column("errors", postgresql.JSONB(), nullable=False),
        sa.Column("warnings", postgresql.JSONB(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _fk("request_id", "change_requests.id", "SET NULL", True),
        _fk("operation_id", "operations.id", "SET NULL", True),
        _fk("requested_by", "users.id", "SET NULL", True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.UniqueConstraint("repo_id", "dedupe", name="uq_gitops_syncs_repo_id"),
    )
    _indexes(
        "gitops_syncs",
        "org_id",
        "repo_id",
        "commit",
        "status",
        "request_id",
        "operation_id",
        "requested_by",
    )
    op.create_table(
        "gitops_webhook_deliveries",
        sa.Column(
            "repo_id",
            sa.Uuid(),
            sa.ForeignKey("gitops_repos.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("delivery_id", sa.String(255), primary_key=True),
        sa.Column("commit", sa.String(64), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.create_table(
        "gitops_drift",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("org_id", "organizations.id"),
        _fk("repo_id", "gitops_repos.id"),
        sa.Column("environment", sa.String(255), nullable=False),
        _fk("cluster_id", "nats_clusters.id", "SET NULL", True),
        sa.Column("resource", sa.String(600), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("stream", sa.String(255), nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column(
            "drift_type",
            _enum("gitops_drift_type", "changed", "missing", "unmanaged"),
            nullable=False,
        ),
        sa.Column("fields", postgresql.JSONB(), nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("changed_by", postgresql.JSONB(), nullable=False),
        sa.Column(
            "status",
            _enum("gitops_drift_state", "open", "ignored", "reverting", "resolved"),
            nullable=False,
        ),
        sa.Column("ignored_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remediation", postgresql.JSONB(), nullable=True),
        sa.Column(
            "first_seen",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        *_timestamps(),
        sa.UniqueConstraint("repo_id", "environment", "resource", name="uq_gitops_drift_repo_id"),
    )
    _indexes("gitops_drift", "org_id", "repo_id", "cluster_id", "status")


def downgrade() -> None:
    op.drop_table("gitops_drift")
    op.drop_table("gitops_webhook_deliveries")
    op.drop_table("gitops_syncs")
    op.drop_table("gitops_repos")
