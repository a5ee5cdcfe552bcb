"""office demo flag

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 07:45:09.042135
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Undo this migration."""
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.drop_column("demo")
