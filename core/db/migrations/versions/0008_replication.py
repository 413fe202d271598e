"""replication: the mirrors the console creates and the disaster-recovery pairs; the seeded
"Production Changes" policy, where nobody changed it, also governs mirrors and failovers

Revision ID: 0008_replication
Revises: 0007_approver_ids
Create Date: 2026-11-28 10:00:00
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core.db.policy_kinds import govern_new_kinds

revision = "0008_replication"
down_revision = "0007_approver_ids"
branch_labels = None
depends_on = None

SEEDED_KINDS = ["stream", "consumer", "kv_bucket", "object_store", "purge", "replay"]
NEW_KINDS = SEEDED_KINDS + ["mirror", "failover"]


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


def upgrade() -> None:
    op.create_table(
        "dr_pairs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("org_id", "organizations.id"),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        _fk("primary_cluster_id", "nats_clusters.id"),
        _fk("standby_cluster_id", "nats_clusters.id"),
        _fk("active_cluster_id", "nats_clusters.id"),
        sa.Column("streams", postgresql.JSONB(), nullable=False),
        sa.Column("rpo_seconds", sa.Float(), nullable=False),
        sa.Column("rto_seconds", sa.Float(), nullable=False),
        sa.Column("last_drill", postgresql.JSONB(), nullable=True),
        sa.Column("last_failover", postgresql.JSONB(), nullable=True),
        _fk("created_by", "users.id", "SET NULL", True),
        *_timestamps(),
        sa.UniqueConstraint("org_id", "name", name="uq_dr_pairs_org_id"),
    )
    for column in (
        "org_id",
        "primary_cluster_id",
        "standby_cluster_id",
        "active_cluster_id",
        "created_by",
    ):
        op.create_index(f"ix_dr_pairs_{column}", "dr_pairs", [column])
    op.create_table(
        "mirrors",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("org_id", "organizations.id"),
        _fk("source_cluster_id", "nats_clusters.id"),
        sa.Column("source_stream", sa.String(255), nullable=False),
        _fk("target_cluster_id", "nats_clusters.id"),
        sa.Column("target_stream", sa.String(255), nullable=False),
        sa.Column("consumer_name", sa.String(255), nullable=True),
        sa.Column("deliver_subject", sa.String(255), nullable=True),
        sa.Column("spec", postgresql.JSONB(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "creating",
                "active",
                "paused",
                "promoted",
                "removed",
                "failed",
                name="mirror_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        _fk("pair_id", "dr_pairs.id", "SET NULL", True),
        _fk("operation_id", "operations.id", "SET NULL", True),
        _fk("created_by", "users.id", "SET NULL", True),
        *_timestamps(),
        sa.UniqueConstraint(
            "target_cluster_id", "target_stream", name="uq_mirrors_target_cluster_id"
        ),
    )
    for column in (
        "org_id",
        "source_cluster_id",
        "target_cluster_id",
        "pair_id",
        "operation_id",
        "created_by",
    ):
        op.create_index(f"ix_mirrors_{column}", "mirrors", [column])
    _govern_new_kinds()


def _govern_new_kinds() -> None:
    """A new version of each current, unchanged seeded "Production Changes" policy, whose kinds
    include mirror and failover: a production failover passes the change gate like the rest."""
    govern_new_kinds(op.get_bind(), SEEDED_KINDS, NEW_KINDS)


def downgrade() -> None:
    op.drop_table("mirrors")
    op.drop_table("dr_pairs")
