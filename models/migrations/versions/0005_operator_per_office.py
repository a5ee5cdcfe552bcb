"""operator user names unique per office

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _operator_table(name: str, key: tuple[str, ...]) -> None:
    op.create_table(
        name,
        sa.Column("office_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("public_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["office_code"], ["office.code"]),
        sa.PrimaryKeyConstraint(*key),
    )


def _move(key: tuple[str, ...]) -> None:
    """Recreate the operator table with primary key ``key`` (portable: copy, drop, rename)."""
    columns = "office_code, username, name, role, departments, key_id, public_key, active"
    _operator_table("operator_new", key)
    op.execute(f"INSERT INTO operator_new ({columns}) SELECT {columns} FROM operator")
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.drop_index("ix_operator_key_id")
    op.drop_table("operator")
    op.rename_table("operator_new", "operator")
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.create_index("ix_operator_key_id", ["key_id"], unique=False)


def upgrade() -> None:
    """Apply this migration."""
    _move(("office_code", "username"))


def downgrade() -> None:
    """Undo this migration."""
    _move(("username",))
