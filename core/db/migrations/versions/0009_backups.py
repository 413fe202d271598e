"""backups: schedules, backups, their per-stream items and stored chunks; the seeded
"Production Changes" policy, where nobody changed it, also governs restores over a stream

Revision ID: 0009_backups
Revises: 0008_replication
Create Date: 2026-11-28 13:00:00
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core.db.policy_kinds import govern_new_kinds

revision = "0009_backups"
down_revision = "0008_replication"
branch_labels = None
depends_on = None

SEEDED_KINDS = [
    "stream",
    "consumer",
    "kv_bucket",
    "object_store",
    "purge",
    "replay",
    "mirror",
    "failover",
]
NEW_KINDS = SEEDED_KINDS + ["restore"]


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
        "backup_schedules",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("org_id", "organizations.id"),
        sa.Column("name", sa.String(255), nullable=False),
        _fk("cluster_id", "nats_clusters.id"),
        _fk("team_id", "teams.id", "CASCADE", True),
        sa.Column("streams", postgresql.JSONB(), nullable=False),
        sa.Column("target", postgresql.JSONB(), nullable=False),
        sa.Column("full", postgresql.JSONB(), nullable=False),
        sa.Column("incremental", postgresql.JSONB(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("last_run", postgresql.JSONB(), nullable=True),
        _fk("created_by", "users.id", "SET NULL", True),
        *_timestamps(),
        sa.UniqueConstraint("org_id", "name", name="uq_backup_schedules_org_id"),
    )
    _indexes("backup_schedules", "org_id", "cluster_id", "team_id", "created_by")
    op.create_table(
        "backups",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("org_id", "organizations.id"),
        _fk("cluster_id", "nats_clusters.id"),
        _fk("team_id", "teams.id", "SET NULL", True),
        _fk("schedule_id", "backup_schedules.id", "SET NULL", True),
        sa.Column("kind", _enum("backup_kind", "full", "incremental"), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False, server_default="manual"),
        sa.Column("target", postgresql.JSONB(), nullable=False),
        sa.Column(
            "status", _enum("backup_state", "running", "completed", "failed"), nullable=False
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("source_bytes", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("message_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("stream_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("verification", postgresql.JSONB(), nullable=False),
        _fk("operation_id", "operations.id", "SET NULL", True),
        _fk("created_by", "users.id", "SET NULL", True),
        *_timestamps(),
    )
    _indexes(
        "backups", "org_id", "cluster_id", "team_id", "schedule_id", "operation_id", "created_by"
    )
    op.create_table(
        "backup_items",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _fk("backup_id", "backups.id"),
        sa.Column("stream", sa.String(255), nullable=False),
        sa.Column("kind", _enum("backup_item_kind", "full", "incremental"), nullable=False),
        _fk("base_item_id", "backup_items.id", "SET NULL", True),
        sa.Column(
            "status",
            _enum("backup_item_state", "pending", "running", "done", "failed"),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("messages", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("source_bytes", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("config", postgresql.JSONB(), nullable=False),
        sa.Column("state", postgresql.JSONB(), nullable=False),
        sa.Column("consumers", postgresql.JSONB(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.UniqueConstraint("backup_id", "stream", name="uq_backup_items_backup_id"),
    )
    _indexes("backup_items", "backup_id", "base_item_id")
    op.create_table(
        "backup_chunks",
        sa.Column(
            "item_id",
            sa.Uuid(),
            sa.ForeignKey("backup_items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("attempt", sa.Integer(), primary_key=True),
        sa.Column("n", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default="0"),
    )
    govern_new_kinds(op.get_bind(), SEEDED_KINDS, NEW_KINDS)


def downgrade() -> None:
    op.drop_table("backup_chunks")
    op.drop_table("backup_items")
    op.drop_table("backups")
    op.drop_table("backup_schedules")
