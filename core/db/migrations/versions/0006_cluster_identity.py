"""cluster identity: who a registered server is by its own INFO (cluster or server name and
JetStream domain), so two registrations of one server are judged by the strictest environment

Revision ID: 0006_cluster_identity
Revises: 0005_outbox
Create Date: 2026-11-28 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_cluster_identity"
down_revision = "0005_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "nats_clusters", sa.Column("server_identity", sa.String(length=512), nullable=True)
    )
    op.create_index(
        op.f("ix_nats_clusters_server_identity"), "nats_clusters", ["server_identity"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_nats_clusters_server_identity"), table_name="nats_clusters")
    op.drop_column("nats_clusters", "server_identity")
