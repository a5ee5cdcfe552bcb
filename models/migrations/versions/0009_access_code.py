"""the access code printed on a receipt, for the public status lookup

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("access_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True)
        )


def downgrade() -> None:
    """Undo this migration."""
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("access_code")
