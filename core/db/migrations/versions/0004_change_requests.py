"""change requests, team quotas, webhooks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:16:50.057718
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("events", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_webhooks_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_webhooks_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(op.f("ix_webhooks_created_by"), "webhooks", ["created_by"], unique=False)
    op.create_index(op.f("ix_webhooks_org_id"), "webhooks", ["org_id"], unique=False)
    op.create_table(
        "quota_history",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("before", sa.BigInteger(), nullable=True),
        sa.Column("after", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column("changed_by_email", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["users.id"],
            name=op.f("fk_quota_history_changed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_quota_history_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_history")),
        sa.UniqueConstraint("request_id", "resource", name=op.f("uq_quota_history_request_id")),
    )
    op.create_index(
        op.f("ix_quota_history_changed_by"), "quota_history", ["changed_by"], unique=False
    )
    op.create_index(op.f("ix_quota_history_team_id"), "quota_history", ["team_id"], unique=False)
    op.create_table(
        "team_quotas",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column(
            "resource",
            sa.Enum(
                "streams",
                "consumers",
                "storage_bytes",
                "messages",
                "max_msg_size",
                "max_replicas",
                "inbound_rate",
                "outbound_rate",
                name="quota_resource",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("limit", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_quotas_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_team_quotas_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_quotas")),
        sa.UniqueConstraint("team_id", "resource", name=op.f("uq_team_quotas_team_id")),
    )
    op.create_index(op.f("ix_team_quotas_team_id"), "team_quotas", ["team_id"], unique=False)
    op.create_index(op.f("ix_team_quotas_updated_by"), "team_quotas", ["updated_by"], unique=False)
    op.create_table(
        "change_requests",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
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
                name="change_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("cluster_id", sa.Uuid(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("environment", sa.String(length=32), nullable=True),
        sa.Column("requester_id", sa.Uuid(), nullable=True),
        sa.Column("requester_email", sa.String(length=320), nullable=False),
        sa.Column("spec", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("diff", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("decision", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("risk_notes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("votes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("operation_id", sa.Uuid(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["nats_clusters.id"],
            name=op.f("fk_change_requests_cluster_id_nats_clusters"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name=op.f("fk_change_requests_operation_id_operations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_change_requests_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["users.id"],
            name=op.f("fk_change_requests_requester_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_change_requests_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_requests")),
    )
    op.create_index(
        op.f("ix_change_requests_cluster_id"), "change_requests", ["cluster_id"], unique=False
    )
    op.create_index(op.f("ix_change_requests_kind"), "change_requests", ["kind"], unique=False)
    op.create_index(
        op.f("ix_change_requests_operation_id"), "change_requests", ["operation_id"], unique=False
    )
    op.create_index(op.f("ix_change_requests_org_id"), "change_requests", ["org_id"], unique=False)
    op.create_index(
        op.f("ix_change_requests_requester_id"), "change_requests", ["requester_id"], unique=False
    )
    op.create_index(op.f("ix_change_requests_status"), "change_requests", ["status"], unique=False)
    op.create_index(
        op.f("ix_change_requests_team_id"), "change_requests", ["team_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_change_requests_team_id"), table_name="change_requests")
    op.drop_index(op.f("ix_change_requests_status"), table_name="change_requests")
    op.drop_index(op.f("ix_change_requests_requester_id"), table_name="change_requests")
    op.drop_index(op.f("ix_change_requests_org_id"), table_name="change_requests")
    op.drop_index(op.f("ix_change_requests_operation_id"), table_name="change_requests")
    op.drop_index(op.f("ix_change_requests_kind"), table_name="change_requests")
    op.drop_index(op.f("ix_change_requests_cluster_id"), table_name="change_requests")
    op.drop_table("change_requests")
    op.drop_index(op.f("ix_team_quotas_updated_by"), table_name="team_quotas")
    op.drop_index(op.f("ix_team_quotas_team_id"), table_name="team_quotas")
    op.drop_table("team_quotas")
    op.drop_index(op.f("ix_quota_history_team_id"), table_name="quota_history")
    op.drop_index(op.f("ix_quota_history_changed_by"), table_name="quota_history")
    op.drop_table("quota_history")
    op.drop_index(op.f("ix_webhooks_org_id"), table_name="webhooks")
    op.drop_index(op.f("ix_webhooks_created_by"), table_name="webhooks")
    op.drop_table("webhooks")
