"""approval policies: versioned, per organization

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_policies",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("definition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_approval_policies_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_approval_policies_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_policies")),
        sa.UniqueConstraint("org_id", "name", "version", name=op.f("uq_approval_policies_org_id")),
    )
    op.create_index(
        op.f("ix_approval_policies_created_by"), "approval_policies", ["created_by"], unique=False
    )
    op.create_index(
        op.f("ix_approval_policies_org_id"), "approval_policies", ["org_id"], unique=False
    )
    op.create_index(
        op.f("ix_approval_policies_policy_id"), "approval_policies", ["policy_id"], unique=False
    )
    op.create_index(
        "uq_approval_policies_current",
        "approval_policies",
        ["policy_id"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )


def downgrade() -> None:
    op.drop_index("uq_approval_policies_current", table_name="approval_policies")
    op.drop_index(op.f("ix_approval_policies_policy_id"), table_name="approval_policies")
    op.drop_index(op.f("ix_approval_policies_org_id"), table_name="approval_policies")
    op.drop_index(op.f("ix_approval_policies_created_by"), table_name="approval_policies")
    op.drop_table("approval_policies")
