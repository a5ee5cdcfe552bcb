"""case events in their agreed order (convergence across levels)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "caseevent",
        sa.Column("tracking_no", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("order_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.PrimaryKeyConstraint("tracking_no", "order_key"),
    )


def downgrade() -> None:
    """Undo this migration."""
    op.drop_table("caseevent")
