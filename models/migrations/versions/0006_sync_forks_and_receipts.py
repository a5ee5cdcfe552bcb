"""sync forks, receipts and request nonces

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "syncfork",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("stored_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("offered_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("detected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("syncfork", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_syncfork_origin"), ["origin"], unique=False)
    op.create_table(
        "syncreceipt",
        sa.Column("peer", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("peer", "origin"),
    )

    op.create_table(
        "syncnonce",
        sa.Column("office", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("office", "nonce"),
    )
    with op.batch_alter_table("syncnonce", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_syncnonce_seen_at"), ["seen_at"], unique=False)


def downgrade() -> None:
    """Undo this migration."""
    with op.batch_alter_table("syncnonce", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syncnonce_seen_at"))
    op.drop_table("syncnonce")
    op.drop_table("syncreceipt")
    with op.batch_alter_table("syncfork", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syncfork_origin"))
    op.drop_table("syncfork")
