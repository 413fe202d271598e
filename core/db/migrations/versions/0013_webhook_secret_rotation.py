"""webhooks: the secret a rotation replaced, and until when it still signs deliveries

Revision ID: 0013_webhook_secret_rotation
Revises: 0012_ai
Create Date: 2026-11-29 02:50:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013_webhook_secret_rotation"
down_revision = "0012_ai"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhooks", sa.Column("previous_secret", postgresql.JSONB(), nullable=True))
    op.add_column(
        "webhooks", sa.Column("previous_valid_until", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("webhooks", "previous_valid_until")
    op.drop_column("webhooks", "previous_secret")
