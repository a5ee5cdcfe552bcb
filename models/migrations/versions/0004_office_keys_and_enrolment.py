"""office keys and enrolment

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("public_key", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("enrolled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    """Undo this migration."""
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("enrolled")
        batch_op.drop_column("public_key")
        batch_op.drop_column("key_id")
